//! What making or changing an app takes, and the rules a draft must meet before it is stored.

use crate::{
    domain::{
        FieldError,
        app_rules::{AppName, DEFAULT_TOKEN_LIFETIME_SECS, check_token_lifetime},
        callback::CallbackUrl,
    },
    model::apps::{AppView, ClientType, Visibility},
    services::ServiceError,
};

/// What creating an app takes (the portal's Basic info, the API's body).
#[derive(Debug, Clone)]
pub struct AppDraft {
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    pub client_type: ClientType,
    pub tool: bool,
    pub callback_url: Option<String>,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
    pub token_lifetime_secs: i64,
    /// Audiences the app may ask tokens for besides its tenant's default.
    pub audiences: Vec<String>,
}

impl AppDraft {
    /// An app with nothing chosen but its name: private, confidential (so it gets a first
    /// secret), not a tool client, no callback URL, scopes, roles or extra audiences, and
    /// tokens that live the default hour. The portal, the REST API and the command line all
    /// start from here, so an app's defaults do not depend on where it was made.
    pub fn new(name: impl Into<String>) -> AppDraft {
        AppDraft {
            name: name.into(),
            description: String::new(),
            visibility: Visibility::Private,
            client_type: ClientType::Confidential,
            tool: false,
            callback_url: None,
            scopes: Vec::new(),
            roles: Vec::new(),
            token_lifetime_secs: DEFAULT_TOKEN_LIFETIME_SECS,
            audiences: Vec::new(),
        }
    }
}

/// What a change of an app changes; a field left `None` keeps its value. The client id,
/// client type, tool flag and owner are fixed when the app is made.
#[derive(Debug, Clone, Default)]
pub struct AppChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<Visibility>,
    /// `Some(None)` removes the callback URL.
    pub callback_url: Option<Option<String>>,
    pub scopes: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    pub audiences: Option<Vec<String>>,
    pub token_lifetime_secs: Option<i64>,
}

impl AppChanges {
    pub(super) fn apply_to(self, current: AppDraft) -> AppDraft {
        AppDraft {
            name: self.name.unwrap_or(current.name),
            description: self.description.unwrap_or(current.description),
            visibility: self.visibility.unwrap_or(current.visibility),
            callback_url: self.callback_url.unwrap_or(current.callback_url),
            scopes: self.scopes.unwrap_or(current.scopes),
            roles: self.roles.unwrap_or(current.roles),
            audiences: self.audiences.unwrap_or(current.audiences),
            token_lifetime_secs: self
                .token_lifetime_secs
                .unwrap_or(current.token_lifetime_secs),
            ..current
        }
    }
}

/// The draft that would make `app` as it is now.
pub(super) fn draft_of(app: AppView) -> AppDraft {
    AppDraft {
        name: app.name,
        description: app.description,
        visibility: app.visibility,
        client_type: app.client_type,
        tool: app.tool,
        callback_url: app.callback_url,
        scopes: app.scopes,
        roles: app.roles,
        token_lifetime_secs: app.token_lifetime_secs,
        audiences: app.audiences,
    }
}

pub(super) fn validate(draft: &AppDraft) -> Result<(AppName, Option<CallbackUrl>), ServiceError> {
    let name = AppName::parse(&draft.name)?;
    if draft.description.chars().count() > 1000 {
        return Err(
            FieldError::new("description", "Descriptions are at most 1000 characters.").into(),
        );
    }
    let callback = match draft.callback_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(url) => Some(CallbackUrl::parse(url)?),
    };
    check_token_lifetime(draft.token_lifetime_secs)?;
    if draft.tool && draft.client_type == ClientType::Public {
        return Err(FieldError::new(
            "tool",
            "A tool client must be confidential: it authenticates with a secret.",
        )
        .into());
    }
    if draft.client_type == ClientType::Public && callback.is_none() {
        return Err(FieldError::new(
            "callback_url",
            "A public client needs a callback URL: it can only use the code flow.",
        )
        .into());
    }
    for (field, list) in [("scopes", &draft.scopes), ("roles", &draft.roles)] {
        if let Some(bad) = list.iter().find(|s| {
            s.is_empty()
                || s.chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
        }) {
            return Err(FieldError::new(
                field,
                format!("{bad:?} is not a valid name: no spaces or quotes."),
            )
            .into());
        }
    }
    for audience in &draft.audiences {
        let ok = url::Url::parse(audience).is_ok_and(|u| u.fragment().is_none());
        if !ok {
            return Err(FieldError::new(
                "audiences",
                format!("{audience:?} is not an absolute URI such as https://api.example.com."),
            )
            .into());
        }
    }
    Ok((name, callback))
}
