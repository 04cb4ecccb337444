//! Members join by invitation (SPEC §5): an admin invites an email with a role, and only the
//! person who signs in with that email can accept (becoming a member) or decline.
//!
//! Inviting answers the same whether or not an account uses the email, and does the same work
//! either way, so it cannot be used to find out who has a Keyport account. It does say when
//! the email is already a member's: the admin sees the members list anyway.

use serde_json::json;

use super::{
    ServiceError,
    accounts::{Principal, add_membership},
};
use crate::{
    domain::{FieldError, account::Email, membership::Role},
    model::invitations::{InvitationForYou, InvitationView},
    store::{
        Database,
        audit::{self, Actor, NewEvent},
        invitations::{self, InvitationRow, NewInvitation},
        members, new_id, tenants,
    },
};

/// How long an invitation waits for an answer.
pub const LIFETIME_SECS: i64 = 14 * 24 * 3600;

/// Pending invitations one tenant may have at once, so inviting cannot be used to spam people.
pub const MAX_PENDING_PER_TENANT: i64 = 50;

/// What accepting, declining or cancelling an invitation that is not (or no longer) there
/// says. The same whether it never existed, expired, was answered, or is someone else's.
const GONE: &str = "This invitation no longer exists: it expired, was cancelled, or was answered.";

/// Invites `email` to join the admin's tenant as `role`, renewing any earlier invitation of it.
pub async fn invite(
    db: &Database,
    by: &Principal,
    email: &str,
    role: Role,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    by.require_admin()?;
    let email = Email::parse(email)?;
    let mut tx = db.begin().await?;
    // Serialises invitations of one tenant, so two at once cannot both pass the bound.
    tenants::lock(&mut tx, &by.tenant_id).await?;
    if members::has_member_with_email(&mut tx, &by.tenant_id, email.normalized()).await? {
        return Err(ServiceError::Conflict(FieldError::new(
            "email",
            "This person is already a member of this tenant.",
        )));
    }
    invitations::delete_expired(&mut tx, &by.tenant_id, now).await?;
    let pending =
        invitations::count_pending(&mut tx, &by.tenant_id, email.normalized(), now).await?;
    if pending >= MAX_PENDING_PER_TENANT {
        return Err(ServiceError::Rule(format!(
            "This tenant already has {MAX_PENDING_PER_TENANT} pending invitations, the most it \
             may have. Cancel some, or wait for them to be answered or to expire."
        )));
    }
    let id = new_id();
    let expires_at = now + LIFETIME_SECS;
    invitations::replace(
        &mut tx,
        &NewInvitation {
            id: &id,
            tenant_id: &by.tenant_id,
            email: email.as_str(),
            email_normalized: email.normalized(),
            role: role.as_str(),
            invited_by: &by.user_id,
            created_at: now,
            expires_at,
        },
    )
    .await?;
    let detail =
        json!({ "email": email.as_str(), "role": role.as_str(), "expires_at": expires_at });
    audit::record(
        &mut tx,
        &NewEvent {
            target_type: Some("invitation"),
            target_id: Some(&id),
            detail: Some(detail),
            ip,
            ..by.event("member.invited", now)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The admin's tenant's pending invitations.
pub async fn list_for_tenant(
    db: &Database,
    by: &Principal,
    now: i64,
) -> Result<Vec<InvitationView>, ServiceError> {
    by.require_admin()?;
    invitations::list_for_tenant(db, &by.tenant_id, now)
        .await?
        .into_iter()
        .map(|i| {
            Ok(InvitationView {
                role: members::parse_role(&i.role)?,
                id: i.id,
                email: i.email,
                invited_at: i.created_at,
                expires_at: i.expires_at,
            })
        })
        .collect()
}

/// An admin withdraws a pending invitation of their tenant.
pub async fn cancel(
    db: &Database,
    by: &Principal,
    id: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    by.require_admin()?;
    let mut tx = db.begin().await?;
    let Some(invitation) = invitations::get_in_tenant(&mut tx, &by.tenant_id, id, now).await?
    else {
        return Err(ServiceError::NotFound(GONE.into()));
    };
    invitations::delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &answered(&invitation, "invitation.cancelled", by.actor(), ip, now),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The pending invitations for the email of user `user_id`, whatever tenant they are in now.
pub async fn list_for_user(
    db: &Database,
    user_id: &str,
    now: i64,
) -> Result<Vec<InvitationForYou>, ServiceError> {
    invitations::list_for_user(db, user_id, now)
        .await?
        .into_iter()
        .map(|i| {
            Ok(InvitationForYou {
                role: members::parse_role(&i.role)?,
                id: i.id,
                tenant_id: i.tenant_id,
                tenant_name: i.tenant_name,
                invited_by: i.invited_by_name,
                expires_at: i.expires_at,
            })
        })
        .collect()
}

/// User `user_id` accepts invitation `id`, made for their email: they become a member of its
/// tenant with its role. The tenant's id, to switch to.
pub async fn accept(
    db: &Database,
    user_id: &str,
    id: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<String, ServiceError> {
    let mut tx = db.begin().await?;
    let Some(invitation) = invitations::get_for_user(&mut tx, user_id, id, now).await? else {
        return Err(ServiceError::NotFound(GONE.into()));
    };
    invitations::delete(&mut tx, id).await?;
    // An invitation speaks for the admin who sent it: once they are no longer an admin of the
    // tenant (demoted, removed), what they offered is withdrawn, or a departing admin could
    // leave invitations behind for their own other addresses.
    let inviter = members::role_in(&mut tx, &invitation.tenant_id, &invitation.invited_by).await?;
    if inviter != Some(Role::Admin) {
        tx.commit().await?;
        return Err(ServiceError::NotFound(GONE.into()));
    }
    // Someone the operator's CLI added meanwhile keeps the role they have.
    if members::role_in(&mut tx, &invitation.tenant_id, user_id)
        .await?
        .is_none()
    {
        let role = members::parse_role(&invitation.role)?;
        let actor = Actor::User(user_id);
        add_membership(
            &mut tx,
            &invitation.tenant_id,
            user_id,
            role,
            actor,
            ip,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(invitation.tenant_id)
}

/// User `user_id` declines invitation `id`, made for their email: it is gone.
pub async fn decline(
    db: &Database,
    user_id: &str,
    id: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    let mut tx = db.begin().await?;
    let Some(invitation) = invitations::get_for_user(&mut tx, user_id, id, now).await? else {
        return Err(ServiceError::NotFound(GONE.into()));
    };
    invitations::delete(&mut tx, id).await?;
    let event = answered(
        &invitation,
        "invitation.declined",
        Actor::User(user_id),
        ip,
        now,
    );
    audit::record(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

/// The audit event of an invitation that ends without a membership.
fn answered<'a>(
    invitation: &'a InvitationRow,
    action: &'a str,
    actor: Actor<'a>,
    ip: Option<&'a str>,
    now: i64,
) -> NewEvent<'a> {
    NewEvent {
        target_type: Some("invitation"),
        target_id: Some(&invitation.id),
        detail: Some(json!({ "email": invitation.email, "role": invitation.role })),
        ip,
        ..NewEvent::new(Some(&invitation.tenant_id), actor, action, now)
    }
}

#[cfg(test)]
mod tests;
