//! The change counter: a single number that moves in the same transaction as every change
//! the token service caches (apps, secrets, audiences, signing keys). Instances poll it, so a
//! change made through one instance reaches the others within a poll interval; a change made
//! through this process is seen at once through [`local_generation`].

use std::sync::atomic::{AtomicU64, Ordering};

use super::{Database, StoreError, Tx, on_pool, on_tx};

static LOCAL_COMMITS: AtomicU64 = AtomicU64::new(0);

/// Moves the shared counter as part of `tx`.
pub async fn bump(tx: &mut Tx) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE change_counter SET generation = generation + 1 WHERE id = 1")
            .execute(conn)
            .await?;
    });
    tx.changes_clients = true;
    Ok(())
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
