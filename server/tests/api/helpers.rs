use std::net::SocketAddr;

use app::store::testkit::TestDb;
use server::startup::{Application, Settings};
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The application on a fresh SQLite database.
pub async fn spawn_app() -> TestApp {
    spawn_app_on(TestDb::sqlite().await).await
}

/// The application on the given fresh database.
pub async fn spawn_app_on(db: TestDb) -> TestApp {
    let settings = Settings {
        database_url: db.url.clone(),
        addr: "127.0.0.1:0".parse().unwrap(),
        issuer: None,
        site_root: "target/site".into(),
    };
    let app = Application::with_database(db.db.clone(), settings)
        .await
        .expect("application starts");
    let addr = app.local_addr();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        addr,
        client,
        db,
        shutdown: Some(tx),
    }
}

/// The application once per configured engine: SQLite, and PostgreSQL when configured.
pub async fn spawn_apps() -> Vec<TestApp> {
    let mut apps = Vec::new();
    for db in TestDb::all().await {
        apps.push(spawn_app_on(db).await);
    }
    apps
}
