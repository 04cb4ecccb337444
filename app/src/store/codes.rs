//! Authorization codes (SPEC §3a), by keyed hash. Using one is a single UPDATE that only
//! the first caller wins, so a code is exchanged at most once however many race for it.

use sqlx::FromRow;

use super::{Database, StoreError, Tx, on_pool, on_tx};

/// How long a used or expired code is kept, so that a late replay is still recognised and
/// revokes what the code issued (an access token lives at most an hour).
const KEEP_SECS: i64 = 3600;

#[derive(Debug, Clone, FromRow)]
pub struct CodeRow {
    pub hash: String,
    pub client_id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub redirect_uri: String,
    pub redirect_sent: bool,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub family_id: String,
    pub access_jti: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

const COLUMNS: &str = "hash, client_id, user_id, tenant_id, redirect_uri, redirect_sent, scope, \
    code_challenge, nonce, auth_time, family_id, access_jti, created_at, expires_at, used_at";

pub async fn insert(db: &Database, code: &CodeRow) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO authorization_codes ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    );
    let _turn = db.write_turn().await;
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM authorization_codes WHERE expires_at < $1")
            .bind(code.created_at - KEEP_SECS)
            .execute(pool)
            .await?;
        sqlx::query(&sql)
            .bind(&code.hash)
            .bind(&code.client_id)
            .bind(&code.user_id)
            .bind(&code.tenant_id)
            .bind(&code.redirect_uri)
            .bind(code.redirect_sent)
            .bind(&code.scope)
            .bind(&code.code_challenge)
            .bind(&code.nonce)
            .bind(code.auth_time)
            .bind(&code.family_id)
            .bind(&code.access_jti)
            .bind(code.created_at)
            .bind(code.expires_at)
            .bind(code.used_at)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// What presenting a code found.
#[derive(Debug)]
pub enum Taken {
    /// Unused until now: it is now used, by this caller.
    Fresh(CodeRow),
    /// This client's code, used before: it is now marked replayed.
    Replayed(CodeRow),
    /// No such code for this client (another client's code is not burnt by presenting it).
    Unknown,
}

/// Marks `client_id`'s code with this hash used and returns it, once.
pub async fn take(
    db: &Database,
    hash: &str,
    client_id: &str,
    now: i64,
) -> Result<Taken, StoreError> {
    let sql = format!(
        "UPDATE authorization_codes SET used_at = $2 \
         WHERE hash = $1 AND client_id = $3 AND used_at IS NULL RETURNING {COLUMNS}"
    );
    let _turn = db.write_turn().await;
    let taken: Option<CodeRow> = on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(hash).bind(now).bind(client_id).fetch_optional(pool).await?
    });
    if let Some(code) = taken {
        return Ok(Taken::Fresh(code));
    }
    let sql = format!(
        "UPDATE authorization_codes SET replayed_at = $2 \
         WHERE hash = $1 AND client_id = $3 RETURNING {COLUMNS}"
    );
    let replayed: Option<CodeRow> = on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(hash).bind(now).bind(client_id).fetch_optional(pool).await?
    });
    Ok(replayed.map_or(Taken::Unknown, Taken::Replayed))
}

/// Whether the code with this hash has been presented again since its first use.
pub async fn was_replayed(db: &Database, hash: &str) -> Result<bool, StoreError> {
    let replayed: Option<Option<i64>> = on_pool!(db, pool => {
        sqlx::query_scalar("SELECT replayed_at FROM authorization_codes WHERE hash = $1")
            .bind(hash).fetch_optional(pool).await?
    });
    Ok(replayed.flatten().is_some())
}

/// Deletes the codes `user_id` was given for `client_id` and has not exchanged yet (they
/// revoked the app: a code from just before must not start a new sign-in).
pub async fn delete_unused_for(
    tx: &mut Tx,
    user_id: &str,
    client_id: &str,
) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM authorization_codes WHERE user_id = $1 AND client_id = $2 AND used_at IS NULL")
            .bind(user_id).bind(client_id).execute(conn).await?;
    });
    Ok(())
}
