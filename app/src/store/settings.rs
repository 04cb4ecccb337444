//! Instance-wide settings that the server generates once and every instance must share
//! (for example the key that hashes client secrets).

use super::{Database, StoreError, Tx, on_pool, on_tx};

/// Returns the value stored under `key`, storing `candidate` first if there is none. When
/// several instances start at once, all of them end up with the first one written.
pub async fn get_or_insert(
    db: &Database,
    key: &str,
    candidate: &str,
    now_unix: i64,
) -> Result<String, StoreError> {
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(candidate)
        .bind(now_unix)
        .execute(pool)
        .await?;
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(pool)
            .await?)
    })
}

/// The value stored under `key`, read in `tx`.
pub async fn get_in(tx: &mut Tx, key: &str) -> Result<Option<String>, StoreError> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(conn)
            .await?
    }))
}

/// Replaces the value under `key`, only if it is still `from` (as
/// [`super::signing_keys::replace_private_key`]). Whether it wrote.
pub async fn replace_in(
    tx: &mut Tx,
    key: &str,
    from: &str,
    to: &str,
    now_unix: i64,
) -> Result<bool, StoreError> {
    let done = on_tx!(tx, conn => {
        sqlx::query("UPDATE settings SET value = $3, updated_at = $4 WHERE key = $1 AND value = $2")
            .bind(key).bind(from).bind(to).bind(now_unix)
            .execute(conn)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testkit::for_each_migrated_engine;

    #[tokio::test]
    async fn first_value_written_wins() {
        for_each_migrated_engine(|db| async move {
            let first = get_or_insert(&db, "hash_key", "one", 1).await.unwrap();
            let second = get_or_insert(&db, "hash_key", "two", 2).await.unwrap();
            assert_eq!(first, "one");
            assert_eq!(second, "one");
        })
        .await;
    }
}
