//! Builds the whole application from its settings; used by `main` and by the tests alike.

use std::net::SocketAddr;

use axum::{
    Router,
    middleware::{from_fn, from_fn_with_state},
    routing::get,
};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list, render_app_async_with_context};
use tokio::net::TcpListener;

use app::{
    App,
    auth::IDLE_LIFETIME_SECS,
    domain::{jwt::Alg, sealing::MasterKey},
    services::{
        key_rotation::{self, AutoRotation},
        oauth::{Clock, OAuthService},
    },
    shell,
    state::{AppState, AppStateInner},
    store::{Database, changes::ChangeFeed, sessions::SessionBackend},
};
use tower_sessions::{
    Expiry, SessionManagerLayer, cookie::SameSite, session_store::ExpiredDeletion,
};

use crate::{
    http::{
        api,
        assets::{self, PortalAssets},
        client_address::{self, TrustedProxies},
        health,
        metrics::{self, RequestCounts},
        middleware, oauth,
    },
    master_key::{MasterKeyError, MasterKeySource, open_database},
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Store(#[from] app::store::StoreError),
    #[error("{0}")]
    MasterKey(#[from] MasterKeyError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("secret hash key: {0}")]
    SecretHashKey(String),
    #[error("signing keys: {0}")]
    SigningKeys(String),
}

/// Everything `serve` needs, already validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub addr: SocketAddr,
    /// Where `/metrics` is served alone; on the main port when `None`.
    pub metrics_addr: Option<SocketAddr>,
    /// The public base URL ([`crate::config::ServeArgs::public_url`]).
    pub public_url: Option<String>,
    /// The portal's CSS, JS, WASM and public files ([`PortalAssets::built_in`] in `serve`).
    pub assets: PortalAssets,
    pub secret_hash_key: Option<String>,
    /// Seals the signing keys and the stored secret-hash key.
    pub master_key: MasterKeySource,
    /// The algorithm of signing keys this server creates; `None`: [`Alg::DEFAULT`] for a fresh
    /// database's first key, the current key's for those rotation makes.
    pub signing_alg: Option<Alg>,
    /// How often to read the shared change counter ([`app::services::oauth::POLL_INTERVAL`]).
    pub change_poll_interval: std::time::Duration,
    /// Reverse proxies whose forwarding headers name the client's address.
    pub trusted_proxies: TrustedProxies,
    /// The token service's time ([`app::services::oauth::SystemClock`] but in tests).
    pub clock: std::sync::Arc<dyn Clock>,
    /// How long refresh tokens live unused and in all.
    pub refresh_lifetimes: app::services::oauth::RefreshLifetimes,
    /// How often the signing key is replaced, and how often that is checked.
    pub key_rotation: AutoRotation,
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    /// `/metrics` on its own listener, when it has one.
    metrics: Option<(TcpListener, Router)>,
    state: AppState,
    public_url: String,
    feed: Option<ChangeFeed>,
    key_rotation: AutoRotation,
    signing_alg: Option<Alg>,
    clock: std::sync::Arc<dyn Clock>,
    /// Seals the keys automatic rotation makes.
    master: MasterKey,
}

impl Application {
    /// Connects and migrates the database, then binds the listener (port 0 picks a free one).
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let (db, master) = open_database(&settings.database_url, &settings.master_key).await?;
        let (listener, local_addr) = listen(settings.addr).await?;
        let metrics_listener = match settings.metrics_addr {
            Some(addr) => Some(listen(addr).await?.0),
            None => None,
        };
        let public_url = settings
            .public_url
            .unwrap_or_else(|| format!("http://{local_addr}"));

        let leptos_options = leptos_options(local_addr);
        let sessions = SessionBackend::for_database(&db).await?;
        tokio::spawn(delete_expired_sessions(sessions.clone()));
        let hasher =
            app::services::keys::secret_hasher(&db, &master, settings.secret_hash_key.as_deref())
                .await
                .map_err(|e| StartupError::SecretHashKey(e.to_string()))?;
        // Before the token service fills its caches: every change after that is announced.
        let feed = match ChangeFeed::subscribe(&db).await {
            Ok(feed) => feed,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for changes; other instances' changes arrive by polling only");
                None
            }
        };
        let oauth = OAuthService::start(
            db.clone(),
            hasher.clone(),
            master.clone(),
            public_url.clone(),
            settings.signing_alg.unwrap_or(Alg::DEFAULT),
            settings.change_poll_interval,
            settings.clock.clone(),
            settings.refresh_lifetimes,
        )
        .await
        .map_err(|e| StartupError::SigningKeys(e.to_string()))?;
        let state = AppState::new(AppStateInner {
            leptos_options,
            db,
            hasher,
            public_url: public_url.clone(),
            oauth,
            assets: settings.assets.urls().clone(),
            attempts: Default::default(),
        });
        let (registry, requests) = metrics::registry(&state.oauth);
        let router = router(
            state.clone(),
            settings.assets,
            session_layer(sessions, &public_url),
            settings.trusted_proxies,
            requests,
            metrics_listener.is_none().then(|| registry.clone()),
        );
        Ok(Application {
            listener,
            router,
            metrics: metrics_listener.map(|listener| (listener, metrics::router(registry))),
            state,
            public_url,
            feed,
            key_rotation: settings.key_rotation,
            signing_alg: settings.signing_alg,
            clock: settings.clock,
            master,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Where `/metrics` is served alone, if it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        let (listener, _) = self.metrics.as_ref()?;
        listener.local_addr().ok()
    }

    /// The application's own pool (the tests use it to simulate an outage).
    pub fn database(&self) -> &Database {
        &self.state.db
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests (on the metrics
    /// listener too) and closes the pool.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Application {
            listener,
            router,
            metrics,
            state,
            feed,
            key_rotation,
            signing_alg,
            clock,
            master,
            ..
        } = self;
        let background = tokio::spawn(state.oauth.clone().run_background(feed));
        let rotation = tokio::spawn(key_rotation::run(
            state.db.clone(),
            master,
            key_rotation,
            signing_alg,
            clock,
        ));
        // Dropped or sent when the main server starts shutting down: the metrics one follows.
        let (stopping, stop) = tokio::sync::watch::channel(());
        let metrics_server = metrics.map(|(listener, router)| {
            let mut stop = stop.clone();
            tokio::spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stop.changed().await;
                    })
                    .await
            })
        });
        let result = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stopping.send(());
        })
        .await;
        if let Some(server) = metrics_server {
            match server.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "the metrics listener failed"),
                Err(error) => tracing::warn!(%error, "the metrics listener stopped abnormally"),
            }
        }
        background.abort();
        rotation.abort();
        state.oauth.flush_last_used().await;
        state.db.close().await;
        result
    }
}

