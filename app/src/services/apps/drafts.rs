//! What making or changing an app takes, and the rules a draft must meet before it is stored.

use crate::{
    domain::{
        FieldError,
        app_rules::{AppName, DEFAULT_TOKEN_LIFETIME_SECS, check_token_lifetime},
        callback::CallbackUrl,
        grant_types::{self, GrantType},
        text,
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
    /// The grants it may use, by `grant_type` value; `None` takes the defaults for its client
    /// type and callback URL (`domain::grant_types::defaults`).
    pub grant_types: Option<Vec<String>>,
}

impl AppDraft {
    /// An app with nothing chosen but its name: private, confidential (so it gets a first
    /// secret), not a tool client, no callback URL, scopes, roles or extra audiences, tokens
    /// that live the default hour, and the grants its client type and callback URL get. The portal, the REST API and the command line all
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
            grant_types: None,
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
    pub grant_types: Option<Vec<String>>,
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
            grant_types: self.grant_types.or(current.grant_types),
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
        grant_types: Some(app.grant_types),
    }
}

/// A draft that meets the rules, in the forms that are stored.
pub(super) struct Valid {
    pub name: AppName,
    pub callback: Option<CallbackUrl>,
    pub grants: Vec<GrantType>,
}

pub(super) fn validate(draft: &AppDraft) -> Result<Valid, ServiceError> {
    let name = AppName::parse(&draft.name)?;
    if draft.description.chars().count() > 1000 {
        return Err(
            FieldError::new("description", "Descriptions are at most 1000 characters.").into(),
        );
    }
    text::check_paragraphs("description", "Descriptions", &draft.description)?;
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
    let confidential = draft.client_type == ClientType::Confidential;
    let grants = match &draft.grant_types {
        None => grant_types::defaults(confidential, callback.is_some()),
        Some(names) => {
            let grants = parse_grants(names)?;
            grant_types::check(&grants, confidential, callback.is_some())?;
            grants
        }
    };
    Ok(Valid {
        name,
        callback,
        grants,
    })
}

/// Grant types by their `grant_type` values, each exactly one name, sorted without repeats.
fn parse_grants(names: &[String]) -> Result<Vec<GrantType>, FieldError> {
    let mut grants = Vec::with_capacity(names.len());
    for name in names {
        let grant = GrantType::parse(name).ok_or_else(|| {
            let known: Vec<&str> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
            FieldError::new(
                "grant_types",
                format!("{name:?} is not a grant type: use {}.", known.join(", ")),
            )
        })?;
        grants.push(grant);
    }
    grants.sort();
    grants.dedup();
    Ok(grants)
}

/// A change that keeps the grant types can break their rules only by taking away the
/// callback URL the code flow needs. Its refusal then belongs beside the callback URL, where
/// the person made the change, and says what to do: the app's grants are never dropped
/// behind their back.
pub(super) fn blame_the_change(
    err: ServiceError,
    current: &AppDraft,
    wanted: &AppDraft,
) -> ServiceError {
    let same_grants = |a: &AppDraft, b: &AppDraft| {
        let parsed = |d: &AppDraft| d.grant_types.as_deref().map(parse_grants);
        matches!((parsed(a), parsed(b)), (Some(Ok(x)), Some(Ok(y))) if x == y)
    };
    match err {
        ServiceError::Invalid(f) if f.field == "grant_types" && same_grants(current, wanted) => {
            FieldError::new(
                "callback_url",
                "The authorization code grant needs a callback URL. To remove it, first take \
                 that grant off the app under OAuth & access scopes.",
            )
            .into()
        }
        other => other,
    }
}
