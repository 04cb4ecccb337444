//! Persistence. One set of portable SQL (numbered `$n` parameters, which both SQLite and
//! PostgreSQL accept) runs on whichever engine the database URL names.

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    PgPool, SqlitePool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

pub mod settings;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

/// Every migration, embedded in the binary so a deployed `keyport` needs no files beside it.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Runs `$body` with `$pool` bound to the concrete pool, so one query text serves both engines.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Database::Sqlite($pool) => $body,
            $crate::store::Database::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL (expected sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    #[error("could not create the database directory {path}: {source}")]
    CreateDir { path: String, source: std::io::Error },
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// A connection pool to either engine. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Database {
    /// Connects to `url`, creating an SQLite file (and its directory) when missing.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let options = sqlite_options(url)?;
            if let Some(dir) = options.get_filename().parent() {
                create_dir(dir)?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await?;
            Ok(Database::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?.application_name("keyport");
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?;
            Ok(Database::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Database::Sqlite(_) => Engine::Sqlite,
            Database::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies every pending migration. Safe to run from several processes at once: sqlx takes
    /// an advisory lock on PostgreSQL, and SQLite serialises writers.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => MIGRATOR.run(pool).await?);
        Ok(())
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// WAL lets readers run beside the one writer; `synchronous=FULL` makes every commit durable
/// across power loss, which a secret refresh must be. Both are set explicitly rather than
/// trusting defaults of whatever SQLite the binary links.
fn sqlite_options(url: &str) -> Result<SqliteConnectOptions, StoreError> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5)))
}

fn create_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
        path: dir.display().to_string(),
        source,
    })
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::for_each_engine;

    #[test]
    fn redacts_password_only() {
        assert_eq!(
            redact_url("postgres://kp:s3cret@db:5432/keyport"),
            "postgres://kp:***@db:5432/keyport"
        );
        assert_eq!(redact_url("sqlite://data/keyport.db"), "sqlite://data/keyport.db");
    }

    #[tokio::test]
    async fn rejects_unknown_schemes() {
        let err = Database::connect("mysql://root@localhost/keyport").await.unwrap_err();
        assert!(matches!(err, StoreError::UnsupportedUrl(_)), "{err}");
    }

    #[tokio::test]
    async fn migrations_apply_cleanly_from_empty_and_twice() {
        for_each_engine(|db| async move {
            db.migrate().await.expect("first migrate");
            db.migrate().await.expect("second migrate is a no-op");
            let applied: i64 = on_pool!(&db, pool => sqlx::query_scalar(
                "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE"
            ).fetch_one(pool).await.unwrap());
            assert_eq!(applied as usize, MIGRATOR.iter().count(), "on {:?}", db.engine());
            db.ping().await.expect("ping");
        })
        .await;
    }

    #[tokio::test]
    async fn sqlite_pragmas_are_what_we_set() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/keyport.db", dir.path().display());
        let db = Database::connect(&url).await.expect("creates file and directory");
        let Database::Sqlite(pool) = &db else { panic!("expected sqlite") };
        let journal: String =
            sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await.unwrap();
        let synchronous: i64 =
            sqlx::query_scalar("PRAGMA synchronous").fetch_one(pool).await.unwrap();
        let foreign_keys: i64 =
            sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(pool).await.unwrap();
        assert_eq!(journal, "wal");
        assert_eq!(synchronous, 2, "2 is FULL");
        assert_eq!(foreign_keys, 1);
        assert!(dir.path().join("nested/keyport.db").exists());
    }
}
