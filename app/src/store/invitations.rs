//! Invitations to join a tenant. Every read ignores expired rows, so an invitation stops
//! counting (and stops being acceptable) the moment it expires, whether or not it has been
//! purged yet.

use sqlx::FromRow;

use super::{Database, StoreError, Tx, on_pool, on_tx};

#[derive(Debug, Clone, FromRow)]
pub struct InvitationRow {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub role: String,
    pub invited_by: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// An invitation as the invited person sees it: which tenant, and who asked.
#[derive(Debug, Clone, FromRow)]
pub struct ForEmailRow {
    pub id: String,
    pub tenant_id: String,
    pub tenant_name: String,
    pub role: String,
    /// The inviter's display name; `None` for a tool client or a user since deleted.
    pub invited_by_name: Option<String>,
    pub expires_at: i64,
}

pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub role: &'a str,
    pub invited_by: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

const COLUMNS: &str = "id, tenant_id, email, role, invited_by, created_at, expires_at";

/// Stores `new`, replacing any invitation of the same email to the same tenant (pending or
/// expired): inviting again renews the invitation with the new role and expiry.
pub async fn replace(tx: &mut Tx, new: &NewInvitation<'_>) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM invitations WHERE tenant_id = $1 AND email_normalized = $2")
            .bind(new.tenant_id)
            .bind(new.email_normalized)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO invitations \
             (id, tenant_id, email, email_normalized, role, invited_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new.id)
        .bind(new.tenant_id)
        .bind(new.email)
        .bind(new.email_normalized)
        .bind(new.role)
        .bind(new.invited_by)
        .bind(new.created_at)
        .bind(new.expires_at)
        .execute(conn)
        .await?;
    });
    Ok(())
}

/// Removes the tenant's expired invitations, so they stop taking space.
pub async fn delete_expired(tx: &mut Tx, tenant_id: &str, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM invitations WHERE tenant_id = $1 AND expires_at <= $2")
            .bind(tenant_id)
            .bind(now)
            .execute(conn)
            .await?;
    });
    Ok(())
}

/// How many unexpired invitations the tenant has, not counting those to `except_email`.
pub async fn count_pending(
    tx: &mut Tx,
    tenant_id: &str,
    except_email: &str,
    now: i64,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT COUNT(*) FROM invitations \
         WHERE tenant_id = $1 AND email_normalized <> $2 AND expires_at > $3"
    ).bind(tenant_id).bind(except_email).bind(now).fetch_one(conn).await?))
}

/// The unexpired invitation `id` of the tenant, read inside the transaction that removes it.
pub async fn get_in_tenant(
    tx: &mut Tx,
    tenant_id: &str,
    id: &str,
    now: i64,
) -> Result<Option<InvitationRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations WHERE id = $1 AND tenant_id = $2 AND expires_at > $3"
    );
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(id).bind(tenant_id).bind(now).fetch_optional(conn).await?))
}

/// The unexpired invitation `id`, only if it is for the email of user `user_id`: whoever else
/// asks finds nothing.
pub async fn get_for_user(
    tx: &mut Tx,
    user_id: &str,
    id: &str,
    now: i64,
) -> Result<Option<InvitationRow>, StoreError> {
    Ok(on_tx!(tx, conn => sqlx::query_as(
        "SELECT i.id, i.tenant_id, i.email, i.role, i.invited_by, i.created_at, i.expires_at \
         FROM invitations i JOIN users u ON u.email_normalized = i.email_normalized \
         WHERE i.id = $1 AND u.id = $2 AND i.expires_at > $3"
    ).bind(id).bind(user_id).bind(now).fetch_optional(conn).await?))
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<(), StoreError> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM invitations WHERE id = $1")
            .bind(id)
            .execute(conn)
            .await?;
    });
    Ok(())
}

/// The tenant's unexpired invitations, soonest to expire first.
pub async fn list_for_tenant(
    db: &Database,
    tenant_id: &str,
    now: i64,
) -> Result<Vec<InvitationRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations WHERE tenant_id = $1 AND expires_at > $2 \
         ORDER BY expires_at, email_normalized"
    );
    Ok(on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(tenant_id).bind(now).fetch_all(pool).await?))
}

/// The unexpired invitations for the email of user `user_id`, oldest first.
pub async fn list_for_user(
    db: &Database,
    user_id: &str,
    now: i64,
) -> Result<Vec<ForEmailRow>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT i.id, i.tenant_id, t.name AS tenant_name, i.role, \
                inviter.display_name AS invited_by_name, i.expires_at \
         FROM users u \
         JOIN invitations i ON i.email_normalized = u.email_normalized \
         JOIN tenants t ON t.id = i.tenant_id \
         LEFT JOIN users inviter ON inviter.id = i.invited_by \
         WHERE u.id = $1 AND i.expires_at > $2 \
         ORDER BY i.created_at, t.name"
    ).bind(user_id).bind(now).fetch_all(pool).await?))
}
