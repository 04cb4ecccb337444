//! What each person allowed each app (SPEC §3a "connected apps").

use sqlx::FromRow;

use super::{Database, StoreError, Tx, on_pool, on_tx};

/// A person's consent to one app, with what the Connected apps screen shows of the app.
#[derive(Debug, Clone, FromRow)]
pub struct ConnectedAppRow {
    pub client_id: String,
    pub app_name: String,
    pub tenant_name: String,
    pub scope: String,
    pub granted_at: i64,
    /// When the app last got a token for the person: its newest refresh token, or nothing.
    pub last_used_at: Option<i64>,
}

/// What `user_id` allowed `client_id` in each tenant it acts in for them: (tenant, scopes).
pub async fn by_tenant(
    db: &Database,
    user_id: &str,
    client_id: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as("SELECT tenant_id, scope FROM consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id).bind(client_id).fetch_all(pool).await?
    }))
}

/// Whether `user_id` has allowed `client_id` anything, acting in any tenant.
pub async fn any_for(db: &Database, user_id: &str, client_id: &str) -> Result<bool, StoreError> {
    let found: Option<i64> = on_pool!(db, pool => {
        sqlx::query_scalar("SELECT granted_at FROM consents WHERE user_id = $1 AND client_id = $2 LIMIT 1")
            .bind(user_id).bind(client_id).fetch_optional(pool).await?
    });
    Ok(found.is_some())
}

/// The scopes `user_id` allowed `client_id` acting in `tenant_id`, inside the transaction
/// that is about to change them.
pub async fn scope_in(
    tx: &mut Tx,
    user_id: &str,
    client_id: &str,
    tenant_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2 AND tenant_id = $3",
        )
        .bind(user_id).bind(client_id).bind(tenant_id).fetch_optional(conn).await?
    }))
}

/// Holds the person's consent row, when there is one, until `tx` ends, so a concurrent
/// change of it waits (portable stand-in for `SELECT … FOR UPDATE`; SQLite's
/// `BEGIN IMMEDIATE` serialises writers already).
pub async fn lock(
    tx: &mut Tx,
    user_id: &str,
    client_id: &str,
    tenant_id: &str,
) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE consents SET scope = scope WHERE user_id = $1 AND client_id = $2 AND tenant_id = $3",
        )
        .bind(user_id).bind(client_id).bind(tenant_id).execute(conn).await?;
    });
    Ok(())
}

/// Records (or widens) a consent for acting in `tenant_id`.
pub async fn upsert(
    tx: &mut Tx,
    user_id: &str,
    client_id: &str,
    tenant_id: &str,
    scope: &str,
    now: i64,
) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO consents (user_id, client_id, tenant_id, scope, granted_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, client_id, tenant_id) DO UPDATE SET scope = $4, granted_at = $5",
        )
        .bind(user_id).bind(client_id).bind(tenant_id).bind(scope).bind(now)
        .execute(conn).await?;
    });
    Ok(())
}

/// Deletes the person's consents to the app, in every tenant; true when there was one.
pub async fn delete(tx: &mut Tx, user_id: &str, client_id: &str) -> Result<bool, StoreError> {
    let done = on_tx!(tx, conn => {
        sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id).bind(client_id).execute(conn).await?.rows_affected()
    });
    Ok(done > 0)
}

/// The apps a person has connected, most recently allowed first.
pub async fn list_for_user(
    db: &Database,
    user_id: &str,
) -> Result<Vec<ConnectedAppRow>, StoreError> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT c.client_id, a.name AS app_name, t.name AS tenant_name, c.scope, c.granted_at, \
                    (SELECT MAX(r.created_at) FROM refresh_tokens r \
                     WHERE r.user_id = c.user_id AND r.client_id = c.client_id) AS last_used_at \
             FROM consents c JOIN apps a ON a.client_id = c.client_id \
             JOIN tenants t ON t.id = a.tenant_id \
             WHERE c.user_id = $1 ORDER BY c.granted_at DESC, c.client_id",
        )
        .bind(user_id).fetch_all(pool).await?
    }))
}

/// How many people have authorised each of `tenant_id`'s apps.
pub async fn counts_for_tenant(
    db: &Database,
    tenant_id: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT c.client_id, COUNT(DISTINCT c.user_id) FROM consents c JOIN apps a ON a.client_id = c.client_id \
             WHERE a.tenant_id = $1 GROUP BY c.client_id",
        )
        .bind(tenant_id).fetch_all(pool).await?
    }))
}
