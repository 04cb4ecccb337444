//! The keys that sign access tokens, as Settings → Signing keys shows them.

use serde::{Deserialize, Serialize};

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
