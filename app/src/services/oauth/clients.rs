//! Who is calling: clients cached in memory with their secret hashes, loaded on a miss and
//! dropped as a whole when a change commits here or elsewhere, and the one way a client
//! proves who it is (its secret, compared in constant time, failures throttled and audited).
//! Client ids that name no client are remembered apart, in a bounded LRU, so that nobody
//! sending made-up ids can push out the clients that exist.

use std::{
    collections::HashMap,
    sync::{Arc, atomic::Ordering},
};

use hashlink::LruCache;
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

/// Clients that exist: one entry per app asked for. Only a database with more apps than
/// this makes the set start over, so that memory stays bounded whatever it holds.
const MAX_CACHED_CLIENTS: usize = 50_000;
/// Client ids known to name no client, remembered so that a client retrying with a wrong id
/// costs no lookup each time. Past this many the least recently asked for is forgotten: a
/// flood of made-up ids only ever pushes out other made-up ids.
const MAX_UNKNOWN_CLIENTS: usize = 10_000;

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

/// What was loaded at the change generations `local` and `remote`: clients that exist, and
/// apart from them the ids that name none.
pub(super) struct ClientCache {
    local: u64,
    remote: i64,
    live: HashMap<String, Arc<CachedClient>>,
    unknown: LruCache<String, ()>,
}

impl ClientCache {
    fn empty(local: u64, remote: i64) -> ClientCache {
        ClientCache {
            local,
            remote,
            live: HashMap::new(),
            unknown: LruCache::new(MAX_UNKNOWN_CLIENTS),
        }
    }

    /// What is remembered of `client_id` if the cache was filled at these generations:
    /// `Some(None)` for an id known to name no client, `None` when it must be looked up.
    fn get(&self, local: u64, remote: i64, client_id: &str) -> Option<Option<Arc<CachedClient>>> {
        if self.local != local || self.remote != remote {
            return None;
        }
        if let Some(client) = self.live.get(client_id) {
            return Some(Some(client.clone()));
        }
        self.unknown.contains_key(client_id).then_some(None)
    }

    /// Marks an unknown id as recently asked for.
    fn touch(&mut self, client_id: &str) {
        self.unknown.get(client_id);
    }

    /// Remembers what a lookup of `client_id` found.
    fn keep(&mut self, client_id: &str, loaded: Option<&Arc<CachedClient>>) {
        match loaded {
            Some(client) => {
                if self.live.len() >= MAX_CACHED_CLIENTS && !self.live.contains_key(client_id) {
                    self.live.clear();
                }
                self.live.insert(client_id.to_string(), client.clone());
            }
            // Evicts the least recently asked for unknown id once full.
            None => {
                self.unknown.insert(client_id.to_string(), ());
            }
        }
    }
}

impl Default for ClientCache {
    fn default() -> Self {
        ClientCache::empty(0, 0)
    }
}

