//! Who is calling: clients cached in memory with their secret hashes, loaded on a miss and
//! dropped as a whole when a change commits here or elsewhere, and the one way a client
//! proves who it is (its secret, compared in constant time, failures throttled and audited).

use std::{
    collections::HashMap,
    sync::{Arc, atomic::Ordering},
};

use serde_json::json;
use subtle::ConstantTimeEq;

use super::{OAuthService, TokenError, TokenRequest, throttle::FailureAudit};
use crate::{
    domain::{
        app_rules, credentials,
        grant_types::GrantType,
        issuer,
        oauth::{self, ClientCredentials, ErrorCode, OAuthError},
    },
    services::metrics::{AuthFailure, CacheLookup, Limit},
    store::{StoreError, apps, audit, changes, secrets, tenants},
};

/// Known-absent client ids are cached too; past this many entries the cache starts over, so
/// a flood of random ids cannot grow it without bound.
const MAX_CACHED_CLIENTS: usize = 50_000;

#[derive(Debug, Clone)]
struct CachedSecret {
    id: String,
    hash: String,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    grace_until: Option<i64>,
}

impl CachedSecret {
    fn works_at(&self, now: i64) -> bool {
        app_rules::secret_works_at(self.revoked_at, self.grace_until, self.expires_at, now)
    }
}

/// What the token endpoint needs to know about a client.
#[derive(Debug, Clone)]
pub(super) struct CachedClient {
    pub(super) client_id: String,
    pub(super) tenant_id: String,
    pub(super) confidential: bool,
    pub(super) disabled: bool,
    pub(super) tool: bool,
    pub(super) scopes: Vec<String>,
    pub(super) roles: Vec<String>,
    pub(super) audiences: Vec<String>,
    pub(super) default_audience: String,
    /// The tenant's issuer, the `iss` of the client's tokens (made once, not per token).
    pub(super) issuer: String,
    pub(super) lifetime_secs: i64,
    /// What the authorization endpoint and consent page need.
    pub(super) name: String,
    pub(super) public_visibility: bool,
    pub(super) callback_url: Option<String>,
    pub(super) grant_types: Vec<GrantType>,
    secrets: Vec<CachedSecret>,
}

impl CachedClient {
    pub(super) fn may_use(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }
}

#[derive(Default)]
pub(super) struct ClientCache {
    local: u64,
    remote: i64,
    entries: HashMap<String, Option<Arc<CachedClient>>>,
}

impl OAuthService {
    /// The cached client, loading it on a miss. `None` for an unknown client id.
    pub(super) async fn client(
        &self,
        client_id: &str,
    ) -> Result<Option<Arc<CachedClient>>, TokenError> {
        let local = changes::local_generation();
        let remote = self.inner.remote_generation.load(Ordering::Acquire);
        {
            let cache = self.inner.clients.read().unwrap_or_else(|e| e.into_inner());
            if cache.local == local
                && cache.remote == remote
                && let Some(entry) = cache.entries.get(client_id)
            {
                self.inner.metrics.client_cache(CacheLookup::Hit);
                return Ok(entry.clone());
            }
        }
        self.inner.metrics.client_cache(CacheLookup::Miss);
        let loaded = self.load_client(client_id).await?.map(Arc::new);
        let mut cache = self
            .inner
            .clients
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if cache.local != local || cache.remote != remote {
            *cache = ClientCache {
                local,
                remote,
                entries: HashMap::new(),
            };
        }
        // Only keep what was read with no change committed meanwhile.
        if changes::local_generation() == local
            && self.inner.remote_generation.load(Ordering::Acquire) == remote
        {
            if cache.entries.len() >= MAX_CACHED_CLIENTS {
                cache.entries.clear();
            }
            cache.entries.insert(client_id.to_string(), loaded.clone());
        }
        Ok(loaded)
    }

    async fn load_client(&self, client_id: &str) -> Result<Option<CachedClient>, StoreError> {
        let db = &self.inner.db;
        let Some(app) = apps::find(db, client_id).await? else {
            return Ok(None);
        };
        let Some(tenant) = tenants::get(db, &app.tenant_id).await? else {
            return Ok(None);
        };
        let secrets = secrets::list(db, client_id)
            .await?
            .into_iter()
            .map(|s| CachedSecret {
                id: s.id,
                hash: s.hash,
                expires_at: s.expires_at,
                revoked_at: s.revoked_at,
                grace_until: s.grace_until,
            })
            .collect();
        let split = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let roles = split(&app.roles);
        // Audiences stored before they were reserved are dropped here, so no token names
        // another tenant's audience (or the management API's) whatever the database holds.
        let public_url = &self.inner.public_url;
        let own = |audience: &String| issuer::may_use_audience(public_url, &tenant.id, audience);
        let mut audiences: Vec<String> = split(&app.audiences).into_iter().filter(own).collect();
        if app.tool && roles.iter().any(|r| r == "admin") {
            audiences.push(issuer::management_audience(public_url));
        }
        Ok(Some(CachedClient {
            default_audience: tenant
                .audience
                .clone()
                .filter(own)
                .unwrap_or_else(|| issuer::derived_audience(public_url, &tenant.id)),
            issuer: issuer::tenant_issuer(public_url, &tenant.id),
            client_id: app.client_id,
            tenant_id: app.tenant_id,
            confidential: app.client_type == "confidential",
            disabled: app.disabled_at.is_some(),
            tool: app.tool,
            scopes: split(&app.scopes),
            roles,
            audiences,
            lifetime_secs: app.token_lifetime_secs,
            name: app.name,
            public_visibility: app.visibility == "public",
            callback_url: app.callback_url,
            // A name this version does not know allows nothing rather than failing the load.
            grant_types: app
                .grant_types
                .split_whitespace()
                .filter_map(GrantType::parse)
                .collect(),
            secrets,
        }))
    }

