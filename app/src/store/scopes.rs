use sqlx::FromRow;

use super::{Database, StoreError, Tx, on_pool, on_tx};

#[derive(Debug, Clone, FromRow)]
pub struct ScopeRow {
    pub name: String,
    pub description: String,
    pub created_at: i64,
}

pub async fn insert(
    tx: &mut Tx,
    tenant_id: &str,
    name: &str,
    description: &str,
    now: i64,
) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("INSERT INTO tenant_scopes (tenant_id, name, description, created_at) VALUES ($1, $2, $3, $4)")
            .bind(tenant_id).bind(name).bind(description).bind(now).execute(conn).await?;
    });
    Ok(())
}

pub async fn delete(tx: &mut Tx, tenant_id: &str, name: &str) -> Result<bool, StoreError> {
    let n = on_tx!(tx, conn => sqlx::query("DELETE FROM tenant_scopes WHERE tenant_id = $1 AND name = $2")
        .bind(tenant_id).bind(name).execute(conn).await?.rows_affected());
    Ok(n == 1)
}

pub async fn list(db: &Database, tenant_id: &str) -> Result<Vec<ScopeRow>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT name, description, created_at FROM tenant_scopes WHERE tenant_id = $1 ORDER BY name"
    ).bind(tenant_id).fetch_all(pool).await?))
}

/// [`list`] inside `tx`, for a check made while `tx` holds a lock: a second connection could
/// wait on others that wait on that lock.
pub async fn list_in(tx: &mut Tx, tenant_id: &str) -> Result<Vec<ScopeRow>, StoreError> {
    Ok(on_tx!(tx, conn => sqlx::query_as(
        "SELECT name, description, created_at FROM tenant_scopes WHERE tenant_id = $1 ORDER BY name"
    ).bind(tenant_id).fetch_all(conn).await?))
}

/// Adds `name` to the catalogue unless it is there already.
pub async fn ensure(tx: &mut Tx, tenant_id: &str, name: &str, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("INSERT INTO tenant_scopes (tenant_id, name, description, created_at) VALUES ($1, $2, '', $3) \
                     ON CONFLICT (tenant_id, name) DO NOTHING")
            .bind(tenant_id).bind(name).bind(now).execute(conn).await?;
    });
    Ok(())
}
