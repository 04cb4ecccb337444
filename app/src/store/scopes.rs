use sqlx::FromRow;

use super::{Database, StoreError, on_pool};

#[derive(Debug, Clone, FromRow)]
pub struct ScopeRow {
    pub name: String,
    pub description: String,
    pub created_at: i64,
}

pub async fn list(db: &Database, tenant_id: &str) -> Result<Vec<ScopeRow>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT name, description, created_at FROM tenant_scopes WHERE tenant_id = $1 ORDER BY name"
    ).bind(tenant_id).fetch_all(pool).await?))
}
