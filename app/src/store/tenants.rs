use sqlx::FromRow;

use super::{Database, StoreError, Tx, on_pool, on_tx};

#[derive(Debug, Clone, FromRow)]
pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub audience: Option<String>,
    pub created_at: i64,
}

pub async fn insert(tx: &mut Tx, id: &str, name: &str, created_at: i64) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name)
            .bind(created_at)
            .execute(conn)
            .await?;
    });
    Ok(())
}

pub async fn get(db: &Database, id: &str) -> Result<Option<TenantRow>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT id, name, audience, created_at FROM tenants WHERE id = $1"
    ).bind(id).fetch_optional(pool).await?))
}

/// As [`get`], inside a transaction that is about to change the tenant.
pub async fn get_in(tx: &mut Tx, id: &str) -> Result<Option<TenantRow>, StoreError> {
    Ok(on_tx!(tx, conn => sqlx::query_as(
        "SELECT id, name, audience, created_at FROM tenants WHERE id = $1"
    ).bind(id).fetch_optional(conn).await?))
}

/// The tenants whose id or exact name is `key`, at most `limit`: the one with that id first,
/// then the oldest (for the CLI's `--tenant`, which takes an id, or a name only one tenant
/// has).
pub async fn find_by_id_or_name(
    db: &Database,
    key: &str,
    limit: i64,
) -> Result<Vec<TenantRow>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT id, name, audience, created_at FROM tenants WHERE id = $1 OR name = $1 \
         ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END, created_at, id LIMIT $2"
    ).bind(key).bind(limit).fetch_all(pool).await?))
}

/// Serialises concurrent membership and settings changes of one tenant (portable stand-in
/// for `SELECT … FOR UPDATE`, which SQLite lacks): without it two admins demoting each other
/// at once could both see "two admins" and leave none, and two partial changes of the
/// settings could each write back the other's field as it was.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE tenants SET name = name WHERE id = $1").bind(id).execute(conn).await?;
    });
    Ok(())
}

pub async fn update(
    tx: &mut Tx,
    id: &str,
    name: &str,
    audience: Option<&str>,
) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE tenants SET name = $2, audience = $3 WHERE id = $1")
            .bind(id).bind(name).bind(audience).execute(conn).await?;
    });
    // The audience is in every token the tenant's clients get.
    super::changes::bump(tx).await
}
