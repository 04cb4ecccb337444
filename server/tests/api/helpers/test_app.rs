//! The real application on 127.0.0.1:0 with a fresh database, and the requests tests send it.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use app::{
    domain::{jwt::Alg, key_rotation::RotationPolicy},
    model::accounts::PortalContext,
    services::{
        key_rotation::AutoRotation,
        oauth::{Clock, ManualClock, SystemClock},
    },
    store::{
        Database,
        testkit::{TestDb, master_key_file},
    },
};
use reqwest::{Response, header::HeaderMap};
use server::{
    http::{assets::PortalAssets, client_address::TrustedProxies},
    master_key::MasterKeySource,
    startup::{Application, Settings, StartupError},
};
use server_fn::ServerFn;
use tokio::{sync::oneshot, task::JoinHandle};

use super::fixtures::PASSWORD;

pub struct TestApp {
    pub addr: SocketAddr,
    /// Where `/metrics` is served alone, when the test asked for its own listener.
    pub metrics_addr: Option<SocketAddr>,
    pub client: reqwest::Client,
    pub db: Database,
    pub db_url: String,
    /// The OAuth service's time; siblings share it.
    clock: Arc<dyn Clock>,
    /// Siblings rotate the signing key as this one does.
    key_rotation: AutoRotation,
    guard: Option<TestDb>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The issuer of `tenant_id`'s tokens on this instance (SPEC §1).
    pub fn issuer(&self, tenant_id: &str) -> String {
        self.url(&format!("/t/{tenant_id}"))
    }

