//! Persistence. One set of portable SQL (numbered `$n` parameters, which both SQLite and
//! PostgreSQL accept) runs on whichever engine the database URL names.

use std::{
    path::{Path, PathBuf},
    str::FromStr,
    sync::Arc,
    time::Duration,
};

use tokio::sync::{Mutex, OwnedMutexGuard};

use rotation_batches::RotationBatches;

use sqlx::{
    PgPool, SqlitePool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

pub mod apps;
pub mod audit;
pub mod backup;
pub mod catalogue;
pub mod changes;
pub mod codes;
pub mod consents;
pub mod invitations;
pub mod members;
pub mod refresh_tokens;
pub mod revoked;
pub mod rotation_batches;
pub mod scopes;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod signing_keys;
pub mod tenants;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod users;

/// Every migration, embedded in the binary so a deployed `keyport` needs no files beside it.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Runs `$body` with `$pool` bound to the concrete pool, so one query text serves both engines.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Database::Sqlite(sqlite) => {
                let $pool = &sqlite.pool;
                $body
            }
            $crate::store::Database::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Runs `$body` with `$conn` bound to the transaction's concrete connection.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut ($tx).inner {
            $crate::store::TxInner::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::store::TxInner::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

/// A write transaction on either engine. Dropped without `commit`, it rolls back.
pub struct Tx {
    pub(crate) inner: TxInner,
    /// Whether this transaction changed something the token service caches.
    pub(crate) changes_clients: bool,
    /// SQLite: this process's turn to write, held until the transaction ends. Declared after
    /// `inner` so that a commit is done before the next writer is let in. (A transaction
    /// dropped without one only queues its rollback; the next writer's busy timeout covers
    /// the moment until it runs.)
    _turn: Option<OwnedMutexGuard<()>>,
}

