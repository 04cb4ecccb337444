//! The keys that sign access tokens, shared by every instance.

use sqlx::FromRow;

use super::{Database, StoreError, Tx, on_pool, on_tx};

#[derive(Debug, Clone, FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    /// PKCS#8 DER sealed under the master key ([`crate::domain::sealing`]); plaintext base64
    /// in databases an earlier version wrote, until a process seals it at start.
    pub private_key: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub active_from: i64,
    pub retired_at: Option<i64>,
    pub publish_until: Option<i64>,
}

impl KeyRow {
    pub fn schedule(&self) -> crate::domain::jwt::KeySchedule {
        crate::domain::jwt::KeySchedule {
            active_from: self.active_from,
            retired_at: self.retired_at,
        }
    }
}

const COLUMNS: &str =
    "kid, alg, private_key, public_jwk, created_at, active_from, retired_at, publish_until";

fn published_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM signing_keys WHERE publish_until IS NULL OR publish_until > $1 \
         ORDER BY active_from, kid"
    )
}

/// Keys still published at `now` (including one waiting to start signing), oldest first.
pub async fn published(db: &Database, now: i64) -> Result<Vec<KeyRow>, StoreError> {
    let sql = published_sql();
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(now).fetch_all(pool).await?))
}

/// As [`published`], in a transaction that serialises key changes.
pub async fn published_in(tx: &mut Tx, now: i64) -> Result<Vec<KeyRow>, StoreError> {
    let sql = published_sql();
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(now).fetch_all(conn).await?))
}

/// The keys not yet retired, in a transaction that serialises key changes (the caller has
/// bumped the change counter first, which locks its row).
pub async fn unretired_in(tx: &mut Tx) -> Result<Vec<KeyRow>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM signing_keys WHERE retired_at IS NULL ORDER BY active_from");
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).fetch_all(conn).await?))
}

/// One key, retired or not, published or not, in a transaction that serialises key changes.
pub async fn get_in(tx: &mut Tx, kid: &str) -> Result<Option<KeyRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM signing_keys WHERE kid = $1");
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(kid).fetch_optional(conn).await?))
}

/// What `publish_until` holds for a withdrawn key: a time every clock has passed, so no
/// instance publishes the key again, however far behind its clock is.
pub const WITHDRAWN: i64 = 0;

/// Takes a key out of the JWKS for good ([`WITHDRAWN`]); the row stays.
pub async fn unpublish(tx: &mut Tx, kid: &str) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE signing_keys SET publish_until = $2 WHERE kid = $1")
            .bind(kid).bind(WITHDRAWN)
            .execute(conn)
            .await?;
    });
    Ok(())
}

pub async fn insert(tx: &mut Tx, key: &KeyRow) -> Result<(), StoreError> {
    let sql =
        format!("INSERT INTO signing_keys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    on_tx!(tx, conn => {
        sqlx::query(&sql)
            .bind(&key.kid)
            .bind(&key.alg)
            .bind(&key.private_key)
            .bind(&key.public_jwk)
            .bind(key.created_at)
            .bind(key.active_from)
            .bind(key.retired_at)
            .bind(key.publish_until)
            .execute(conn)
            .await?;
    });
    Ok(())
}

pub async fn retire(
    tx: &mut Tx,
    kid: &str,
    retired_at: i64,
    publish_until: i64,
) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE signing_keys SET retired_at = $2, publish_until = $3 WHERE kid = $1")
            .bind(kid).bind(retired_at).bind(publish_until)
            .execute(conn)
            .await?;
    });
    Ok(())
}

/// Every key's id and stored private half, retired or not: what sealing and rewrapping go
/// through, in the transaction that rewrites them.
pub async fn private_keys_in(tx: &mut Tx) -> Result<Vec<(String, String)>, StoreError> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_as("SELECT kid, private_key FROM signing_keys ORDER BY created_at, kid")
            .fetch_all(conn)
            .await?
    }))
}

/// Replaces a key's stored private half, only if it is still `from`: of several instances
/// sealing the same row at once, one writes and the others find it done. Whether it wrote.
pub async fn replace_private_key(
    tx: &mut Tx,
    kid: &str,
    from: &str,
    to: &str,
) -> Result<bool, StoreError> {
    let done = on_tx!(tx, conn => {
        sqlx::query("UPDATE signing_keys SET private_key = $3 WHERE kid = $1 AND private_key = $2")
            .bind(kid).bind(from).bind(to)
            .execute(conn)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}