    /// An unauthenticated GET of `path`.
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// The JSON document an unauthenticated GET of `path` answers with.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.get(path).await.json().await.unwrap()
    }

    /// A form POST as OAuth clients send it, with an `Authorization` header when given.
    pub async fn post_form(&self, path: &str, auth: Option<&str>, body: &str) -> Response {
        let mut req = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string());
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        req.send().await.unwrap()
    }

    pub fn engine(&self) -> app::store::Engine {
        self.db.engine()
    }

    /// Calls a server function as the portal's own client does (errors keep their status; a
    /// redirect is a `Location` header), with the session cookie when given.
    pub async fn call(&self, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Response {
        let mut req = self.client.post(self.url(path)).form(form);
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await.unwrap()
    }

    /// Signs up and returns the session cookie (`name=value`).
    pub async fn sign_up(&self, email: &str) -> String {
        use app::server_fns::auth::SignUp;
        let res = self
            .call(
                SignUp::PATH,
                &[("email", email), ("name", ""), ("password", PASSWORD)],
                None,
            )
            .await;
        assert_eq!(res.status(), 200, "sign-up failed");
        session_cookie(res.headers()).expect("sign-up sets a session cookie")
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        use app::server_fns::auth::SignIn;
        self.call(
            SignIn::PATH,
            &[("email", email), ("password", password)],
            None,
        )
        .await
    }

    /// A sign-in whose `X-Forwarded-For` says it comes from `client` (believed only when this
    /// server trusts the loopback proxy: [`spawn_app_behind_proxy`]).
    pub async fn sign_in_from(&self, client: &str, email: &str, password: &str) -> Response {
        use app::server_fns::auth::SignIn;
        self.client
            .post(self.url(SignIn::PATH))
            .header("x-forwarded-for", client)
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    /// A token request whose `X-Forwarded-For` says it comes from `client`.
    pub async fn token_from(&self, client: &str, auth: Option<&str>, body: &str) -> Response {
        let mut req = self
            .client
            .post(self.url("/oauth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", client)
            .body(body.to_string());
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        req.send().await.unwrap()
    }

    /// Who the portal sees behind `cookie` (nobody without one), and whether it is a first run.
    pub async fn portal_context(&self, cookie: Option<&str>) -> PortalContext {
        use app::server_fns::auth::GetPortalContext;
        let res = self.call(GetPortalContext::PATH, &[], cookie).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Another server process on the same database, as behind a load balancer.
    pub async fn spawn_sibling(&self) -> TestApp {
        let tuning = Tuning {
            clock: self.clock.clone(),
            key_rotation: self.key_rotation,
            ..Tuning::default()
        };
        start_with(self.db_url.clone(), None, None, tuning).await
    }

    /// Another server on this database with this one's clock, started with the defaults but
    /// for rotating its key every `every_days` (checked every [`ROTATION_CHECK_INTERVAL`]).
    pub async fn spawn_sibling_rotating_keys(&self, every_days: u32) -> TestApp {
        let tuning = Tuning {
            clock: self.clock.clone(),
            key_rotation: rotating_every(every_days),
            ..Tuning::default()
        };
        start_with(self.db_url.clone(), None, None, tuning).await
    }

    /// Another server with this one's clock and keys kept outside the database, on another
    /// database: a restored copy of this one's, say.
    pub async fn spawn_on(&self, db_url: &str) -> TestApp {
        let tuning = Tuning {
            clock: self.clock.clone(),
            key_rotation: self.key_rotation,
            ..Tuning::default()
        };
        // Given this server's master key, as an operator restoring a backup gives it.
        let master_key = MasterKeySource::File(master_key_file(&self.db_url));
        try_start_with(db_url.to_string(), None, None, tuning, master_key)
            .await
            .expect("application starts")
    }

    /// Stops this server and starts a new one on the same database.
    pub async fn restart(mut self) -> TestApp {
        let guard = self.guard.take();
        let url = self.db_url.clone();
        self.stop().await;
        start(url, guard, None).await
    }

    /// Stops this server as SIGTERM would, waiting until it has finished.
    pub async fn shut_down(mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// `name=value` of the session cookie a response sets, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("keyport_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

async fn start(db_url: String, guard: Option<TestDb>, public_url: Option<String>) -> TestApp {
    start_with(db_url, guard, public_url, Tuning::default()).await
}

/// What a few tests set differently from `keyport serve`'s defaults.
struct Tuning {
    change_poll_interval: Duration,
    /// `None`, as `keyport serve` without `--signing-alg`.
    signing_alg: Option<Alg>,
    clock: Arc<dyn Clock>,
    trusted_proxies: TrustedProxies,
    assets: PortalAssets,
    key_rotation: AutoRotation,
    metrics_addr: Option<SocketAddr>,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            change_poll_interval: app::services::oauth::POLL_INTERVAL,
            signing_alg: None,
            clock: Arc::new(SystemClock),
            trusted_proxies: TrustedProxies::default(),
            assets: PortalAssets::none(),
            key_rotation: AutoRotation::default(),
            metrics_addr: None,
        }
    }
}

async fn start_with(
    db_url: String,
    guard: Option<TestDb>,
    public_url: Option<String>,
    tuning: Tuning,
) -> TestApp {
    // SQLite keeps its key beside the database, as by default in production; every instance
    // on a PostgreSQL database is given its key file.
    let master_key = if db_url.starts_with("sqlite:") {
        MasterKeySource::Default
    } else {
        MasterKeySource::File(master_key_file(&db_url))
    };
    try_start_with(db_url, guard, public_url, tuning, master_key)
        .await
        .expect("application starts")
}

/// The application on an existing database `db_url` (whose owner keeps it), with the master
/// key from `master_key`; or why it did not start.
pub async fn try_spawn_on(
    db_url: &str,
    master_key: MasterKeySource,
) -> Result<TestApp, StartupError> {
    try_start_with(db_url.into(), None, None, Tuning::default(), master_key).await
}

async fn try_start_with(
    db_url: String,
    guard: Option<TestDb>,
    public_url: Option<String>,
    tuning: Tuning,
    master_key: MasterKeySource,
) -> Result<TestApp, StartupError> {
    let settings = Settings {
        database_url: db_url.clone(),
        addr: "127.0.0.1:0".parse().unwrap(),
        metrics_addr: tuning.metrics_addr,
        public_url,
        assets: tuning.assets.clone(),
        secret_hash_key: None,
        master_key,
        signing_alg: tuning.signing_alg,
        change_poll_interval: tuning.change_poll_interval,
        trusted_proxies: tuning.trusted_proxies.clone(),
        clock: tuning.clock.clone(),
        refresh_lifetimes: Default::default(),
        key_rotation: tuning.key_rotation,
    };
    let app = Application::build(settings).await?;
    let addr = app.local_addr();
    let metrics_addr = app.metrics_addr();
    let db = app.database().clone();
    let (tx, rx) = oneshot::channel();
    let server = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Ok(TestApp {
        addr,
        metrics_addr,
        client,
        db,
        db_url,
        clock: tuning.clock,
        key_rotation: tuning.key_rotation,
        guard,
        shutdown: Some(tx),
        server: Some(server),
    })
}

/// The application on a fresh SQLite database.
pub async fn spawn_app() -> TestApp {
    spawn_app_on(TestDb::sqlite().await).await
}

/// The application on the given fresh database.
pub async fn spawn_app_on(db: TestDb) -> TestApp {
    start(db.url.clone(), Some(db), None).await
}

/// The application behind an https public URL, as in production.
pub async fn spawn_https_app() -> TestApp {
    let db = TestDb::sqlite().await;
    start(
        db.url.clone(),
        Some(db),
        Some("https://id.example.com".into()),
    )
    .await
}

/// The application on the given fresh database, reading the change counter only this often:
/// it learns of other processes' changes from their announcements or not for a long while.
pub async fn spawn_app_polling_every(db: TestDb, interval: Duration) -> TestApp {
    let tuning = Tuning {
        change_poll_interval: interval,
        ..Tuning::default()
    };
    start_with(db.url.clone(), Some(db), None, tuning).await
}

/// The application on a fresh SQLite database, its OAuth service reading `clock`, which the
/// test moves instead of sleeping (its siblings read the same clock).
pub async fn spawn_app_with_clock(clock: ManualClock) -> TestApp {
    let db = TestDb::sqlite().await;
    let tuning = Tuning {
        clock: Arc::new(clock),
        ..Tuning::default()
    };
    start_with(db.url.clone(), Some(db), None, tuning).await
}

/// The application on a fresh SQLite database serving `assets` as the portal's files.
pub async fn spawn_app_with_assets(assets: PortalAssets) -> TestApp {
    let db = TestDb::sqlite().await;
    let tuning = Tuning {
        assets,
        ..Tuning::default()
    };
    start_with(db.url.clone(), Some(db), None, tuning).await
}

/// The application on the given fresh database, its OAuth service reading `clock`, replacing
/// its signing key every `every_days` days of that clock (0: never) and asking whether it is
/// due every few milliseconds rather than hourly. Its siblings do the same.
pub async fn spawn_app_rotating_keys(db: TestDb, clock: ManualClock, every_days: u32) -> TestApp {
    spawn_app_rotating_keys_of(db, clock, every_days, None).await
}

/// As [`spawn_app_rotating_keys`], started with `--signing-alg` when `alg` is given.
pub async fn spawn_app_rotating_keys_of(
    db: TestDb,
    clock: ManualClock,
    every_days: u32,
    alg: Option<Alg>,
) -> TestApp {
    let tuning = Tuning {
        clock: Arc::new(clock),
        key_rotation: rotating_every(every_days),
        signing_alg: alg,
        ..Tuning::default()
    };
    start_with(db.url.clone(), Some(db), None, tuning).await
}

fn rotating_every(days: u32) -> AutoRotation {
    AutoRotation {
        policy: RotationPolicy::every_days(days),
        check_interval: ROTATION_CHECK_INTERVAL,
    }
}

/// How often the servers of [`spawn_app_rotating_keys`] ask whether a rotation is due.
pub const ROTATION_CHECK_INTERVAL: Duration = Duration::from_millis(20);

/// The application on a fresh SQLite database whose first signing key is of `alg`.
pub async fn spawn_app_signing_with(alg: Alg) -> TestApp {
    let db = TestDb::sqlite().await;
    let tuning = Tuning {
        signing_alg: Some(alg),
        ..Tuning::default()
    };
    start_with(db.url.clone(), Some(db), None, tuning).await
}

/// The application on a fresh SQLite database behind a reverse proxy on loopback: the tests'
/// requests come from a trusted proxy, whose `X-Forwarded-For` names the client.
pub async fn spawn_app_behind_proxy() -> TestApp {
    let db = TestDb::sqlite().await;
    let network = server::http::client_address::parse_network("127.0.0.1").unwrap();
    let tuning = Tuning {
        trusted_proxies: TrustedProxies::new(vec![network], Default::default()),
        ..Tuning::default()
    };
    start_with(db.url.clone(), Some(db), None, tuning).await
}

/// The application on a fresh SQLite database with `/metrics` on a listener of its own.
pub async fn spawn_app_with_metrics_listener() -> TestApp {
    let db = TestDb::sqlite().await;
    let tuning = Tuning {
        metrics_addr: Some("127.0.0.1:0".parse().unwrap()),
        ..Tuning::default()
    };
    start_with(db.url.clone(), Some(db), None, tuning).await
}

/// The application once per configured engine: SQLite, and PostgreSQL when configured.
pub async fn spawn_apps() -> Vec<TestApp> {
    let mut apps = Vec::new();
    for db in TestDb::all().await {
        apps.push(spawn_app_on(db).await);
    }
    apps
}
