//! The authorization endpoint (RFC 6749 §4.1 with RFC 9700, RFC 9207) and the consent
//! decision behind it. Every step re-checks the whole request from its query string, so
//! nothing about a half-finished authorization is stored: the sign-in page and the consent
//! page carry the query, and any instance can finish what another began.

use std::sync::Arc;

use serde_json::json;

use super::{OAuthService, TokenError, clients::CachedClient};
use crate::{
    domain::{
        authorize::{
            AuthorizeError, AuthorizeRequest, OIDC_SCOPES, Prompt, consent_covers, merge_scopes,
            redirect_to,
        },
        credentials::{CODE_PREFIX, generate_opaque},
        grant_types::GrantType,
        oauth::grant_scopes,
    },
    model::consent::{ConsentView, ScopeView, TenantChoice},
    store::{
        Database, StoreError,
        audit::{self, Actor, NewEvent},
        catalogue::{self, Catalogue},
        codes::{self, CodeRow},
        consents, members, new_id, tenants,
    },
};

/// How long a code may wait to be exchanged (SPEC §3a).
pub const CODE_LIFETIME_SECS: i64 = 60;

/// `state` is echoed in every answer and `nonce` stored with every code: both are bounded
/// (SPEC §3a), so a request cannot make either carry megabytes.
pub const MAX_STATE_BYTES: usize = 2048;
pub const MAX_NONCE_BYTES: usize = 512;

/// Who is signed in to the portal, as the authorization endpoint needs to know them.
#[derive(Debug, Clone)]
pub struct SignedInPerson {
    pub user_id: String,
    /// The tenant the portal session is in.
    pub tenant_id: String,
    /// When they signed in (the ID token's `auth_time`).
    pub auth_time: i64,
}

/// What the browser is shown or sent to next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    /// The client or its redirect URI cannot be trusted: say so here, never redirect.
    ErrorPage(String),
    /// To the app's callback, with a code or an error.
    Redirect(String),
    /// An error the app is owed, for someone not known to trust the app: a page that names
    /// the app and its callback's host and offers one link there, so that a registered
    /// callback never makes this server an open redirector (RFC 9700 §4.11.2).
    ReturnToApp(ReturnToApp),
    /// Through the portal's sign-in page, then back (without `prompt=login`).
    SignIn,
    /// To the consent page, with the same query.
    Consent,
}

/// The error for the app, and who must trust the app to be sent there without a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnToApp {
    pub app_name: String,
    /// The callback's host, which the page names before anyone follows the link.
    pub host: String,
    pub error_description: String,
    /// The callback with `error`, `error_description`, `state` and `iss`.
    pub url: String,
    client_id: String,
    tenant_id: String,
}

/// A request whose client and redirect URI are known good, and whose other parameters hold.
struct Checked {
    client: Arc<CachedClient>,
    request: AuthorizeRequest,
    redirect_uri: String,
    scope: String,
    challenge: Option<String>,
    prompt: Option<Prompt>,
    max_age: Option<i64>,
}

impl Checked {
    /// The app's callback with `error` (RFC 6749 §4.1.2.1), `state` and `iss` (RFC 9207),
    /// to be sent straight there only to a person who trusts the app ([`OAuthService::deliver`]).
    fn error(&self, error: AuthorizeError) -> AuthorizeOutcome {
        let mut params = vec![
            ("error", error.error),
            ("error_description", error.description.as_str()),
        ];
        if let Some(state) = &self.request.state {
            params.push(("state", state));
        }
        params.push(("iss", &self.client.issuer));
        AuthorizeOutcome::ReturnToApp(ReturnToApp {
            app_name: self.client.name.clone(),
            host: callback_host(&self.redirect_uri),
            error_description: error.description.clone(),
            url: redirect_to(&self.redirect_uri, &params),
            client_id: self.client.client_id.clone(),
            tenant_id: self.client.tenant_id.clone(),
        })
    }
}