/// Binds `addr` (port 0 picks a free one); the listener and the address it got.
async fn listen(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartupError> {
    let bind_error = |source| StartupError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    Ok((listener, local_addr))
}

/// Leptos' own options; the assets' names and bytes come from [`PortalAssets`] instead.
fn leptos_options(addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("keyport")
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// The session cookie: HttpOnly and SameSite=Lax always; behind an https public URL also
/// Secure with the `__Host-` prefix, which pins it to this exact origin.
fn session_layer(
    sessions: SessionBackend,
    public_url: &str,
) -> SessionManagerLayer<SessionBackend> {
    let https = public_url.starts_with("https://");
    SessionManagerLayer::new(sessions)
        .with_name(if https {
            "__Host-keyport_session"
        } else {
            "keyport_session"
        })
        .with_secure(https)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            IDLE_LIFETIME_SECS,
        )))
}

async fn delete_expired_sessions(sessions: SessionBackend) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        if let Err(error) = sessions.delete_expired().await {
            tracing::warn!(%error, "could not delete expired sessions");
        }
    }
}

/// leptos' route list, generated once per process. Generating it renders the app with resource
/// loading switched off by a process-global flag (leptos_server's `SuppressResourceLoad`); a
/// resource first polled while the flag is up, in a page another server of the same process is
/// rendering, waits forever, and so does its response (leptos issue 4773). That was the test
/// suite's hang (issue 15): its servers start while others render. Generated once, before any
/// router exists, no render can overlap it.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES
        .get_or_init(|| {
            let mut routes = generate_route_list(App);
            // The authorization endpoint's own handler answers there, and renders the portal's
            // page only when it sends nobody on.
            routes.retain(|route| !route.path().ends_with("/oauth/authorize"));
            routes
        })
        .clone()
}

/// The main port's routes. `metrics` is the registry to serve at `/metrics` here, unless it
/// has a listener of its own.
pub fn router(
    state: AppState,
    assets: PortalAssets,
    sessions: SessionManagerLayer<SessionBackend>,
    trusted_proxies: TrustedProxies,
    requests: RequestCounts,
    metrics: Option<std::sync::Arc<prometheus_client::registry::Registry>>,
) -> Router {
    let routes = route_list();
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let shell_options = state.leptos_options.clone();

    let mut endpoints = oauth::router(state.oauth.clone());
    if let Some(registry) = metrics {
        endpoints = endpoints.merge(metrics::router(registry));
    }

    let notice_page =
        oauth::authorize::NoticePage::new(render_app_async_with_context(context.clone(), {
            let options = shell_options.clone();
            move || shell(options.clone())
        }));
    let portal = Router::new()
        .nest("/api/v1", api::router())
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/oauth/authorize",
            get(oauth::authorize::authorize).layer(axum::Extension(notice_page.clone())),
        )
        .route(
            "/t/{tenant}/oauth/authorize",
            get(oauth::authorize::authorize).layer(axum::Extension(notice_page)),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = shell_options.clone();
            move || shell(options.clone())
        })
        // Anything else is the portal's 404 page; files never come from the working directory.
        .fallback({
            let render =
                render_app_async_with_context(context, move || shell(shell_options.clone()));
            move |req: axum::extract::Request| render(req)
        })
        .layer(from_fn(middleware::server_fn_error_status))
        .layer(sessions)
        .layer(from_fn(middleware::reject_cross_site))
        .layer(from_fn(middleware::limit_body))
        .layer(from_fn_with_state(assets, assets::serve))
        .with_state(state);

    endpoints
        .merge(portal)
        .layer(from_fn_with_state(requests, metrics::count_requests))
        .layer(from_fn(middleware::security_headers))
        .layer(from_fn_with_state(trusted_proxies, client_address::resolve))
        .layer(from_fn(middleware::log_request))
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
