//! Instance-wide settings that the server generates once and every instance must share
//! (for example the key that hashes client secrets).

use super::{Database, StoreError, on_pool};

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
