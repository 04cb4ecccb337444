//! Settings → Signing keys (admins): the keys that sign this server's access tokens. Read
//! only: they are shared by every tenant of the server, so the operator rotates them with
//! `keyport keys rotate`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Where a published key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    /// Signs the tokens issued now.
    Signing,
    /// Published ahead of a rotation; signs from its `active_from`.
    Next,
    /// Signs no more; published until `publish_until` so its tokens still verify.
    Retired,
    /// Published, neither signing nor retired (a newer key took over without retiring it).
    Standby,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKeyView {
    pub kid: String,
    pub alg: String,
    pub state: KeyState,
    pub created_at: i64,
    pub active_from: i64,
    pub publish_until: Option<i64>,
}

#[server]
pub async fn list_signing_keys() -> Result<Vec<SigningKeyView>, AppError> {
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    Ok(crate::services::keys::list_signing_keys(&state.db, &by, now).await?)
}