fn internal(error: impl std::fmt::Display) -> AuthorizeOutcome {
    tracing::error!(%error, "authorization request failed");
    AuthorizeOutcome::ErrorPage("Something went wrong on our side; try again.".into())
}

impl From<StoreError> for AuthorizeOutcome {
    fn from(error: StoreError) -> Self {
        internal(error)
    }
}

impl From<TokenError> for AuthorizeOutcome {
    fn from(error: TokenError) -> Self {
        internal(format!("{error:?}"))
    }
}

impl OAuthService {
    /// `GET /oauth/authorize` (or `{issuer}/oauth/authorize` with `tenant`).
    pub async fn authorize(
        &self,
        tenant: Option<&str>,
        query: &str,
        person: Option<&SignedInPerson>,
    ) -> AuthorizeOutcome {
        let outcome = self.decide_authorize(tenant, query, person).await;
        self.deliver(outcome, person).await
    }

    /// An error for the app goes straight to its callback only for a person known to trust
    /// the app: signed in, and a member of its tenant or someone who consented to it before
    /// (SPEC §3a). Anyone else, `prompt=none` included, sees the page first.
    async fn deliver(
        &self,
        outcome: AuthorizeOutcome,
        person: Option<&SignedInPerson>,
    ) -> AuthorizeOutcome {
        let AuthorizeOutcome::ReturnToApp(back) = outcome else {
            return outcome;
        };
        let Some(person) = person else {
            return AuthorizeOutcome::ReturnToApp(back);
        };
        let db = &self.inner.db;
        let trusted = match members::role_of(db, &back.tenant_id, &person.user_id).await {
            Ok(Some(_)) => Ok(true),
            Ok(None) => consents::any_for(db, &person.user_id, &back.client_id).await,
            Err(e) => Err(e),
        };
        match trusted {
            Ok(true) => AuthorizeOutcome::Redirect(back.url),
            Ok(false) => AuthorizeOutcome::ReturnToApp(back),
            Err(e) => e.into(),
        }
    }

    async fn decide_authorize(
        &self,
        tenant: Option<&str>,
        query: &str,
        person: Option<&SignedInPerson>,
    ) -> AuthorizeOutcome {
        let checked = match self.check_authorize(tenant, query).await {
            Ok(checked) => checked,
            Err(outcome) => return outcome,
        };
        let now = self.now();
        // prompt=login, or a sign-in older than max_age: the person signs in again (and comes
        // back without prompt=login, with a fresh auth_time).
        let fresh_enough = |p: &&SignedInPerson| {
            checked.prompt != Some(Prompt::Login)
                && checked.max_age.is_none_or(|max| now - p.auth_time <= max)
        };
        let Some(person) = person.filter(fresh_enough) else {
            return match checked.prompt {
                Some(Prompt::None) => checked.error(AuthorizeError::new(
                    "login_required",
                    "Nobody is signed in, and prompt=none forbids asking.",
                )),
                _ => AuthorizeOutcome::SignIn,
            };
        };
        let acting = match self.acting_tenants(&checked, person).await {
            Ok(acting) if acting.is_empty() => return checked.error(private_app()),
            Ok(acting) => acting,
            Err(outcome) => return outcome,
        };
        let given =
            match consents::by_tenant(&self.inner.db, &person.user_id, &checked.client.client_id)
                .await
            {
                Ok(given) => given,
                Err(e) => return e.into(),
            };
        // Without a page, the app acts in a tenant the person allowed it these scopes in, the
        // default one first; consent given while acting in one tenant never lets it act in
        // another (SPEC §3a).
        let covered = acting.iter().find(|t| {
            given
                .iter()
                .any(|(tenant, scope)| *tenant == t.id && consent_covers(scope, &checked.scope))
        });
        match (covered, checked.prompt) {
            (Some(tenant), p) if p != Some(Prompt::Consent) => {
                self.issue_code(&checked, person, &tenant.id, now).await
            }
            (_, Some(Prompt::None)) => checked.error(AuthorizeError::new(
                "consent_required",
                "The person has not allowed this app these scopes, and prompt=none forbids asking.",
            )),
            _ => AuthorizeOutcome::Consent,
        }
    }

