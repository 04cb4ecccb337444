//! The token service: client authentication, access tokens, introspection and revocation.
//!
//! The hot path (a known client asking for a token) touches no database and parses no key:
//! clients with their secret hashes are cached in memory, the signing keys are parsed once,
//! and `last_used_at` is written in batches. The caches are dropped when this process commits
//! a change to apps, secrets, audiences or keys (at once), or when the shared change counter
//! moves because another process did: at once on PostgreSQL, which announces every such
//! commit, and otherwise within one poll interval.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::{ServiceError, accounts::Principal};
use crate::{
    domain::{
        app_rules,
        credentials::SecretHasher,
        jwt::{self, Alg, KeySchedule, Signer, Verifier},
        oauth::{self, AccessClaims, ClientCredentials, ErrorCode, FormParams, OAuthError},
    },
    store::{
        Database, StoreError, apps, audit,
        changes::{self, ChangeFeed},
        new_id, revoked, secrets,
        signing_keys::{self, KeyRow},
        tenants, unix_now,
    },
};

/// How often each instance looks at the shared change counter by default. On PostgreSQL
/// this only covers announcements missed while the listener reconnected.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How often batched `last_used_at` times are written.
pub const LAST_USED_FLUSH: Duration = Duration::from_secs(10);
/// A retired key stays in the JWKS this long after it stopped signing: longer than any token
/// lives (3600 s at most), plus clock skew.
pub const RETIRED_KEY_PUBLISHED_SECS: i64 = 3600 + 300;
/// Failed client authentications allowed per window: per address, and per client id from one
/// address. Counting per pair means an attacker hammering a client id from their address
/// does not lock out the real client calling from its own.
pub const FAILURES_PER_ADDRESS: u32 = 100;
pub const FAILURES_PER_CLIENT_AND_ADDRESS: u32 = 10;
pub const FAILURE_WINDOW_SECS: i64 = 60;
/// Known-absent client ids are cached too; past this many entries the cache starts over, so
/// a flood of random ids cannot grow it without bound.
const MAX_CACHED_CLIENTS: usize = 50_000;

/// Why a token request failed.
#[derive(Debug)]
pub enum TokenError {
    OAuth(OAuthError),
    /// Too many failed authentications; try again after this many seconds.
    Throttled {
        retry_after: i64,
    },
    Internal(String),
}

impl From<OAuthError> for TokenError {
    fn from(e: OAuthError) -> Self {
        TokenError::OAuth(e)
    }
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        TokenError::Internal(e.to_string())
    }
}

impl From<jwt::KeyError> for TokenError {
    fn from(e: jwt::KeyError) -> Self {
        TokenError::Internal(e.to_string())
    }
}

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
pub struct CachedClient {
    pub client_id: String,
    pub tenant_id: String,
    pub confidential: bool,
    pub disabled: bool,
    pub tool: bool,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
    pub audiences: Vec<String>,
    pub default_audience: String,
    pub lifetime_secs: i64,
    secrets: Vec<CachedSecret>,
}

#[derive(Default)]
struct ClientCache {
    local: u64,
    remote: i64,
    entries: HashMap<String, Option<Arc<CachedClient>>>,
}

struct LoadedKey {
    signer: Arc<Signer>,
    schedule: KeySchedule,
}

#[derive(Default)]
struct KeySet {
    keys: Vec<LoadedKey>,
    verifiers: Vec<Verifier>,
    jwks: String,
}

impl KeySet {
    /// The key that signs at `now` ([`jwt::signing_key`]).
    fn signer(&self, now: i64) -> Option<&Arc<Signer>> {
        jwt::signing_key(self.keys.iter().map(|k| k.schedule), now).map(|i| &self.keys[i].signer)
    }
}

/// Failures counted in one fixed window.
#[derive(Default)]
struct Window {
    start: i64,
    count: u32,
}

impl Window {
    fn is_open(&self, now: i64) -> bool {
        now - self.start < FAILURE_WINDOW_SECS
    }

    /// Seconds until this window closes, if it has reached `limit`.
    fn blocked_for(&self, limit: u32, now: i64) -> Option<i64> {
        (self.is_open(now) && self.count >= limit)
            .then(|| (self.start + FAILURE_WINDOW_SECS - now).max(1))
    }