    /// Authenticates a confidential client by its secret. Every failure is the same
    /// `invalid_client`. Only failures are throttled: the right secret is let in whatever
    /// others have tried from the same address (behind a proxy that is everyone). A client
    /// id that could not be one is refused before it costs a lookup, a cache entry, a
    /// counter or an audit row.
    pub(super) async fn authenticate(
        &self,
        credentials: &ClientCredentials,
        ip: Option<&str>,
        now: i64,
    ) -> Result<Arc<CachedClient>, TokenError> {
        let ClientCredentials {
            client_id,
            client_secret,
            via_basic,
        } = credentials;
        let refused = |reason| self.auth_refused(reason, OAuthError::invalid_client(*via_basic));
        if !credentials::is_well_formed_client_id(client_id) {
            return Err(refused(AuthFailure::Malformed).into());
        }
        let client = self.client(client_id).await?;
        let matched = match (&client, client_secret) {
            (Some(c), Some(secret)) if c.confidential && !c.disabled => {
                let presented = self.inner.hasher.hash(secret);
                // Compare with every live secret, without stopping at the first match.
                c.secrets.iter().fold(None, |found, s| {
                    let same = bool::from(presented.as_bytes().ct_eq(s.hash.as_bytes()));
                    if same && s.works_at(now) {
                        Some(s.id.clone())
                    } else {
                        found
                    }
                })
            }
            _ => None,
        };
        if let (Some(client), Some(secret_id)) = (&client, matched) {
            self.inner
                .last_used
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(secret_id, now);
            return Ok(client.clone());
        }
        let reason = match &client {
            None => AuthFailure::UnknownClient,
            Some(c) if c.disabled => AuthFailure::Disabled,
            Some(_) if client_secret.is_none() => AuthFailure::Missing,
            Some(_) => AuthFailure::BadSecret,
        };
        let Some(ip) = ip else {
            self.audit_failure(client.as_deref(), client_id, None, now)
                .await;
            return Err(refused(reason).into());
        };
        if let Some(retry_after) = self.inner.throttle.retry_after(client_id, ip, now) {
            // Already counted and audited enough for this window.
            self.inner.metrics.throttled(Limit::ClientAuthentication);
            return Err(TokenError::Throttled { retry_after });
        }
        match self
            .inner
            .throttle
            .fail(client_id, ip, client.is_some(), now)
        {
            FailureAudit::Individual => {
                self.audit_failure(client.as_deref(), client_id, Some(ip), now)
                    .await
            }
            FailureAudit::Aggregate {
                failures,
                window_secs,
            } => {
                let detail = json!({ "unknown_client_ids": failures, "window_secs": window_secs });
                let event =
                    audit::NewEvent::new(None, audit::Actor::Anonymous, "client.auth_failed", now)
                        .detail(detail)
                        .ip(Some(ip));
                self.record_failure(&event).await;
            }
            FailureAudit::None => {}
        }
        Err(refused(reason).into())
    }

    /// Counts a failed client authentication and hands its error back.
    pub(super) fn auth_refused(&self, reason: AuthFailure, error: OAuthError) -> OAuthError {
        self.inner.metrics.auth_failed(reason);
        error
    }

    async fn audit_failure(
        &self,
        client: Option<&CachedClient>,
        client_id: &str,
        ip: Option<&str>,
        now: i64,
    ) {
        let event = audit::NewEvent::new(
            client.map(|c| c.tenant_id.as_str()),
            audit::Actor::Anonymous,
            "client.auth_failed",
            now,
        )
        .target("app", client_id)
        .ip(ip);
        self.record_failure(&event).await;
    }

    async fn record_failure(&self, event: &audit::NewEvent<'_>) {
        if let Err(error) = audit::record_alone(&self.inner.db, event).await {
            tracing::warn!(%error, "could not audit a failed client authentication");
        }
    }

    /// The authenticated client of a token, introspection or revocation request. At a
    /// tenant's own endpoints the client must be that tenant's: its credentials are right,
    /// but it is talking to the wrong issuer.
    pub(super) async fn caller(
        &self,
        request: &TokenRequest<'_>,
        now: i64,
    ) -> Result<Arc<CachedClient>, TokenError> {
        let basic = oauth::parse_basic(request.authorization)
            .map_err(|e| self.auth_refused(AuthFailure::Malformed, e))?;
        let credentials = oauth::client_credentials(basic, request.form).map_err(|e| {
            // Sending both ways at once is a malformed request, not a failed authentication.
            if e.code == ErrorCode::InvalidClient {
                self.auth_refused(AuthFailure::Missing, e)
            } else {
                e
            }
        })?;
        let client = self.authenticate(&credentials, request.ip, now).await?;
        match request.tenant {
            Some(tenant) if tenant != client.tenant_id => Err(self
                .auth_refused(
                    AuthFailure::WrongIssuer,
                    OAuthError {
                        description: "This client is registered with another issuer; use the \
                                      endpoints of its own tenant's discovery document."
                            .into(),
                        ..OAuthError::invalid_client(credentials.via_basic)
                    },
                )
                .into()),
            _ => Ok(client),
        }
    }
}