impl OAuthService {
    /// The cached client, loading it on a miss. `None` for an unknown client id.
    pub(super) async fn client(
        &self,
        client_id: &str,
    ) -> Result<Option<Arc<CachedClient>>, TokenError> {
        let local = changes::local_generation();
        let remote = self.inner.remote_generation.load(Ordering::Acquire);
        let cached = self
            .inner
            .clients
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(local, remote, client_id);
        if let Some(found) = cached {
            if found.is_none() {
                // Mark the unknown id recently asked for, but never wait for the lock to do
                // so: the clients that exist are read under the same lock.
                if let Ok(mut cache) = self.inner.clients.try_write() {
                    cache.touch(client_id);
                }
            }
            self.inner.metrics.client_cache(CacheLookup::Hit);
            return Ok(found);
        }
        self.inner.metrics.client_cache(CacheLookup::Miss);
        let loaded = self.load_client(client_id).await?.map(Arc::new);
        let mut cache = self
            .inner
            .clients
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if cache.local != local || cache.remote != remote {
            *cache = ClientCache::empty(local, remote);
        }
        // Only keep what was read with no change committed meanwhile.
        if changes::local_generation() == local
            && self.inner.remote_generation.load(Ordering::Acquire) == remote
        {
            cache.keep(client_id, loaded.as_ref());
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

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use futures::StreamExt;

    use super::{CachedClient, ClientCache, MAX_CACHED_CLIENTS, MAX_UNKNOWN_CLIENTS};
    use crate::{
        domain::{jwt::Alg, oauth::FormParams},
        services::{
            apps::{self, AppDraft},
            metrics::CacheLookup,
            oauth::{ManualClock, OAuthService, TokenRequest},
            testkit::{NOW, PUBLIC_URL, admin, draft, hasher, master_key},
        },
        store::{changes, testkit::for_each_migrated_engine},
    };

    /// More made-up ids than the cache holds of anything, the clients that exist included.
    const FLOOD: usize = if MAX_CACHED_CLIENTS > MAX_UNKNOWN_CLIENTS {
        MAX_CACHED_CLIENTS + 1
    } else {
        MAX_UNKNOWN_CLIENTS + 1
    };

    /// A well-formed client id that names no client.
    fn made_up(i: usize) -> String {
        format!("kpc_{i:022}")
    }

    fn client(client_id: &str) -> Arc<CachedClient> {
        Arc::new(CachedClient {
            client_id: client_id.into(),
            tenant_id: "t".into(),
            confidential: true,
            disabled: false,
            tool: false,
            scopes: vec![],
            roles: vec![],
            audiences: vec![],
            default_audience: "a".into(),
            issuer: "i".into(),
            lifetime_secs: 3600,
            name: "Orders".into(),
            public_visibility: false,
            callback_url: None,
            grant_types: vec![],
            secrets: vec![],
        })
    }

    #[test]
    fn unknown_ids_are_a_bounded_lru_apart_from_the_clients_that_exist() {
        let mut cache = ClientCache::empty(1, 1);
        let live = made_up(FLOOD + 1);
        cache.keep(&live, Some(&client(&live)));
        for i in 0..FLOOD {
            cache.keep(&made_up(i), None);
            if i == 0 {
                // The first made-up id keeps being asked for: it is never the least recent.
                continue;
            }
            cache.touch(&made_up(0));
        }
        assert!(matches!(cache.get(1, 1, &live), Some(Some(c)) if c.client_id == live));
        assert_eq!(cache.unknown.len(), MAX_UNKNOWN_CLIENTS);
        assert_eq!(
            cache.get(1, 1, &made_up(FLOOD - 1)).map(|c| c.is_none()),
            Some(true)
        );
        assert_eq!(
            cache.get(1, 1, &made_up(0)).map(|c| c.is_none()),
            Some(true)
        );
        assert!(
            cache.get(1, 1, &made_up(1)).is_none(),
            "the least recent is forgotten"
        );
        // A change committed here or elsewhere: nothing is taken from memory any more.
        assert!(cache.get(2, 1, &live).is_none());
        assert!(cache.get(1, 2, &made_up(0)).is_none());
    }

    fn hits(oauth: &OAuthService) -> u64 {
        oauth.metrics().client_cache_count(CacheLookup::Hit)
    }

    /// A stranger sending more made-up client ids than the cache holds of anything pushes
    /// out only other made-up ids: the client that exists is still served from memory at
    /// its next token request, and what is remembered of the made-up ones stays bounded.
    ///
    /// A change committed anywhere in this process empties the cache, rightly, and the
    /// tests running beside this one commit in theirs: a token request is expected from
    /// memory whenever nothing committed since the client was last cached, which while
    /// they run is most of the time and alone is all of it.
    #[tokio::test]
    async fn made_up_client_ids_never_push_a_live_client_out_of_the_cache() {
        for_each_migrated_engine(|db| async move {
            let oauth = OAuthService::start(
                db.clone(),
                hasher(),
                master_key(),
                PUBLIC_URL.into(),
                Alg::Es256,
                Duration::from_secs(3600),
                Arc::new(ManualClock::at(NOW)),
                Default::default(),
            )
            .await
            .unwrap();
            let by = admin(&db, "ann@example.com", NOW).await;
            let draft = AppDraft {
                callback_url: None,
                ..draft("Orders")
            };
            let created = apps::create_app(&db, &hasher(), PUBLIC_URL, &by, draft, None, NOW)
                .await
                .unwrap();
            let body = format!(
                "grant_type=client_credentials&client_id={}&client_secret={}",
                created.app.client_id,
                created.first_secret.unwrap().plaintext
            );
            let form = FormParams::parse(body.as_bytes()).unwrap();
            // The generation the live client is known cached at, and how many of its token
            // requests had nothing committed since.
            let mut cached_at = None;
            let mut checked = 0;
            let mut token = async || {
                let (before, hits_before) = (changes::local_generation(), hits(&oauth));
                let request = TokenRequest {
                    authorization: None,
                    form: &form,
                    ip: Some("10.0.0.7"),
                    tenant: None,
                };
                oauth.token(request).await.unwrap();
                let after = changes::local_generation();
                if cached_at == Some(after) {
                    assert_eq!(hits(&oauth), hits_before + 1, "served from memory");
                    checked += 1;
                }
                cached_at = (before == after).then_some(after);
            };
            token().await;

            let start = changes::local_generation();
            for chunk in (0..FLOOD).collect::<Vec<_>>().chunks(64) {
                let mut sent = futures::stream::iter(chunk)
                    .map(|&i| {
                        let oauth = &oauth;
                        async move { oauth.client(&made_up(i)).await.unwrap() }
                    })
                    .buffered(8);
                while let Some(found) = sent.next().await {
                    assert!(found.is_none());
                }
                let remembered = oauth.inner.clients.read().unwrap().unknown.len();
                assert!(
                    remembered <= MAX_UNKNOWN_CLIENTS,
                    "{remembered} made-up ids kept"
                );
                token().await;
            }
            assert!(checked > 0, "no token request was checked");
            if changes::local_generation() == start {
                let remembered = oauth.inner.clients.read().unwrap().unknown.len();
                assert_eq!(remembered, MAX_UNKNOWN_CLIENTS, "full, and no fuller");
            }
        })
        .await;
    }
}
