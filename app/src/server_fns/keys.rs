//! Settings → Signing keys (admins): the keys that sign this server's access tokens. Read
//! only: they are shared by every tenant of the server, so the operator rotates them with
//! `keyport keys rotate`.

use leptos::prelude::*;

use crate::{error::AppError, model::keys::SigningKeyView};

#[server]
pub async fn list_signing_keys() -> Result<Vec<SigningKeyView>, AppError> {
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    Ok(crate::services::keys::list_signing_keys(&state.db, &by, now).await?)
}
