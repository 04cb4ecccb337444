use sqlx::FromRow;

use super::{Database, StoreError, Tx, on_pool, on_tx};

#[derive(Debug, Clone, FromRow)]
pub struct SecretRow {
    pub id: String,
    pub client_id: String,
    pub description: String,
    pub prefix: String,
    pub hash: String,
    pub created_at: i64,
    pub created_by: Option<String>,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub grace_until: Option<i64>,
    pub replaced_by: Option<String>,
}

const COLUMNS: &str = "id, client_id, description, prefix, hash, created_at, created_by, expires_at, \
    last_used_at, revoked_at, grace_until, replaced_by";

pub async fn insert(tx: &mut Tx, s: &SecretRow) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO client_secrets ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    on_tx!(tx, conn => {
        sqlx::query(&sql)
            .bind(&s.id)
            .bind(&s.client_id)
            .bind(&s.description)
            .bind(&s.prefix)
            .bind(&s.hash)
            .bind(s.created_at)
            .bind(&s.created_by)
            .bind(s.expires_at)
            .bind(s.last_used_at)
            .bind(s.revoked_at)
            .bind(s.grace_until)
            .bind(&s.replaced_by)
            .execute(conn)
            .await?;
    });
    super::changes::bump(tx).await
}

/// Marks a live secret as replaced by `successor`: revoked now, or working until
/// `grace_until`. `false` when it was already replaced or revoked — the loser of two
/// concurrent refreshes learns here that it lost.
pub async fn retire(
    tx: &mut Tx,
    client_id: &str,
    id: &str,
    successor: &str,
    revoked_at: Option<i64>,
    grace_until: Option<i64>,
) -> Result<bool, StoreError> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE client_secrets SET replaced_by = $3, revoked_at = $4, grace_until = $5 \
         WHERE client_id = $1 AND id = $2 AND replaced_by IS NULL AND revoked_at IS NULL"
    ).bind(client_id).bind(id).bind(successor).bind(revoked_at).bind(grace_until)
     .execute(conn).await?.rows_affected());
    super::changes::bump(tx).await?;
    Ok(done == 1)
}

pub async fn delete(tx: &mut Tx, client_id: &str, id: &str) -> Result<bool, StoreError> {
    let done = on_tx!(tx, conn => sqlx::query(
        "DELETE FROM client_secrets WHERE client_id = $1 AND id = $2"
    ).bind(client_id).bind(id).execute(conn).await?.rows_affected());
    super::changes::bump(tx).await?;
    Ok(done == 1)
}

/// Records when secrets last authenticated; the token service batches these. Never moves a
/// time backwards (another instance may have written a later one).
pub async fn record_last_used(db: &Database, uses: &[(String, i64)]) -> Result<(), StoreError> {
    if uses.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for (id, at) in uses {
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE client_secrets SET last_used_at = $2 \
                 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
            )
            .bind(id)
            .bind(at)
            .execute(conn)
            .await?;
        });
    }
    tx.commit().await
}

/// An app's secrets, newest first, including retired ones still in their grace period.
pub async fn list(db: &Database, client_id: &str) -> Result<Vec<SecretRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM client_secrets WHERE client_id = $1 ORDER BY created_at DESC, id DESC"
    );
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(client_id).fetch_all(pool).await?))
}

/// The secrets of the apps `apps::list` lists for the same arguments, newest first: the apps
/// list shows a count per app without a query per app.
pub async fn list_for_apps_of(
    db: &Database,
    tenant_id: &str,
    owner_id: Option<&str>,
) -> Result<Vec<SecretRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM client_secrets WHERE client_id IN \
         (SELECT client_id FROM apps WHERE tenant_id = $1 AND ($2 IS NULL OR (owner_id = $2 AND NOT tool))) \
         ORDER BY created_at DESC, id DESC"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as(&sql).bind(tenant_id).bind(owner_id).fetch_all(pool).await?),
    )
}

pub async fn get_in(
    tx: &mut Tx,
    client_id: &str,
    id: &str,
) -> Result<Option<SecretRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM client_secrets WHERE client_id = $1 AND id = $2");
    Ok(
        on_tx!(tx, conn => sqlx::query_as(&sql).bind(client_id).bind(id).fetch_optional(conn).await?),
    )
}
