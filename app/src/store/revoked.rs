//! Access tokens revoked before they expired (RFC 7009), by `jti`.

use super::{Database, StoreError, on_pool};

pub async fn insert(
    db: &Database,
    jti: &str,
    tenant_id: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), StoreError> {
    let _turn = db.write_turn().await;
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, tenant_id, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti).bind(tenant_id).bind(expires_at).bind(now)
        .execute(pool)
        .await?;
        // Rows of expired tokens say nothing any more.
        sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
            .bind(now)
            .execute(pool)
            .await?;
    });
    Ok(())
}

pub async fn is_revoked(db: &Database, jti: &str) -> Result<bool, StoreError> {
    let found: Option<i64> = on_pool!(db, pool => {
        sqlx::query_scalar("SELECT revoked_at FROM revoked_tokens WHERE jti = $1")
            .bind(jti)
            .fetch_optional(pool)
            .await?
    });
    Ok(found.is_some())
}