    fn count(&mut self, now: i64) {
        if !self.is_open(now) {
            *self = Window {
                start: now,
                count: 0,
            };
        }
        self.count += 1;
    }
}

/// The failures from one address: in all, and per client id it named.
#[derive(Default)]
struct AddressFailures {
    all: Window,
    per_client: HashMap<String, Window>,
}

/// Failed authentications per address and per (client id, address), in this process's
/// memory. Keyed by address first so that checking a request looks up the strings it
/// already has instead of formatting keys.
#[derive(Default)]
struct Throttle {
    by_address: Mutex<HashMap<String, AddressFailures>>,
}

/// Addresses remembered before closed windows are swept out.
const MAX_THROTTLED_ADDRESSES: usize = 100_000;

impl Throttle {
    fn retry_after(&self, client_id: &str, ip: &str, now: i64) -> Option<i64> {
        let by_address = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let failures = by_address.get(ip)?;
        failures
            .all
            .blocked_for(FAILURES_PER_ADDRESS, now)
            .or_else(|| {
                failures
                    .per_client
                    .get(client_id)
                    .and_then(|w| w.blocked_for(FAILURES_PER_CLIENT_AND_ADDRESS, now))
            })
    }

    fn fail(&self, client_id: &str, ip: &str, now: i64) {
        let mut by_address = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        if by_address.len() >= MAX_THROTTLED_ADDRESSES {
            by_address.retain(|_, f| f.all.is_open(now));
        }
        let failures = by_address.entry(ip.to_string()).or_default();
        if !failures.all.is_open(now) {
            // A new window for the address: its client windows from before are closed or
            // about to be, and dropping them keeps one address's map small.
            failures.per_client.retain(|_, w| w.is_open(now));
        }
        failures.all.count(now);
        failures
            .per_client
            .entry(client_id.to_string())
            .or_default()
            .count(now);
    }
}

/// A client-credentials request, as the HTTP layer hands it over.
pub struct TokenRequest<'a> {
    /// The raw `Authorization` header, if any.
    pub authorization: Option<&'a [u8]>,
    pub form: &'a FormParams,
    pub ip: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
}

/// RFC 7662's answer for an active token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introspection {
    pub claims: AccessClaims,
}

struct Inner {
    db: Database,
    hasher: SecretHasher,
    issuer: String,
    alg: Alg,
    clients: RwLock<ClientCache>,
    remote_generation: AtomicI64,
    keys: RwLock<Arc<KeySet>>,
    keys_local: std::sync::atomic::AtomicU64,
    last_used: Mutex<HashMap<String, i64>>,
    throttle: Throttle,
    poll_interval: Duration,
}

/// Cheap to clone; every clone shares the caches.
#[derive(Clone)]
pub struct TokenService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenService")
    }
}

