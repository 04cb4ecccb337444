//! What the consent page and the Connected apps screen show (SPEC §3a).

use serde::{Deserialize, Serialize};

/// One scope as a person is asked for it: its name and what it lets the app do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeView {
    pub name: String,
    pub description: String,
}

/// The question the consent page asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentView {
    pub app_name: String,
    /// The tenant that registered the app.
    pub tenant_name: String,
    /// Whether the app belongs to a tenant the person is a member of.
    pub yours: bool,
    pub scopes: Vec<ScopeView>,
    /// The host the answer goes to, so the person sees where they are sent.
    pub redirect_host: String,
}

/// What the consent page does with a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsentStep {
    /// Ask the person.
    Ask(ConsentView),
    /// The app may not have what it asks of this person (a private app and an outsider): say
    /// why, and offer the way back to the app with the error it is owed.
    Refused { message: String, back_to: String },
}

/// An app a person has authorised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedAppView {
    pub client_id: String,
    pub app_name: String,
    pub tenant_name: String,
    pub scopes: Vec<String>,
    pub granted_at: i64,
    pub last_used_at: Option<i64>,
}