    /// What the consent page asks about the request in `query`, or where to go instead.
    pub async fn consent_view(
        &self,
        query: &str,
        person: &SignedInPerson,
    ) -> Result<ConsentView, AuthorizeOutcome> {
        // Errors are not delivered here: the consent page itself names the app and the
        // callback's host beside its one link back.
        let checked = self.check_authorize(None, query).await?;
        let acting = self.acting_tenants(&checked, person).await?;
        if acting.is_empty() {
            return Err(checked.error(private_app()));
        }
        let db = &self.inner.db;
        let client = &checked.client;
        let tenant = tenants::get(db, &client.tenant_id).await?;
        let yours = members::role_of(db, &client.tenant_id, &person.user_id)
            .await?
            .is_some();
        let catalogue = catalogue::list(db, Catalogue::Scopes, &client.tenant_id).await?;
        let scopes = checked
            .scope
            .split_whitespace()
            .map(|name| {
                let description = OIDC_SCOPES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, d)| d.to_string())
                    .or_else(|| {
                        catalogue
                            .iter()
                            .find(|e| e.name == name)
                            .map(|e| e.description.clone())
                    })
                    .unwrap_or_default();
                ScopeView {
                    name: name.to_string(),
                    description,
                }
            })
            .collect();
        Ok(ConsentView {
            app_name: client.name.clone(),
            tenant_name: tenant.map(|t| t.name).unwrap_or_default(),
            yours,
            scopes,
            redirect_host: callback_host(&checked.redirect_uri),
            acting,
        })
    }

    /// The person's answer on the consent page: Allow records the consent and sends a code,
    /// Deny sends `access_denied`.
    /// `acting_tenant` is the tenant the person chose for the app to act in (the default when
    /// `None`); it must be one the consent page offered.
    pub async fn decide_consent(
        &self,
        query: &str,
        person: &SignedInPerson,
        allow: bool,
        acting_tenant: Option<&str>,
        ip: Option<&str>,
    ) -> AuthorizeOutcome {
        let outcome = self
            .decide_consent_for(query, person, allow, acting_tenant, ip)
            .await;
        self.deliver(outcome, Some(person)).await
    }

    async fn decide_consent_for(
        &self,
        query: &str,
        person: &SignedInPerson,
        allow: bool,
        acting_tenant: Option<&str>,
        ip: Option<&str>,
    ) -> AuthorizeOutcome {
        let checked = match self.check_authorize(None, query).await {
            Ok(checked) => checked,
            Err(outcome) => return outcome,
        };
        let acting = match self.acting_tenants(&checked, person).await {
            Ok(acting) => acting,
            Err(outcome) => return outcome,
        };
        let chosen = match acting_tenant {
            None => acting.into_iter().next(),
            Some(id) => match acting.into_iter().find(|t| t.id == id) {
                Some(tenant) => Some(tenant),
                None => {
                    return AuthorizeOutcome::ErrorPage(
                        "The app cannot act in that organisation for you: choose one you belong to."
                            .into(),
                    );
                }
            },
        };
        let Some(token_tenant) = chosen.map(|t| t.id) else {
            return checked.error(private_app());
        };
        if !allow {
            // Straight back: the consent page named the app and the callback's host before
            // the person chose Deny.
            return match checked.error(AuthorizeError::new(
                "access_denied",
                "The person denied the request.",
            )) {
                AuthorizeOutcome::ReturnToApp(back) => AuthorizeOutcome::Redirect(back.url),
                other => other,
            };
        }
        let now = self.now();
        if let Err(e) =
            record_consent(&self.inner.db, &checked, person, &token_tenant, ip, now).await
        {
            return e.into();
        }
        self.issue_code(&checked, person, &token_tenant, now).await
    }

    async fn check_authorize(
        &self,
        tenant: Option<&str>,
        query: &str,
    ) -> Result<Checked, AuthorizeOutcome> {
        let request = AuthorizeRequest::parse(query).map_err(AuthorizeOutcome::ErrorPage)?;
        let unknown = || {
            AuthorizeOutcome::ErrorPage(
                "The app that sent you here is not registered with this server, or is switched off."
                    .into(),
            )
        };
        if !crate::domain::credentials::is_well_formed_client_id(&request.client_id) {
            return Err(unknown());
        }
        let client = self
            .client(&request.client_id)
            .await?
            .filter(|c| !c.disabled && tenant.is_none_or(|t| t == c.tenant_id))
            .ok_or_else(unknown)?;
        let Some(callback) = client.callback_url.clone() else {
            return Err(AuthorizeOutcome::ErrorPage(
                "This app has no callback URL registered, so it cannot sign people in.".into(),
            ));
        };
        // Exact string match (RFC 9700 §4.1.3): no normalising, no prefixes, no patterns.
        if request
            .redirect_uri
            .as_ref()
            .is_some_and(|r| *r != callback)
        {
            return Err(AuthorizeOutcome::ErrorPage(
                "The redirect_uri is not the callback URL registered for this app.".into(),
            ));
        }
        let mut checked = Checked {
            client,
            request,
            redirect_uri: callback,
            scope: String::new(),
            challenge: None,
            prompt: None,
            max_age: None,
        };
        if checked
            .request
            .state
            .as_ref()
            .is_some_and(|s| s.len() > MAX_STATE_BYTES)
        {
            // Not echoed: the app is owed an answer, not a copy of an oversized value.
            checked.request.state = None;
            return Err(checked.error(AuthorizeError::invalid_request(format!(
                "state is longer than {MAX_STATE_BYTES} bytes."
            ))));
        }
        if checked
            .request
            .nonce
            .as_ref()
            .is_some_and(|n| n.len() > MAX_NONCE_BYTES)
        {
            return Err(checked.error(AuthorizeError::invalid_request(format!(
                "nonce is longer than {MAX_NONCE_BYTES} bytes."
            ))));
        }
        if checked.request.response_type.as_deref() != Some("code") {
            return Err(checked.error(AuthorizeError::new(
                "unsupported_response_type",
                "Only response_type=code is supported.",
            )));
        }
        if !checked.client.may_use(GrantType::AuthorizationCode) {
            return Err(checked.error(AuthorizeError::new(
                "unauthorized_client",
                "This app may not use the authorization code grant.",
            )));
        }
        checked.prompt = checked.request.prompt().map_err(|e| checked.error(e))?;
        checked.max_age = checked.request.max_age().map_err(|e| checked.error(e))?;
        checked.challenge = checked
            .request
            .challenge(!checked.client.confidential)
            .map_err(|e| checked.error(e))?;
        let mut allowed = checked.client.scopes.clone();
        allowed.extend(OIDC_SCOPES.iter().map(|(name, _)| name.to_string()));
        let requested = checked.request.scope.as_deref();
        checked.scope = match requested {
            Some(_) => grant_scopes(requested, &allowed),
            None => grant_scopes(None, &checked.client.scopes),
        }
        .map_err(|_| {
            checked.error(AuthorizeError::new(
                "invalid_scope",
                "A requested scope is not allowed for this app.",
            ))
        })?;
        Ok(checked)
    }

    /// The tenants the app may act in for the person, the default first: the app's own when
    /// they belong to it, else the one their session is in; then, for a `public` app, every
    /// other tenant they belong to. Empty for a `private` app and an outsider.
    async fn acting_tenants(
        &self,
        checked: &Checked,
        person: &SignedInPerson,
    ) -> Result<Vec<TenantChoice>, AuthorizeOutcome> {
        let app_tenant = &checked.client.tenant_id;
        let mut tenants: Vec<TenantChoice> =
            members::list_for_user(&self.inner.db, &person.user_id)
                .await?
                .into_iter()
                .map(|m| TenantChoice {
                    id: m.tenant_id,
                    name: m.tenant_name,
                })
                .collect();
        if !checked.client.public_visibility {
            tenants.retain(|t| t.id == *app_tenant);
            return Ok(tenants);
        }
        let first = if tenants.iter().any(|t| t.id == *app_tenant) {
            app_tenant
        } else {
            &person.tenant_id
        };
        if let Some(at) = tenants.iter().position(|t| t.id == *first) {
            let default = tenants.remove(at);
            tenants.insert(0, default);
        }
        Ok(tenants)
    }

    async fn issue_code(
        &self,
        checked: &Checked,
        person: &SignedInPerson,
        token_tenant: &str,
        now: i64,
    ) -> AuthorizeOutcome {
        let code = generate_opaque(CODE_PREFIX);
        let row = CodeRow {
            hash: self.inner.hasher.hash(&code),
            client_id: checked.client.client_id.clone(),
            user_id: person.user_id.clone(),
            tenant_id: token_tenant.to_string(),
            redirect_uri: checked.redirect_uri.clone(),
            redirect_sent: checked.request.redirect_uri.is_some(),
            scope: checked.scope.clone(),
            code_challenge: checked.challenge.clone(),
            nonce: checked.request.nonce.clone(),
            auth_time: person.auth_time,
            family_id: new_id(),
            access_jti: new_id(),
            created_at: now,
            expires_at: now + CODE_LIFETIME_SECS,
            used_at: None,
        };
        if let Err(e) = codes::insert(&self.inner.db, &row).await {
            return e.into();
        }
        let mut params = vec![("code", code.as_str())];
        if let Some(state) = &checked.request.state {
            params.push(("state", state));
        }
        params.push(("iss", &checked.client.issuer));
        AuthorizeOutcome::Redirect(redirect_to(&checked.redirect_uri, &params))
    }
}

