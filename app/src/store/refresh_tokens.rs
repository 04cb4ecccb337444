//! Refresh tokens (SPEC §3a), by keyed hash. A refresh spends the presented token and stores
//! its successor in one transaction; "spent_at IS NULL" in the UPDATE is what lets exactly
//! one of two concurrent refreshes with the same token win.

use sqlx::{FromRow, SqliteConnection};

use super::{Database, StoreError, Tx, on_pool, on_tx, rotation_batches::Rotation};

/// What a refresh token carries from the sign-in that started its family.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Family {
    pub family_id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub scope: String,
    pub auth_time: i64,
    pub family_expires_at: i64,
}

/// A refresh token as the failed refresh found it, to tell why it failed.
#[derive(Debug, Clone, FromRow)]
pub struct TokenState {
    pub family_id: String,
    pub client_id: String,
    pub scope: String,
    pub spent_at: Option<i64>,
}

/// How long an access token lives at most (app_rules): a spent refresh token is kept at
/// least this long after it was issued, so that ending its family still finds the access
/// token it came with.
const ACCESS_TOKEN_MAX_SECS: i64 = 3600;

/// Stores the first token of a family (at a code exchange), issued with the access token
/// `access_jti`, dropping tokens whose family has ended and spent tokens past their own idle
/// expiry (presented again, they would have expired anyway; until then they are kept to
/// recognise reuse).
pub async fn start_family(
    db: &Database,
    hash: &str,
    client_id: &str,
    family: &Family,
    access_jti: &str,
    idle_expires_at: i64,
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    on_tx!(tx, conn => {
        sqlx::query(
            "DELETE FROM refresh_tokens WHERE family_expires_at < $1 \
             OR (spent_at IS NOT NULL AND idle_expires_at < $1 AND created_at < $2)",
        )
            .bind(now)
            .bind(now - ACCESS_TOKEN_MAX_SECS)
            .execute(conn)
            .await?;
    });
    insert(
        &mut tx,
        hash,
        client_id,
        family,
        access_jti,
        idle_expires_at,
        now,
    )
    .await?;
    tx.commit().await
}

const INSERT: &str = "INSERT INTO refresh_tokens (hash, family_id, client_id, user_id, \
    tenant_id, scope, auth_time, created_at, idle_expires_at, family_expires_at, access_jti) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

async fn insert(
    tx: &mut Tx,
    hash: &str,
    client_id: &str,
    family: &Family,
    access_jti: &str,
    idle_expires_at: i64,
    now: i64,
) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query(INSERT)
            .bind(hash)
            .bind(&family.family_id)
            .bind(client_id)
            .bind(&family.user_id)
            .bind(&family.tenant_id)
            .bind(&family.scope)
            .bind(family.auth_time)
            .bind(now)
            .bind(idle_expires_at.min(family.family_expires_at))
            .bind(family.family_expires_at)
            .bind(access_jti)
            .execute(conn)
            .await?;
    });
    Ok(())
}

/// The conditions under which a presented token may be spent: this client's, unspent,
/// within both lifetimes, its person still in the tenant it acts in, their consent to the app
/// still standing, and the app still theirs to use (public, or private to a tenant they are in).
/// Checked at every refresh, so whatever ends one of these ends the tokens at once, on every
/// instance, with no row to forget to delete.
const SPENDABLE: &str = "hash = $1 AND client_id = $2 AND spent_at IS NULL \
    AND idle_expires_at > $3 AND family_expires_at > $3 \
    AND EXISTS (SELECT 1 FROM memberships m \
                WHERE m.user_id = refresh_tokens.user_id AND m.tenant_id = refresh_tokens.tenant_id) \
    AND EXISTS (SELECT 1 FROM consents c \
                WHERE c.user_id = refresh_tokens.user_id AND c.client_id = refresh_tokens.client_id \
                AND c.tenant_id = refresh_tokens.tenant_id) \
    AND EXISTS (SELECT 1 FROM apps a WHERE a.client_id = refresh_tokens.client_id \
                AND (a.visibility = 'public' OR EXISTS (SELECT 1 FROM memberships o \
                     WHERE o.user_id = refresh_tokens.user_id AND o.tenant_id = a.tenant_id)))";

/// Spends the token with hash `presented` and stores `successor` in its place, issued with
/// the access token `access_jti`, or `None` when the token cannot be spent (then [`state`]
/// tells why).
pub async fn rotate(
    db: &Database,
    presented: &str,
    client_id: &str,
    successor: &str,
    access_jti: &str,
    idle_secs: i64,
    now: i64,
) -> Result<Option<Family>, StoreError> {
    match db {
        // One statement, so one round trip: the refresh grant's cost is this write.
        Database::Postgres(pool) => {
            let sql = format!(
                "WITH spent AS (UPDATE refresh_tokens SET spent_at = $3 WHERE {SPENDABLE} \
                 RETURNING family_id, user_id, tenant_id, scope, auth_time, family_expires_at), \
                 fresh AS (INSERT INTO refresh_tokens (hash, family_id, client_id, user_id, \
                 tenant_id, scope, auth_time, created_at, idle_expires_at, family_expires_at, \
                 access_jti) \
                 SELECT $4, family_id, $2, user_id, tenant_id, scope, auth_time, $3, \
                 LEAST($3 + $5, family_expires_at), family_expires_at, $6 FROM spent) \
                 SELECT * FROM spent"
            );
            Ok(sqlx::query_as(&sql)
                .bind(presented)
                .bind(client_id)
                .bind(now)
                .bind(successor)
                .bind(idle_secs)
                .bind(access_jti)
                .fetch_optional(pool)
                .await?)
        }
        // SQLite allows no UPDATE inside a WITH, and commits one transaction at a time:
        // rotations arriving together share a commit (see `rotation_batches`).
        Database::Sqlite(sqlite) => {
            let rotation = Rotation {
                presented: presented.to_string(),
                client_id: client_id.to_string(),
                successor: successor.to_string(),
                access_jti: access_jti.to_string(),
                idle_secs,
                now,
            };
            sqlite.rotation_batches().rotate(rotation).await
        }
    }
}