impl TokenService {
    /// Loads the signing keys, creating the first one (of `alg`) on a fresh database.
    /// `poll_interval` is how often [`run_background`](Self::run_background) reads the shared
    /// change counter ([`POLL_INTERVAL`] unless a test needs otherwise).
    pub async fn start(
        db: Database,
        hasher: SecretHasher,
        issuer: String,
        alg: Alg,
        poll_interval: Duration,
    ) -> Result<TokenService, ServiceError> {
        ensure_signing_key(&db, alg, unix_now()).await?;
        let service = TokenService {
            inner: Arc::new(Inner {
                remote_generation: AtomicI64::new(changes::current(&db).await?),
                db,
                hasher,
                issuer,
                alg,
                clients: RwLock::default(),
                keys: RwLock::default(),
                keys_local: Default::default(),
                last_used: Mutex::default(),
                throttle: Throttle::default(),
                poll_interval,
            }),
        };
        service.reload_keys().await?;
        Ok(service)
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    pub fn algorithm(&self) -> Alg {
        self.inner.alg
    }

    /// Runs until the process ends: follows the shared change counter, as `feed` announces
    /// it and by polling, and writes batched `last_used_at` times. Subscribe to the feed
    /// before [`start`](Self::start), so that nothing committed after the caches were
    /// first filled goes unannounced.
    pub async fn run_background(self, mut feed: Option<ChangeFeed>) {
        let mut poll = tokio::time::interval(self.inner.poll_interval);
        let mut flush = tokio::time::interval(LAST_USED_FLUSH);
        // Retired keys leave the JWKS when their publish_until passes, which no change
        // announces: reload now and then regardless.
        let mut republish = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                announced = next_change(&mut feed) => {
                    let followed = match announced {
                        Ok(()) => self.follow_changes().await,
                        Err(error) => Err(error.into()),
                    };
                    if let Err(error) = followed {
                        tracing::warn!(%error, "could not follow an announced change");
                        // The listener reconnects on its next call: not in a tight loop.
                        tokio::time::sleep(POLL_INTERVAL).await;
                    }
                }
                _ = poll.tick() => {
                    if let Err(error) = self.follow_changes().await {
                        tracing::warn!(%error, "could not read the change counter");
                    }
                }
                _ = flush.tick() => self.flush_last_used().await,
                _ = republish.tick() => {
                    if let Err(error) = self.reload_keys().await {
                        tracing::warn!(%error, "could not reload the signing keys");
                    }
                }
            }
        }
    }

    async fn follow_changes(&self) -> Result<(), ServiceError> {
        let generation = changes::current(&self.inner.db).await?;
        let local = changes::local_generation();
        let moved = generation != self.inner.remote_generation.load(Ordering::Acquire);
        if moved || local != self.inner.keys_local.load(Ordering::Acquire) {
            self.reload_keys().await?;
        }
        if moved {
            self.inner
                .remote_generation
                .store(generation, Ordering::Release);
        }
        Ok(())
    }

    /// Writes the `last_used_at` times gathered since the last flush.
    pub async fn flush_last_used(&self) {
        let pending: Vec<(String, i64)> = {
            let mut map = self
                .inner
                .last_used
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            map.drain().collect()
        };
        if let Err(error) = secrets::record_last_used(&self.inner.db, &pending).await {
            tracing::warn!(%error, count = pending.len(), "could not record secret use");
        }
    }

    async fn reload_keys(&self) -> Result<(), ServiceError> {
        let local = changes::local_generation();
        let rows = signing_keys::published(&self.inner.db, unix_now()).await?;
        let mut set = KeySet::default();
        let mut jwks = Vec::new();
        for row in rows {
            let signer = parse_key(&row)?;
            set.verifiers.push(signer.verifier());
            let jwk: serde_json::Value = serde_json::from_str(&row.public_jwk)
                .map_err(|_| StoreError::Corrupt("signing key JWK".into()))?;
            jwks.push(jwk);
            set.keys.push(LoadedKey {
                signer: Arc::new(signer),
                schedule: row.schedule(),
            });
        }
        set.jwks = json!({ "keys": jwks }).to_string();
        *self.inner.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        self.inner.keys_local.store(local, Ordering::Release);
        Ok(())
    }

    fn key_set(&self) -> Arc<KeySet> {
        self.inner
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The JWKS document (RFC 7517): every published public key.
    pub fn jwks(&self) -> String {
        self.key_set().jwks.clone()
    }

    /// The cached client, loading it on a miss. `None` for an unknown client id.
    async fn client(&self, client_id: &str) -> Result<Option<Arc<CachedClient>>, TokenError> {
        let local = changes::local_generation();
        let remote = self.inner.remote_generation.load(Ordering::Acquire);
        {
            let cache = self.inner.clients.read().unwrap_or_else(|e| e.into_inner());
            if cache.local == local
                && cache.remote == remote
                && let Some(entry) = cache.entries.get(client_id)
            {
                return Ok(entry.clone());
            }
        }
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
        let mut audiences = split(&app.audiences);
        if app.tool && roles.iter().any(|r| r == "admin") {
            audiences.push(management_audience(&self.inner.issuer));
        }
        Ok(Some(CachedClient {
            default_audience: tenant
                .audience
                .clone()
                .unwrap_or_else(|| super::tenant::default_audience(&self.inner.issuer, &tenant.id)),
            client_id: app.client_id,
            tenant_id: app.tenant_id,
            confidential: app.client_type == "confidential",
            disabled: app.disabled_at.is_some(),
            tool: app.tool,
            scopes: split(&app.scopes),
            roles,
            audiences,
            lifetime_secs: app.token_lifetime_secs,
            secrets,
        }))
    }

    /// Authenticates a confidential client by its secret. Every failure is the same
    /// `invalid_client`; failures are counted per address and audited without the secret.
    pub async fn authenticate(
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
        if let Some(ip) = ip
            && let Some(retry_after) = self.inner.throttle.retry_after(client_id, ip, now)
        {
            return Err(TokenError::Throttled { retry_after });
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
        match (client, matched) {
            (Some(client), Some(secret_id)) => {
                self.inner
                    .last_used
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(secret_id, now);
                Ok(client)
            }
            (client, _) => {
                if let Some(ip) = ip {
                    self.inner.throttle.fail(client_id, ip, now);
                }
                self.audit_failure(client.as_deref(), client_id, ip, now)
                    .await;
                Err(OAuthError::invalid_client(*via_basic).into())
            }
        }
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
        let result = audit::record_alone(&self.inner.db, &event).await;
        if let Err(error) = result {
            tracing::warn!(%error, "could not audit a failed client authentication");
        }
    }

    /// The client-credentials grant (RFC 6749 §4.4).
    pub async fn token(&self, request: TokenRequest<'_>) -> Result<IssuedToken, TokenError> {
        let form = request.form;
        match form.get("grant_type") {
            None => {
                return Err(
                    OAuthError::invalid_request("The grant_type parameter is missing.").into(),
                );
            }
            Some("client_credentials") => {}
            Some(other) => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    format!("The grant type {other} is not supported; use client_credentials."),
                )
                .into());
            }
        }
        let client = self.caller(request.authorization, form, request.ip).await?;
        self.issue(&client, form, unix_now())
    }

    /// Signs an access token for an authenticated client.
    fn issue(
        &self,
        client: &CachedClient,
        form: &FormParams,
        now: i64,
    ) -> Result<IssuedToken, TokenError> {
        let scope = oauth::grant_scopes(form.get("scope"), &client.scopes)?;
        let audience = oauth::choose_audience(
            form.get("audience"),
            form.get("resource"),
            &client.default_audience,
            &client.audiences,
        )?;
        let claims = AccessClaims {
            iss: self.inner.issuer.clone(),
            sub: client.client_id.clone(),
            aud: audience,
            client_id: client.client_id.clone(),
            scope: scope.clone(),
            iat: now,
            exp: now + client.lifetime_secs,
            jti: new_id(),
            tenant: client.tenant_id.clone(),
            roles: client.roles.clone(),
        };
        let keys = self.key_set();
        let signer = keys
            .signer(now)
            .ok_or_else(|| TokenError::Internal("no signing key".into()))?;
        Ok(IssuedToken {
            access_token: signer.sign(&claims)?,
            expires_in: client.lifetime_secs,
            scope,
        })
    }

    /// The JSON variant (seed 003): tenant, client id and secret in a JSON body; all the
    /// app's scopes, the tenant's default audience.
    pub async fn token_for(
        &self,
        tenant_id: &str,
        client_id: &str,
        client_secret: &str,
        ip: Option<&str>,
    ) -> Result<IssuedToken, TokenError> {
        let credentials = ClientCredentials {
            client_id: client_id.to_string(),
            client_secret: Some(client_secret.to_string()),
            via_basic: false,
        };
        let now = unix_now();
        let client = self.authenticate(&credentials, ip, now).await?;
        if client.tenant_id != tenant_id {
            return Err(OAuthError::invalid_client(false).into());
        }
        self.issue(&client, &FormParams::default(), now)
    }

    /// Verifies one of this server's access tokens: signature, issuer, expiry, revocation.
    pub async fn verify(&self, token: &str, now: i64) -> Result<Option<AccessClaims>, TokenError> {
        let keys = self.key_set();
        let Ok(claims) = jwt::verify::<AccessClaims>(token, &keys.verifiers) else {
            return Ok(None);
        };
        if claims.iss != self.inner.issuer || claims.exp <= now {
            return Ok(None);
        }
        if revoked::is_revoked(&self.inner.db, &claims.jti).await? {
            return Ok(None);
        }
        Ok(Some(claims))
    }

    /// The principal a bearer token stands for at the management API: a live tool client
    /// with the `admin` role, checked now (not as the token says it was at issue), with a
    /// token issued by this server for the management API, unexpired and not revoked.
    pub async fn management_principal(&self, token: &str) -> Result<Principal, BearerRejection> {
        let claims = self
            .verify(token, unix_now())
            .await
            .map_err(BearerRejection::from)?
            .ok_or(BearerRejection::InvalidToken)?;
        if claims.aud != management_audience(&self.inner.issuer) {
            return Err(BearerRejection::InvalidToken);
        }
        let client = self
            .client(&claims.client_id)
            .await
            .map_err(BearerRejection::from)?
            .filter(|c| !c.disabled && c.tenant_id == claims.tenant)
            .ok_or(BearerRejection::InvalidToken)?;
        if !(client.tool && client.roles.iter().any(|r| r == "admin")) {
            return Err(BearerRejection::NotAnAdminTool);
        }
        Ok(Principal::tool_client(&client.client_id, &client.tenant_id))
    }

    /// RFC 7662: the caller must be an authenticated client of the token's tenant.
    pub async fn introspect(
        &self,
        authorization: Option<&[u8]>,
        form: &FormParams,
        ip: Option<&str>,
    ) -> Result<Option<AccessClaims>, TokenError> {
        let caller = self.caller(authorization, form, ip).await?;
        let Some(token) = form.get("token") else {
            return Err(OAuthError::invalid_request("The token parameter is missing.").into());
        };
        Ok(self
            .verify(token, unix_now())
            .await?
            .filter(|c| c.tenant == caller.tenant_id))
    }

    /// RFC 7009: revokes an access token issued to the calling client. Unknown tokens and
    /// other clients' tokens are accepted and ignored, so the answer reveals nothing.
    pub async fn revoke(
        &self,
        authorization: Option<&[u8]>,
        form: &FormParams,
        ip: Option<&str>,
    ) -> Result<(), TokenError> {
        let caller = self.caller(authorization, form, ip).await?;
        let Some(token) = form.get("token") else {
            return Err(OAuthError::invalid_request("The token parameter is missing.").into());
        };
        let now = unix_now();
        if let Some(claims) = self.verify(token, now).await?
            && claims.client_id == caller.client_id
        {
            revoked::insert(&self.inner.db, &claims.jti, &claims.tenant, claims.exp, now).await?;
        }
        Ok(())
    }

    /// The authenticated client of a token, introspection or revocation request.
    async fn caller(
        &self,
        authorization: Option<&[u8]>,
        form: &FormParams,
        ip: Option<&str>,
    ) -> Result<Arc<CachedClient>, TokenError> {
        let basic = oauth::parse_basic(authorization)?;
        let credentials = oauth::client_credentials(basic, form)?;
        self.authenticate(&credentials, ip, unix_now()).await
    }
}

