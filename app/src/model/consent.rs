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
    /// The tenants the app may act in for the person (the token's `tenant`), the default
    /// first; the page lets them choose when there is more than one.
    pub acting: Vec<TenantChoice>,
}

/// A tenant the person may let an app act in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantChoice {
    pub id: String,
    pub name: String,
}

/// What the authorization endpoint shows instead of sending the browser on (SPEC §3a).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthorizeNotice {
    /// The client or its redirect URI cannot be trusted: there is nowhere safe to send anyone.
    Refused { message: String },
    /// An error the app is owed, for someone not known to trust the app: where it would go,
    /// and one link there.
    ReturnToApp {
        app_name: String,
        host: String,
        description: String,
        url: String,
    },
}

/// What the consent page does with a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsentStep {
    /// Ask the person.
    Ask(ConsentView),
    /// The app may not have what it asks of this person (a private app and an outsider): say
    /// why, and offer the way back to the app with the error it is owed.
    Refused {
        app_name: String,
        /// The callback's host, named beside the link.
        host: String,
        message: String,
        back_to: String,
    },
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
