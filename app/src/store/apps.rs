use sqlx::FromRow;

use super::{Database, StoreError, Tx, on_pool, on_tx};

/// An app as stored; scopes and roles are space-separated lists.
#[derive(Debug, Clone, FromRow)]
pub struct AppRow {
    pub client_id: String,
    pub tenant_id: String,
    pub owner_id: Option<String>,
    pub name: String,
    pub description: String,
    pub visibility: String,
    pub client_type: String,
    pub tool: bool,
    pub callback_url: Option<String>,
    pub scopes: String,
    pub roles: String,
    pub token_lifetime_secs: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Switched off: its credentials get `invalid_client` until it is switched back on.
    pub disabled_at: Option<i64>,
    /// Space-separated audiences it may ask tokens for besides the tenant's default.
    pub audiences: String,
    /// Who switched it off (a user or a tool client), and whether they were an admin then:
    /// only an admin may switch back on what an admin switched off.
    pub disabled_by: Option<String>,
    pub disabled_by_admin: bool,
    /// Space-separated `grant_type` values it may use (`domain::grant_types`).
    pub grant_types: String,
}

const COLUMNS: &str = "client_id, tenant_id, owner_id, name, description, visibility, client_type, tool, \
    callback_url, scopes, roles, token_lifetime_secs, created_at, updated_at, disabled_at, audiences, \
    disabled_by, disabled_by_admin, grant_types";

pub async fn insert(tx: &mut Tx, app: &AppRow) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO apps ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    );
    on_tx!(tx, conn => {
        sqlx::query(&sql)
            .bind(&app.client_id)
            .bind(&app.tenant_id)
            .bind(&app.owner_id)
            .bind(&app.name)
            .bind(&app.description)
            .bind(&app.visibility)
            .bind(&app.client_type)
            .bind(app.tool)
            .bind(&app.callback_url)
            .bind(&app.scopes)
            .bind(&app.roles)
            .bind(app.token_lifetime_secs)
            .bind(app.created_at)
            .bind(app.updated_at)
            .bind(app.disabled_at)
            .bind(&app.audiences)
            .bind(&app.disabled_by)
            .bind(app.disabled_by_admin)
            .bind(&app.grant_types)
            .execute(conn)
            .await?;
    });
    super::changes::bump(tx).await
}

/// Writes every editable field of `app` (the client id, tenant and owner never change).
pub async fn update(tx: &mut Tx, app: &AppRow) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE apps SET name = $2, description = $3, visibility = $4, callback_url = $5, \
             scopes = $6, roles = $7, token_lifetime_secs = $8, updated_at = $9, audiences = $10, \
             grant_types = $11 WHERE client_id = $1",
        )
        .bind(&app.client_id)
        .bind(&app.name)
        .bind(&app.description)
        .bind(&app.visibility)
        .bind(&app.callback_url)
        .bind(&app.scopes)
        .bind(&app.roles)
        .bind(app.token_lifetime_secs)
        .bind(app.updated_at)
        .bind(&app.audiences)
        .bind(&app.grant_types)
        .execute(conn)
        .await?;
    });
    super::changes::bump(tx).await
}

/// Holds the app's row until `tx` ends, so a change that reads the app, merges and writes it
/// back cannot interleave with another (portable stand-in for `SELECT … FOR UPDATE`, as
/// [`super::tenants::lock`]). SQLite's `BEGIN IMMEDIATE` serialises writers already.
pub async fn lock(tx: &mut Tx, tenant_id: &str, client_id: &str) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE apps SET updated_at = updated_at WHERE tenant_id = $1 AND client_id = $2")
            .bind(tenant_id).bind(client_id).execute(conn).await?;
    });
    Ok(())
}

/// Writes whether `app` is switched off, and by whom.
pub async fn set_disabled(tx: &mut Tx, app: &AppRow) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE apps SET disabled_at = $2, disabled_by = $3, disabled_by_admin = $4 WHERE client_id = $1")
            .bind(&app.client_id).bind(app.disabled_at).bind(&app.disabled_by).bind(app.disabled_by_admin)
            .execute(conn).await?;
    });
    super::changes::bump(tx).await
}

pub async fn delete(tx: &mut Tx, client_id: &str) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM apps WHERE client_id = $1").bind(client_id).execute(conn).await?;
    });
    super::changes::bump(tx).await
}

/// Any tenant's app by client id: the token endpoint learns the tenant from the client.
pub async fn find(db: &Database, client_id: &str) -> Result<Option<AppRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM apps WHERE client_id = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(client_id).fetch_optional(pool).await?))
}

/// The app with this client id in this tenant; another tenant's app does not exist here.
pub async fn get(
    db: &Database,
    tenant_id: &str,
    client_id: &str,
) -> Result<Option<AppRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM apps WHERE tenant_id = $1 AND client_id = $2");
    Ok(
        on_pool!(db, pool => sqlx::query_as(&sql).bind(tenant_id).bind(client_id).fetch_optional(pool).await?),
    )
}

/// As [`get`], inside a transaction that is about to change the app.
pub async fn get_in(
    tx: &mut Tx,
    tenant_id: &str,
    client_id: &str,
) -> Result<Option<AppRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM apps WHERE tenant_id = $1 AND client_id = $2");
    Ok(
        on_tx!(tx, conn => sqlx::query_as(&sql).bind(tenant_id).bind(client_id).fetch_optional(conn).await?),
    )
}

/// A tenant's apps, newest first; when `owner_id` is given, the ones a developer manages:
/// theirs, except tool clients.
pub async fn list(
    db: &Database,
    tenant_id: &str,
    owner_id: Option<&str>,
) -> Result<Vec<AppRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM apps WHERE tenant_id = $1 AND ($2 IS NULL OR (owner_id = $2 AND NOT tool)) \
         ORDER BY created_at DESC, client_id"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as(&sql).bind(tenant_id).bind(owner_id).fetch_all(pool).await?),
    )
}
