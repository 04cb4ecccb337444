//! The change counter: a single number that moves in the same transaction as every change
//! the token service caches (apps, secrets, audiences, signing keys). A change made through
//! this process is seen at once through [`local_generation`]. On PostgreSQL every such commit
//! is also announced on a channel ([`ChangeFeed`]), so the other instances hear of it at once;
//! they poll the counter too, for announcements lost while their listener reconnected, and
//! for SQLite, which has no such channel.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::postgres::PgListener;

use super::{Database, StoreError, Tx, TxInner, on_pool, on_tx};

static LOCAL_COMMITS: AtomicU64 = AtomicU64::new(0);

/// The PostgreSQL notification channel of the change counter.
const CHANNEL: &str = "keyport_changes";

/// Moves the shared counter as part of `tx`.
pub async fn bump(tx: &mut Tx) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE change_counter SET generation = generation + 1 WHERE id = 1")
            .execute(conn)
            .await?;
    });
    if let TxInner::Postgres(pg) = &mut tx.inner {
        // Delivered at commit and only then; repeated in one transaction, delivered once.
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(&mut **pg)
            .await?;
    }
    tx.changes_clients = true;
    Ok(())
}

/// Announcements of commits that moved the counter, from every process on the database.
pub struct ChangeFeed(PgListener);

impl ChangeFeed {
    /// Listens on the database's channel; `None` on SQLite, which has none.
    pub async fn subscribe(db: &Database) -> Result<Option<ChangeFeed>, StoreError> {
        let Database::Postgres(pool) = db else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(ChangeFeed(listener)))
    }

    /// Waits for the next announcement. If the connection was lost, this reconnects first;
    /// what was announced meanwhile is not delivered, which is what polling is for.
    pub async fn next(&mut self) -> Result<(), StoreError> {
        self.0.recv().await?;
        Ok(())
    }
}

/// Called once a transaction that bumped the counter has committed.
pub(crate) fn committed_here() {
    LOCAL_COMMITS.fetch_add(1, Ordering::Release);
}

/// How many such transactions this process has committed; caches compare it on every use.
pub fn local_generation() -> u64 {
    LOCAL_COMMITS.load(Ordering::Acquire)
}

pub async fn current(db: &Database) -> Result<i64, StoreError> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar("SELECT generation FROM change_counter WHERE id = 1")
            .fetch_one(pool)
            .await?
    }))
}