/// Where a callback sends the person, as they would recognise it: its host, or for a native
/// app's own scheme (`com.example.app:/cb`, which has none) the scheme.
fn callback_host(callback: &str) -> String {
    url::Url::parse(callback)
        .ok()
        .map(|u| {
            u.host_str()
                .map_or_else(|| u.scheme().to_string(), str::to_string)
        })
        .unwrap_or_default()
}

fn private_app() -> AuthorizeError {
    AuthorizeError::new(
        "access_denied",
        "This app is private to its own organisation, and you are not a member of it.",
    )
}

/// Records the consent, widened by what was just allowed. Read, merge and write happen in one
/// transaction, so two Allows at once cannot lose a scope; only a consent that grows is an
/// audit event, so repeating Allow cannot fill the app's tenant's log.
async fn record_consent(
    db: &Database,
    checked: &Checked,
    person: &SignedInPerson,
    acting_tenant: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    let client = &checked.client;
    let (user, app) = (&person.user_id, &client.client_id);
    let mut tx = db.begin().await?;
    consents::lock(&mut tx, user, app, acting_tenant).await?;
    let earlier = consents::scope_in(&mut tx, user, app, acting_tenant).await?;
    let grows = earlier
        .as_deref()
        .is_none_or(|e| !consent_covers(e, &checked.scope));
    if !grows {
        return Ok(());
    }
    let scope = merge_scopes(earlier.as_deref().unwrap_or_default(), &checked.scope);
    consents::upsert(&mut tx, user, app, acting_tenant, &scope, now).await?;
    let event = NewEvent::new(
        Some(&client.tenant_id),
        Actor::User(&person.user_id),
        "consent.granted",
        now,
    )
    .target("app", &client.client_id)
    .detail(json!({ "scope": checked.scope, "acting_tenant": acting_tenant }))
    .ip(ip);
    audit::record(&mut tx, &event).await?;
    tx.commit().await
}
