//! Fresh databases for tests: a temporary SQLite file always, and a throw-away PostgreSQL
//! database when `KEYPORT_TEST_POSTGRES_URL` names a server to create it on. Each comes with
//! a master key file of its own ([`master_key_file`]), as a deployment keeps one beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    future::Future,
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use super::{Database, Engine, master_key_beside};
use crate::domain::sealing::MasterKey;

pub const POSTGRES_URL_VAR: &str = "KEYPORT_TEST_POSTGRES_URL";

/// A database that exists for one test and is removed when dropped.
pub struct TestDb {
    pub url: String,
    pub db: Database,
    _dir: Option<tempfile::TempDir>,
    postgres_drop: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/keyport.db", dir.path().display());
        let db = Database::connect(&url).await.expect("sqlite test database");
        write_master_key(&url);
        TestDb {
            url,
            db,
            _dir: Some(dir),
            postgres_drop: None,
        }
    }

    /// `None` when no PostgreSQL server was named for the tests.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = unique_name();
        let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!("{POSTGRES_URL_VAR} is set but PostgreSQL is unreachable: {e}")
        });
        super::on_pool!(&admin, pool => {
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(pool).await.unwrap();
        });
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let db = Database::connect(&url)
            .await
            .expect("postgres test database");
        write_master_key(&url);
        Some(TestDb {
            url,
            db,
            _dir: None,
            postgres_drop: Some((admin_url, name)),
        })
    }

    /// SQLite, then PostgreSQL when configured.
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite().await];
        dbs.extend(TestDb::postgres().await);
        dbs
    }

    pub fn engine(&self) -> Engine {
        self.db.engine()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres_drop.take() else {
            return;
        };
        let _ = std::fs::remove_file(master_key_file(&self.url));
        // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived
        // thread with its own runtime removes the database before the test returns.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    super::on_pool!(&admin, pool => {
                        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(pool)
                            .await;
                    });
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Runs `test` once per configured engine, each time on an empty database.
pub async fn for_each_engine<F, Fut>(test: F)
where
    F: Fn(Database) -> Fut,
    Fut: Future<Output = ()>,
{
    for test_db in TestDb::all().await {
        test(test_db.db.clone()).await;
    }
}

/// Runs `test` once per configured engine, each time on a freshly migrated database.
pub async fn for_each_migrated_engine<F, Fut>(test: F)
where
    F: Fn(Database) -> Fut,
    Fut: Future<Output = ()>,
{
    for test_db in TestDb::all().await {
        test_db.db.migrate().await.expect("migrations apply");
        test(test_db.db.clone()).await;
    }
}

/// The master key file of the test database at `url`: where a deployment keeps it by default
/// for SQLite (beside the file), and a file named after the database in the temporary
/// directory for PostgreSQL, so that a test holding only a URL or a pool finds it.
pub fn master_key_file(url: &str) -> PathBuf {
    master_key_beside(url).unwrap_or_else(|| {
        let name = url
            .split('?')
            .next()
            .and_then(|base| base.rsplit('/').next())
            .unwrap_or_default();
        std::env::temp_dir().join(format!("{name}.master-key"))
    })
}

/// The master key of the test database `db` ([`master_key_file`]).
pub fn master_key(db: &Database) -> MasterKey {
    let path = match db {
        Database::Sqlite(sqlite) => {
            let file = sqlite
                .pool
                .connect_options()
                .get_filename()
                .display()
                .to_string();
            master_key_file(&format!("sqlite://{file}"))
        }
        Database::Postgres(pool) => {
            let name = pool
                .connect_options()
                .get_database()
                .unwrap_or_default()
                .to_string();
            master_key_file(&format!("postgres:///{name}"))
        }
    };
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("master key file {}: {e}", path.display()));
    MasterKey::parse(&text).unwrap()
}

/// A fresh key, in a file only its owner reads, as the server itself would write it.
fn write_master_key(url: &str) {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(master_key_file(url)).expect("master key file");
    let key = MasterKey::generate().unwrap();
    file.write_all(key.to_base64().as_bytes()).unwrap();
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "keyport_test_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..authority_end], name);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn swaps_the_database_name() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
