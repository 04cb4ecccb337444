use sqlx::FromRow;

use super::{Database, StoreError, Tx, on_pool, on_tx};

/// A person as stored. The password hash stays inside the server: not `Serialize`.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub created_at: i64,
}

pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub created_at: i64,
}

const COLUMNS: &str = "id, email, display_name, password_hash, created_at";

pub async fn insert(tx: &mut Tx, user: &NewUser<'_>) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO users (id, email, email_normalized, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user.id)
        .bind(user.email)
        .bind(user.email_normalized)
        .bind(user.display_name)
        .bind(user.password_hash)
        .bind(user.created_at)
        .execute(conn)
        .await?;
    });
    Ok(())
}

pub async fn find_by_email(
    db: &Database,
    email_normalized: &str,
) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email_normalized = $1");
    Ok(
        on_pool!(db, pool => sqlx::query_as(&sql).bind(email_normalized).fetch_optional(pool).await?),
    )
}

pub async fn get(db: &Database, id: &str) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
}

pub async fn count(db: &Database) -> Result<i64, StoreError> {
    Ok(
        on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?),
    )
}