/// The next announced change, or never when there is no feed.
async fn next_change(feed: &mut Option<ChangeFeed>) -> Result<(), StoreError> {
    match feed {
        Some(feed) => feed.next().await,
        None => std::future::pending().await,
    }
}

/// The `aud` of tokens for the management API (RFC 8707 resource `{issuer}/api/v1`), which
/// tool clients with the `admin` role may ask for.
pub fn management_audience(issuer: &str) -> String {
    format!("{issuer}/api/v1")
}

/// Why a bearer token does not open the management API.
#[derive(Debug)]
pub enum BearerRejection {
    /// Not this server's, expired, revoked, for another audience, or its client is gone.
    InvalidToken,
    /// A live token of a client that is not a tool client with the `admin` role.
    NotAnAdminTool,
    Internal(String),
}

impl From<TokenError> for BearerRejection {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Internal(detail) => BearerRejection::Internal(detail),
            _ => BearerRejection::InvalidToken,
        }
    }
}

fn parse_key(row: &KeyRow) -> Result<Signer, ServiceError> {
    let corrupt = |what: &str| ServiceError::Store(StoreError::Corrupt(what.into()));
    let alg = Alg::parse(&row.alg).ok_or_else(|| corrupt("signing key algorithm"))?;
    let der = STANDARD
        .decode(&row.private_key)
        .map_err(|_| corrupt("signing key encoding"))?;
    Signer::from_pkcs8(&row.kid, alg, &der).map_err(|e| ServiceError::Internal(e.to_string()))
}

