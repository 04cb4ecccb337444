use sqlx::FromRow;

use super::{Database, StoreError, Tx, on_pool, on_tx};
use crate::domain::membership::Role;

/// One member of a tenant, with what the Members screen shows.
#[derive(Debug, Clone, FromRow)]
pub struct MemberRow {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub created_at: i64,
}

/// One tenant a user belongs to, for the tenant switcher.
#[derive(Debug, Clone, FromRow)]
pub struct MembershipRow {
    pub tenant_id: String,
    pub tenant_name: String,
    pub role: String,
}

pub async fn insert(
    tx: &mut Tx,
    tenant_id: &str,
    user_id: &str,
    role: Role,
    now: i64,
) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(tenant_id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(now)
            .execute(conn)
            .await?;
    });
    Ok(())
}

/// The member's role, read inside the transaction that is about to change it.
pub async fn role_in(
    tx: &mut Tx,
    tenant_id: &str,
    user_id: &str,
) -> Result<Option<Role>, StoreError> {
    let role: Option<String> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2"
    ).bind(tenant_id).bind(user_id).fetch_optional(conn).await?);
    role.map(|r| parse_role(&r)).transpose()
}

/// Whether the user with this (normalised) email is a member of the tenant. One query whether
/// or not an account uses the email, so an admin's invitation learns nothing else by its timing.
pub async fn has_member_with_email(
    tx: &mut Tx,
    tenant_id: &str,
    email_normalized: &str,
) -> Result<bool, StoreError> {
    let n: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.tenant_id = $1 AND u.email_normalized = $2"
    ).bind(tenant_id).bind(email_normalized).fetch_one(conn).await?);
    Ok(n > 0)
}

pub async fn count_admins(tx: &mut Tx, tenant_id: &str) -> Result<u64, StoreError> {
    let n: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE tenant_id = $1 AND role = 'admin'"
    ).bind(tenant_id).fetch_one(conn).await?);
    Ok(n.max(0) as u64)
}

pub async fn set_role(
    tx: &mut Tx,
    tenant_id: &str,
    user_id: &str,
    role: Role,
) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE memberships SET role = $3 WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant_id)
            .bind(user_id)
            .bind(role.as_str())
            .execute(conn)
            .await?;
    });
    Ok(())
}

pub async fn delete(tx: &mut Tx, tenant_id: &str, user_id: &str) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant_id)
            .bind(user_id)
            .execute(conn)
            .await?;
    });
    Ok(())
}

pub async fn role_of(
    db: &Database,
    tenant_id: &str,
    user_id: &str,
) -> Result<Option<Role>, StoreError> {
    let role: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2"
    ).bind(tenant_id).bind(user_id).fetch_optional(pool).await?);
    role.map(|r| parse_role(&r)).transpose()
}

pub async fn list_for_tenant(db: &Database, tenant_id: &str) -> Result<Vec<MemberRow>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT m.user_id, u.email, u.display_name, m.role, m.created_at \
         FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.tenant_id = $1 ORDER BY u.email_normalized"
    ).bind(tenant_id).fetch_all(pool).await?))
}

pub async fn list_for_user(db: &Database, user_id: &str) -> Result<Vec<MembershipRow>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT m.tenant_id, t.name AS tenant_name, m.role \
         FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.user_id = $1 ORDER BY m.created_at, t.name"
    ).bind(user_id).fetch_all(pool).await?))
}

pub fn parse_role(value: &str) -> Result<Role, StoreError> {
    Role::parse(value).ok_or_else(|| StoreError::Corrupt(format!("unknown role {value:?}")))
}
