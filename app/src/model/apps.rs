//! Apps and their secrets as the portal and the REST API show them. Plaintext secrets appear
//! only in [`NewSecret`], the answer to creating or refreshing one.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Private,
    Public,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    Confidential,
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
        }
    }
    pub fn parse(value: &str) -> Option<Visibility> {
        match value {
            "private" => Some(Visibility::Private),
            "public" => Some(Visibility::Public),
            _ => None,
        }
    }
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Confidential => "confidential",
            ClientType::Public => "public",
        }
    }
    pub fn parse(value: &str) -> Option<ClientType> {
        match value {
            "confidential" => Some(ClientType::Confidential),
            "public" => Some(ClientType::Public),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppView {
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    pub client_type: ClientType,
    pub tool: bool,
    pub callback_url: Option<String>,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
    pub audiences: Vec<String>,
    pub token_lifetime_secs: i64,
    /// The `grant_type` values it may use, in `domain::grant_types` order.
    pub grant_types: Vec<String>,
    /// Switched off: its credentials do not work.
    pub disabled: bool,
    /// Switched off by an admin: only an admin may switch it back on.
    pub disabled_by_admin: bool,
    pub owner_id: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretView {
    pub id: String,
    pub description: String,
    pub prefix: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub grace_until: Option<i64>,
    /// As of when the server read it.
    pub status: crate::domain::app_rules::SecretStatus,
}

/// A secret's plaintext, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewSecret {
    pub secret: SecretView,
    pub plaintext: String,
}

/// A row of the Apps list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSummary {
    pub app: AppView,
    pub active_secrets: usize,
    pub soonest_expiry: Option<i64>,
    /// The soonest expiry is within the warning period, as of when the server read it.
    pub expiring_soon: bool,
    /// How many people have authorised the app (signed in to it and allowed it).
    pub authorised_by: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedAppView {
    pub app: AppView,
    pub first_secret: Option<NewSecret>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityView {
    pub at: i64,
    pub action: String,
    pub actor: String,
}