/// SQLite: spends the token with hash `presented` inside the caller's transaction.
pub(super) async fn spend_on(
    conn: &mut SqliteConnection,
    presented: &str,
    client_id: &str,
    now: i64,
) -> Result<Option<Family>, StoreError> {
    let sql = format!(
        "UPDATE refresh_tokens SET spent_at = $3 WHERE {SPENDABLE} \
         RETURNING family_id, user_id, tenant_id, scope, auth_time, family_expires_at"
    );
    Ok(sqlx::query_as(&sql)
        .bind(presented)
        .bind(client_id)
        .bind(now)
        .fetch_optional(conn)
        .await?)
}

/// SQLite: stores `successor`, the next token of `family`, inside the caller's transaction.
pub(super) async fn store_successor_on(
    conn: &mut SqliteConnection,
    successor: &str,
    client_id: &str,
    family: &Family,
    access_jti: &str,
    idle_secs: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(INSERT)
        .bind(successor)
        .bind(&family.family_id)
        .bind(client_id)
        .bind(&family.user_id)
        .bind(&family.tenant_id)
        .bind(&family.scope)
        .bind(family.auth_time)
        .bind(now)
        .bind((now + idle_secs).min(family.family_expires_at))
        .bind(family.family_expires_at)
        .bind(access_jti)
        .execute(conn)
        .await?;
    Ok(())
}

/// The token with this hash as it stands, if it exists.
pub async fn state(db: &Database, hash: &str) -> Result<Option<TokenState>, StoreError> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as("SELECT family_id, client_id, scope, spent_at FROM refresh_tokens WHERE hash = $1")
            .bind(hash).fetch_optional(pool).await?
    }))
}

/// Ends a whole family: a spent token or a used code came back, so someone holds a copy
/// (RFC 9700 §4.14). The access tokens its refreshes issued are revoked with it, in the same
/// transaction, so introspection and userinfo refuse them from the moment this returns.
pub async fn revoke_family(db: &Database, family_id: &str, now: i64) -> Result<u64, StoreError> {
    if let Database::Postgres(pool) = db {
        // One statement: a rotation committing between a read of the family and its delete
        // cannot slip a token (and its access token) past both.
        return Ok(sqlx::query(
            "WITH gone AS (DELETE FROM refresh_tokens WHERE family_id = $1 \
             RETURNING access_jti, tenant_id, created_at) \
             INSERT INTO revoked_tokens (jti, tenant_id, expires_at, revoked_at) \
             SELECT access_jti, tenant_id, created_at + $2, $3 FROM gone \
             WHERE access_jti IS NOT NULL AND created_at + $2 > $3 \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(family_id)
        .bind(ACCESS_TOKEN_MAX_SECS)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
    }
    // SQLite: one writer at a time (BEGIN IMMEDIATE), so the two statements see one family.
    let mut tx = db.begin().await?;
    let ended = on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, tenant_id, expires_at, revoked_at) \
             SELECT access_jti, tenant_id, created_at + $2, $3 FROM refresh_tokens \
             WHERE family_id = $1 AND access_jti IS NOT NULL AND created_at + $2 > $3 \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(family_id).bind(ACCESS_TOKEN_MAX_SECS).bind(now)
        .execute(&mut *conn).await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE family_id = $1")
            .bind(family_id).execute(&mut *conn).await?.rows_affected()
    });
    tx.commit().await?;
    Ok(ended)
}

/// Ends every refresh token `user_id` holds acting in `tenant_id` (they left it), so that
/// joining again later does not bring them back.
pub async fn revoke_in_tenant(
    tx: &mut Tx,
    user_id: &str,
    tenant_id: &str,
) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, conn => {
        sqlx::query("DELETE FROM refresh_tokens WHERE user_id = $1 AND tenant_id = $2")
            .bind(user_id).bind(tenant_id).execute(conn).await?.rows_affected()
    }))
}

/// Ends every refresh token `user_id` gave `client_id`.
pub async fn revoke_for(tx: &mut Tx, user_id: &str, client_id: &str) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, conn => {
        sqlx::query("DELETE FROM refresh_tokens WHERE user_id = $1 AND client_id = $2")
            .bind(user_id).bind(client_id).execute(conn).await?.rows_affected()
    }))
}