pub enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        if self.changes_clients {
            changes::committed_here();
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL (expected sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    #[error("could not create the database directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("stored data is not what this version expects: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database writer task has stopped")]
    WriterStopped,
    #[error("a commit shared with other requests failed: {0}")]
    SharedCommit(String),
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

/// Connections of a [`Database`]'s pool: handed out, open and waiting, and the most it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

/// A connection pool to either engine. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqliteDatabase),
    Postgres(PgPool),
}

/// An SQLite pool and the turn its writers take. SQLite lets one writer in at a time; left to
/// itself, every other writer polls the lock with sleeps that grow to 100 ms, so under steady
/// writes some wait for a second while others get in first. Queuing this process's write
/// transactions in arrival order (tokio's mutex is fair) before `BEGIN IMMEDIATE` keeps each
/// wait to the commits ahead of it. Other processes (a CLI command) still meet the busy timeout.
#[derive(Debug, Clone)]
pub struct SqliteDatabase {
    pub pool: SqlitePool,
    writer_turn: Arc<Mutex<()>>,
    /// Started on first use, on the runtime that uses it; again if that runtime has ended.
    rotation_batches: Arc<std::sync::Mutex<Option<RotationBatches>>>,
}

impl SqliteDatabase {
    fn new(pool: SqlitePool) -> Self {
        SqliteDatabase {
            pool,
            writer_turn: Arc::new(Mutex::new(())),
            rotation_batches: Arc::default(),
        }
    }

    pub(crate) fn rotation_batches(&self) -> RotationBatches {
        let mut running = self
            .rotation_batches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*running {
            Some(batches) if !batches.is_stopped() => batches.clone(),
            _ => {
                let batches = RotationBatches::start(self.pool.clone(), self.writer_turn.clone());
                *running = Some(batches.clone());
                batches
            }
        }
    }
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
            Ok(Database::Sqlite(SqliteDatabase::new(pool)))
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

    /// Starts a write transaction. On SQLite it takes the write lock up front (`IMMEDIATE`):
    /// a deferred transaction that reads first and writes later can fail with SQLITE_BUSY
    /// when another writer got in between, which no busy timeout resolves.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Database::Sqlite(sqlite) => {
                // The turn first, then a connection: a writer waiting for its turn holds no
                // connection that readers could use.
                let turn = sqlite.writer_turn.clone().lock_owned().await;
                Tx {
                    inner: TxInner::Sqlite(sqlite.pool.begin_with("BEGIN IMMEDIATE").await?),
                    changes_clients: false,
                    _turn: Some(turn),
                }
            }
            Database::Postgres(pool) => Tx {
                inner: TxInner::Postgres(pool.begin().await?),
                changes_clients: false,
                _turn: None,
            },
        })
    }

    /// SQLite: this process's turn to write, for writes that commit on their own outside a
    /// [`Tx`] (which takes it itself). Never held while starting a [`Tx`]: that would wait
    /// for itself. `None` on PostgreSQL, which needs none.
    pub(crate) async fn write_turn(&self) -> Option<OwnedMutexGuard<()>> {
        match self {
            Database::Sqlite(sqlite) => Some(sqlite.writer_turn.clone().lock_owned().await),
            Database::Postgres(_) => None,
        }
    }

    /// How the connection pool is used right now (read without waiting).
    pub fn pool_stats(&self) -> PoolStats {
        on_pool!(self, pool => {
            let open = pool.size();
            // Both are read apart, so a connection taken between the reads must not make
            // the difference negative.
            let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(open);
            PoolStats {
                in_use: open - idle,
                idle,
                max: pool.options().get_max_connections(),
            }
        })
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

impl StoreError {
    /// A unique constraint refused the write (an email or name already taken).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// Seconds since the Unix epoch: how every timestamp is stored on both engines.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A new time-ordered identifier (UUIDv7), so rows sort by creation without a sequence.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
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

/// The file the master key is kept in when none is configured: beside an SQLite database
/// (`data/keyport.db` → `data/keyport.master-key`), never in it. `None` for PostgreSQL, whose
/// instances must all be given one key, and for an in-memory database, which has no file.
pub fn master_key_beside(database_url: &str) -> Option<PathBuf> {
    if !database_url.starts_with("sqlite:")
        || database_url.contains(":memory:")
        || database_url.contains("mode=memory")
    {
        return None;
    }
    let database = sqlite_options(database_url)
        .ok()?
        .get_filename()
        .to_path_buf();
    let beside = database.with_extension("master-key");
    Some(if beside == database {
        PathBuf::from(format!("{}.master-key", database.display()))
    } else {
        beside
    })
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
    fn the_default_master_key_file_sits_beside_an_sqlite_file() {
        for (url, beside) in [
            ("sqlite://data/keyport.db", "data/keyport.master-key"),
            (
                "sqlite:///srv/kp/keyport.db?mode=rwc",
                "/srv/kp/keyport.master-key",
            ),
            ("sqlite://keyport", "keyport.master-key"),
            ("sqlite://x.master-key", "x.master-key.master-key"),
        ] {
            assert_eq!(master_key_beside(url), Some(PathBuf::from(beside)), "{url}");
        }
        for none in [
            "postgres://kp@db/keyport",
            "sqlite::memory:",
            "sqlite://x?mode=memory",
        ] {
            assert_eq!(master_key_beside(none), None, "{none}");
        }
    }

    #[test]
    fn redacts_password_only() {
        assert_eq!(
            redact_url("postgres://kp:s3cret@db:5432/keyport"),
            "postgres://kp:***@db:5432/keyport"
        );
        assert_eq!(
            redact_url("sqlite://data/keyport.db"),
            "sqlite://data/keyport.db"
        );
    }

    #[tokio::test]
    async fn rejects_unknown_schemes() {
        let err = Database::connect("mysql://root@localhost/keyport")
            .await
            .unwrap_err();
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
            assert_eq!(
                applied as usize,
                MIGRATOR.iter().count(),
                "on {:?}",
                db.engine()
            );
            db.ping().await.expect("ping");
        })
        .await;
    }

    /// With no busy timeout at all, SQLite refuses a second writer at once; this process's
    /// writers must queue for their turn instead of ever meeting that lock.
    #[tokio::test]
    async fn sqlite_writers_of_one_process_take_turns_instead_of_meeting_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/turns.db", dir.path().display());
        let options = sqlite_options(&url).unwrap().busy_timeout(Duration::ZERO);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE n (v INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        let db = Database::Sqlite(SqliteDatabase::new(pool));
        let writers = (0..32).map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut tx = db.begin().await?;
                on_tx!(tx, conn => {
                    sqlx::query("INSERT INTO n (v) VALUES ($1)").bind(i).execute(&mut *conn).await?;
                    // A read between writes keeps the transaction open across an await.
                    sqlx::query("SELECT COUNT(*) FROM n").execute(conn).await?;
                });
                tx.commit().await
            })
        });
        for writer in futures::future::join_all(writers).await {
            writer.unwrap().expect("no writer met SQLITE_BUSY");
        }
        let rows: i64 = on_pool!(&db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM n")
            .fetch_one(pool).await.unwrap());
        assert_eq!(rows, 32);
    }

    #[tokio::test]
    async fn sqlite_pragmas_are_what_we_set() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/keyport.db", dir.path().display());
        let db = Database::connect(&url)
            .await
            .expect("creates file and directory");
        let Database::Sqlite(sqlite) = &db else {
            panic!("expected sqlite")
        };
        let pool = &sqlite.pool;
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .unwrap();
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        assert_eq!(synchronous, 2, "2 is FULL");
        assert_eq!(foreign_keys, 1);
        assert!(dir.path().join("nested/keyport.db").exists());
    }
}
