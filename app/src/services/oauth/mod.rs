//! The OAuth service: client authentication, the token endpoint and its grants (one module
//! each under [`grants`]), introspection, revocation and the management API's bearer tokens.
//!
//! The hot path (a known client asking for a token) touches no database and parses no key:
//! clients with their secret hashes are cached in memory, the signing keys are parsed once,
//! and `last_used_at` is written in batches. The caches are dropped when this process commits
//! a change to apps, secrets, audiences or keys (at once), or when the shared change counter
//! moves because another process did: at once on PostgreSQL, which announces every such
//! commit, and otherwise within one poll interval.

mod access_token;
pub mod authorize;
mod bearer;
mod clients;
mod clock;
mod error;
pub mod grants;
mod introspection;
mod keyset;
mod metadata;
mod revocation;
mod scrape;
mod throttle;
mod user_tokens;
pub mod userinfo;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

pub use access_token::IssuedToken;
pub use bearer::{BearerRejection, management_audience};
#[cfg(any(test, feature = "testkit"))]
pub use clock::ManualClock;
pub use clock::{Clock, SystemClock};
pub use error::TokenError;
pub use grants::{Grant, TokenRequest, refresh_token::RefreshLifetimes};
pub use throttle::{FAILURE_WINDOW_SECS, FAILURES_PER_ADDRESS, FAILURES_PER_CLIENT_AND_ADDRESS};

use super::{ServiceError, keys::ensure_signing_key, metrics::Metrics};
use crate::{
    domain::{credentials::SecretHasher, jwt::Alg, sealing::MasterKey},
    store::{
        Database, StoreError,
        changes::{self, ChangeFeed},
        secrets,
    },
};

/// How often each instance looks at the shared change counter by default. On PostgreSQL
/// this only covers announcements missed while the listener reconnected.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How often batched `last_used_at` times are written.
pub const LAST_USED_FLUSH: Duration = Duration::from_secs(10);

struct Inner {
    db: Database,
    hasher: SecretHasher,
    /// Opens the signing keys' private halves, and seals the first one.
    master: MasterKey,
    public_url: String,
    clients: RwLock<clients::ClientCache>,
    remote_generation: AtomicI64,
    keys: RwLock<Arc<keyset::KeySet>>,
    keys_local: AtomicU64,
    /// The shared counter when the keys were last loaded; a failed reload is tried again.
    keys_remote: AtomicI64,
    last_used: Mutex<HashMap<String, i64>>,
    throttle: throttle::Throttle,
    poll_interval: Duration,
    clock: Arc<dyn Clock>,
    refresh: RefreshLifetimes,
    metrics: Metrics,
}

/// Cheap to clone; every clone shares the caches.
#[derive(Clone)]
pub struct OAuthService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for OAuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OAuthService")
    }
}

impl OAuthService {
    /// Loads the signing keys (sealed under `master`), creating the first one (of `alg`) on a
    /// fresh database. `clock` tells the time for every expiry, window and key schedule.
    /// `poll_interval` is how often [`run_background`](Self::run_background) reads the shared
    /// change counter ([`POLL_INTERVAL`] unless a test needs otherwise).
    #[allow(clippy::too_many_arguments)]
    pub async fn start(
        db: Database,
        hasher: SecretHasher,
        master: MasterKey,
        public_url: String,
        alg: Alg,
        poll_interval: Duration,
        clock: Arc<dyn Clock>,
        refresh: RefreshLifetimes,
    ) -> Result<OAuthService, ServiceError> {
        ensure_signing_key(&db, &master, alg, clock.now()).await?;
        let generation = changes::current(&db).await?;
        let service = OAuthService {
            inner: Arc::new(Inner {
                remote_generation: AtomicI64::new(generation),
                keys_remote: AtomicI64::new(generation),
                db,
                hasher,
                master,
                public_url,
                clients: RwLock::default(),
                keys: RwLock::default(),
                keys_local: Default::default(),
                last_used: Mutex::default(),
                throttle: throttle::Throttle::default(),
                poll_interval,
                clock,
                refresh,
                metrics: Metrics::new(),
            }),
        };
        service.reload_keys().await?;
        Ok(service)
    }

    /// The time as this service's clock tells it.
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// What this instance counts for `/metrics`; the portal's sign-in counts here too.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
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
        // Clients follow every change even while the keys cannot be reloaded (an instance
        // still started with the master key a `keys rewrap` replaced keeps signing with the
        // keys it holds), so a secret revoked elsewhere stops working here too.
        self.inner
            .remote_generation
            .store(generation, Ordering::Release);
        let local = changes::local_generation();
        if generation != self.inner.keys_remote.load(Ordering::Acquire)
            || local != self.inner.keys_local.load(Ordering::Acquire)
        {
            self.reload_keys().await?;
            self.inner.keys_remote.store(generation, Ordering::Release);
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
}

/// The next announced change, or never when there is no feed.
async fn next_change(feed: &mut Option<ChangeFeed>) -> Result<(), StoreError> {
    match feed {
        Some(feed) => feed.next().await,
        None => std::future::pending().await,
    }
}