fn new_key_row(alg: Alg, now: i64, active_from: i64) -> Result<KeyRow, ServiceError> {
    let kid = new_id();
    let generated =
        Signer::generate(alg, &kid).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(KeyRow {
        kid,
        alg: alg.as_str().to_string(),
        private_key: STANDARD.encode(&generated.pkcs8),
        public_jwk: generated.public_jwk.to_string(),
        created_at: now,
        active_from,
        retired_at: None,
        publish_until: None,
    })
}

/// Creates the first signing key unless one exists. Several instances starting at once
/// serialise on the change counter's row, so exactly one key is made.
pub async fn ensure_signing_key(db: &Database, alg: Alg, now: i64) -> Result<(), ServiceError> {
    let mut tx = db.begin().await?;
    changes::bump(&mut tx).await?;
    if signing_keys::unretired_in(&mut tx).await?.is_empty() {
        signing_keys::insert(&mut tx, &new_key_row(alg, now, now)?).await?;
        tx.commit().await?;
    }
    // Nothing changed otherwise: dropping the transaction rolls the bump back.
    Ok(())
}

/// What `keyport keys rotate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub new_kid: String,
    pub signs_from: i64,
    pub retired: Vec<String>,
}

/// Publishes a new key now, signs with it from `now + lead_secs` (so relying parties that
/// cache the JWKS see it before any token it signs), and retires the current ones then; they
/// stay published until the tokens they signed have expired.
pub async fn rotate_keys(
    db: &Database,
    alg: Alg,
    lead_secs: i64,
    now: i64,
) -> Result<Rotation, ServiceError> {
    let signs_from = now + lead_secs.max(0);
    let mut tx = db.begin().await?;
    changes::bump(&mut tx).await?;
    let current = signing_keys::unretired_in(&mut tx).await?;
    let row = new_key_row(alg, now, signs_from)?;
    signing_keys::insert(&mut tx, &row).await?;
    for old in &current {
        signing_keys::retire(
            &mut tx,
            &old.kid,
            signs_from,
            signs_from + RETIRED_KEY_PUBLISHED_SECS,
        )
        .await?;
    }
    let event = audit::NewEvent::new(None, audit::Actor::System, "key.rotated", now)
        .target("signing_key", &row.kid)
        .detail(json!({ "alg": alg.as_str(), "signs_from": signs_from }));
    audit::record(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(Rotation {
        new_kid: row.kid,
        signs_from,
        retired: current.into_iter().map(|k| k.kid).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn one_client_id_is_blocked_from_the_failing_address_only() {
        let throttle = Throttle::default();
        for _ in 0..FAILURES_PER_CLIENT_AND_ADDRESS {
            assert_eq!(throttle.retry_after("app-a", "10.0.0.1", NOW), None);
            throttle.fail("app-a", "10.0.0.1", NOW);
        }
        assert_eq!(
            throttle.retry_after("app-a", "10.0.0.1", NOW + 10),
            Some(FAILURE_WINDOW_SECS - 10)
        );
        assert_eq!(throttle.retry_after("app-a", "10.0.0.2", NOW + 10), None);
        assert_eq!(throttle.retry_after("app-b", "10.0.0.1", NOW + 10), None);
        assert_eq!(
            throttle.retry_after("app-a", "10.0.0.1", NOW + FAILURE_WINDOW_SECS),
            None,
            "the window has closed"
        );
    }

    #[test]
    fn an_address_trying_many_client_ids_is_blocked_for_all_of_them() {
        let throttle = Throttle::default();
        for i in 0..FAILURES_PER_ADDRESS {
            throttle.fail(&format!("app-{i}"), "10.0.0.1", NOW);
        }
        assert_eq!(
            throttle.retry_after("never-tried", "10.0.0.1", NOW + 59),
            Some(1)
        );
        assert_eq!(throttle.retry_after("never-tried", "10.0.0.2", NOW), None);
    }

    #[test]
    fn a_new_window_forgets_the_old_client_ids_of_an_address() {
        let throttle = Throttle::default();
        for i in 0..50 {
            throttle.fail(&format!("app-{i}"), "10.0.0.1", NOW);
        }
        throttle.fail("app-late", "10.0.0.1", NOW + FAILURE_WINDOW_SECS);
        let by_address = throttle.by_address.lock().unwrap();
        assert_eq!(by_address["10.0.0.1"].per_client.len(), 1);
        assert_eq!(by_address["10.0.0.1"].all.count, 1);
    }
}
