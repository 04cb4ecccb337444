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
mod tests {
    use super::*;
    use crate::{
        services::{
            accounts::principal,
            testkit::{NOW, added, admin, signed_up},
        },
        store::testkit::for_each_migrated_engine,
    };

    async fn actions(db: &Database, tenant_id: &str) -> Vec<String> {
        audit::list_for_tenant(db, tenant_id, 20)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }

    /// The id of the one invitation `user_id` has from `tenant_id`.
    async fn invitation_for(db: &Database, user_id: &str, tenant_id: &str, now: i64) -> String {
        let mine = list_for_user(db, user_id, now).await.unwrap();
        let found = mine.iter().find(|i| i.tenant_id == tenant_id);
        found.expect("an invitation").id.clone()
    }

    #[tokio::test]
    async fn an_invitation_waits_for_acceptance_which_adds_the_member_with_its_role() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let bob = signed_up(&db, "bob@example.com", NOW).await;

            invite(
                &db,
                &ann,
                "Bob@Example.com",
                Role::Admin,
                Some("10.0.0.1"),
                NOW,
            )
            .await
            .unwrap();
            let pending = list_for_tenant(&db, &ann, NOW).await.unwrap();
            assert_eq!(pending.len(), 1);
            assert_eq!(pending[0].email, "Bob@Example.com");
            assert_eq!(pending[0].role, Role::Admin);
            assert_eq!(pending[0].expires_at, NOW + LIFETIME_SECS);
            assert!(
                principal(&db, &bob.user_id, &ann.tenant_id)
                    .await
                    .unwrap()
                    .is_none(),
                "no membership before accepting"
            );

            let mine = list_for_user(&db, &bob.user_id, NOW + 1).await.unwrap();
            assert_eq!(mine.len(), 1, "matched whatever the email's case");
            assert_eq!(mine[0].tenant_name, "ann's team");
            assert_eq!(mine[0].invited_by.as_deref(), Some("ann"));
            assert_eq!(mine[0].role, Role::Admin);

            let tenant = accept(&db, &bob.user_id, &mine[0].id, None, NOW + 2)
                .await
                .unwrap();
            assert_eq!(tenant, ann.tenant_id);
            let p = principal(&db, &bob.user_id, &ann.tenant_id).await.unwrap();
            assert_eq!(p.map(|p| p.role), Some(Role::Admin));
            assert!(
                list_for_tenant(&db, &ann, NOW + 2)
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert!(
                list_for_user(&db, &bob.user_id, NOW + 2)
                    .await
                    .unwrap()
                    .is_empty()
            );
            let again = accept(&db, &bob.user_id, &mine[0].id, None, NOW + 3).await;
            assert!(matches!(again, Err(ServiceError::NotFound(_))), "used up");
            assert_eq!(
                actions(&db, &ann.tenant_id).await,
                ["member.added", "member.invited", "member.added"]
            );
        })
        .await;
    }

    #[tokio::test]
    async fn inviting_answers_the_same_whether_or_not_an_account_uses_the_email() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            signed_up(&db, "bob@example.com", NOW).await;

            let known = invite(&db, &ann, "bob@example.com", Role::Developer, None, NOW).await;
            let unknown = invite(&db, &ann, "cat@example.com", Role::Developer, None, NOW).await;
            assert_eq!(format!("{known:?}"), format!("{unknown:?}"));
            assert!(known.is_ok());
            let emails: Vec<_> = list_for_tenant(&db, &ann, NOW)
                .await
                .unwrap()
                .into_iter()
                .map(|i| i.email)
                .collect();
            assert_eq!(emails.len(), 2);

            // Whoever signs up with the invited email (in any case) finds the invitation.
            let cat = signed_up(&db, "CAT@example.com", NOW + 10).await;
            let id = invitation_for(&db, &cat.user_id, &ann.tenant_id, NOW + 10).await;
            accept(&db, &cat.user_id, &id, None, NOW + 11)
                .await
                .unwrap();
            let p = principal(&db, &cat.user_id, &ann.tenant_id).await.unwrap();
            assert_eq!(p.map(|p| p.role), Some(Role::Developer));

            // A member of the admin's own tenant may be named as one: the admin sees them.
            let member = invite(&db, &ann, "Cat@example.com", Role::Admin, None, NOW + 12)
                .await
                .unwrap_err();
            assert!(
                matches!(member, ServiceError::Conflict(ref f) if f.field == "email"),
                "{member:?}"
            );
            let own = invite(&db, &ann, "ann@example.com", Role::Admin, None, NOW + 12).await;
            assert!(matches!(own, Err(ServiceError::Conflict(_))));
            let bad = invite(&db, &ann, "not an email", Role::Admin, None, NOW).await;
            assert!(matches!(bad, Err(ServiceError::Invalid(ref f)) if f.field == "email"));
        })
        .await;
    }

    #[tokio::test]
    async fn only_the_owner_of_the_invited_email_can_accept_or_decline() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let bob = signed_up(&db, "bob@example.com", NOW).await;
            let eve = signed_up(&db, "eve@example.com", NOW).await;
            invite(&db, &ann, "bob@example.com", Role::Admin, None, NOW)
                .await
                .unwrap();
            let id = invitation_for(&db, &bob.user_id, &ann.tenant_id, NOW).await;

            assert!(
                list_for_user(&db, &eve.user_id, NOW)
                    .await
                    .unwrap()
                    .is_empty()
            );
            for user in [&eve.user_id, &ann.user_id] {
                let accepted = accept(&db, user, &id, None, NOW).await.unwrap_err();
                assert!(
                    matches!(accepted, ServiceError::NotFound(_)),
                    "{accepted:?}"
                );
                let declined = decline(&db, user, &id, None, NOW).await.unwrap_err();
                assert!(
                    matches!(declined, ServiceError::NotFound(_)),
                    "{declined:?}"
                );
            }
            assert!(
                principal(&db, &eve.user_id, &ann.tenant_id)
                    .await
                    .unwrap()
                    .is_none()
            );
            assert_eq!(list_for_tenant(&db, &ann, NOW).await.unwrap().len(), 1);
            assert_eq!(
                actions(&db, &ann.tenant_id).await,
                ["member.invited", "member.added"]
            );
        })
        .await;
    }

    #[tokio::test]
    async fn declining_cancelling_and_expiry_each_end_an_invitation_without_a_membership() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let bob = signed_up(&db, "bob@example.com", NOW).await;

            invite(&db, &ann, "bob@example.com", Role::Developer, None, NOW)
                .await
                .unwrap();
            let id = invitation_for(&db, &bob.user_id, &ann.tenant_id, NOW).await;
            decline(&db, &bob.user_id, &id, None, NOW + 1)
                .await
                .unwrap();
            assert!(
                list_for_tenant(&db, &ann, NOW + 1)
                    .await
                    .unwrap()
                    .is_empty()
            );
            let late = accept(&db, &bob.user_id, &id, None, NOW + 2).await;
            assert!(matches!(late, Err(ServiceError::NotFound(_))));

            invite(&db, &ann, "bob@example.com", Role::Developer, None, NOW + 3)
                .await
                .unwrap();
            let id = invitation_for(&db, &bob.user_id, &ann.tenant_id, NOW + 3).await;
            let other = admin(&db, "olga@example.com", NOW).await;
            let elsewhere = cancel(&db, &other, &id, None, NOW + 4).await;
            assert!(
                matches!(elsewhere, Err(ServiceError::NotFound(_))),
                "{elsewhere:?}"
            );
            cancel(&db, &ann, &id, None, NOW + 4).await.unwrap();
            assert!(
                list_for_user(&db, &bob.user_id, NOW + 4)
                    .await
                    .unwrap()
                    .is_empty()
            );
            let late = accept(&db, &bob.user_id, &id, None, NOW + 5).await;
            assert!(matches!(late, Err(ServiceError::NotFound(_))));

            let at = NOW + 10;
            invite(&db, &ann, "bob@example.com", Role::Developer, None, at)
                .await
                .unwrap();
            let id = invitation_for(&db, &bob.user_id, &ann.tenant_id, at).await;
            let last_moment = at + LIFETIME_SECS - 1;
            assert_eq!(
                list_for_user(&db, &bob.user_id, last_moment)
                    .await
                    .unwrap()
                    .len(),
                1
            );
            let expired = at + LIFETIME_SECS;
            assert!(
                list_for_user(&db, &bob.user_id, expired)
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert!(
                list_for_tenant(&db, &ann, expired)
                    .await
                    .unwrap()
                    .is_empty()
            );
            let late = accept(&db, &bob.user_id, &id, None, expired).await;
            assert!(matches!(late, Err(ServiceError::NotFound(_))));

            assert!(
                principal(&db, &bob.user_id, &ann.tenant_id)
                    .await
                    .unwrap()
                    .is_none()
            );
            assert_eq!(
                actions(&db, &ann.tenant_id).await,
                [
                    "member.invited",
                    "invitation.cancelled",
                    "member.invited",
                    "invitation.declined",
                    "member.invited",
                    "member.added"
                ]
            );
        })
        .await;
    }

    #[tokio::test]
    async fn developers_can_neither_invite_nor_see_nor_cancel_invitations() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let bob = signed_up(&db, "bob@example.com", NOW).await;
            let dev = added(
                &db,
                &ann,
                "bob@example.com",
                &bob.user_id,
                Role::Developer,
                NOW,
            )
            .await;
            let invited = invite(&db, &dev, "cat@example.com", Role::Admin, None, NOW).await;
            assert!(matches!(invited, Err(ServiceError::Forbidden(_))));
            invite(&db, &ann, "cat@example.com", Role::Admin, None, NOW)
                .await
                .unwrap();
            let listed = list_for_tenant(&db, &dev, NOW).await;
            assert!(matches!(listed, Err(ServiceError::Forbidden(_))));
            let id = list_for_tenant(&db, &ann, NOW).await.unwrap()[0].id.clone();
            let cancelled = cancel(&db, &dev, &id, None, NOW).await;
            assert!(matches!(cancelled, Err(ServiceError::Forbidden(_))));
        })
        .await;
    }

    #[tokio::test]
    async fn a_tenant_has_a_bounded_number_of_pending_invitations() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            for i in 0..MAX_PENDING_PER_TENANT {
                invite(
                    &db,
                    &ann,
                    &format!("p{i}@example.com"),
                    Role::Developer,
                    None,
                    NOW,
                )
                .await
                .unwrap();
            }
            let over = invite(
                &db,
                &ann,
                "one-more@example.com",
                Role::Developer,
                None,
                NOW,
            )
            .await
            .unwrap_err();
            assert!(matches!(over, ServiceError::Rule(_)), "{over:?}");

            // Inviting someone already invited renews their invitation, with the new role.
            invite(&db, &ann, "P0@example.com", Role::Admin, None, NOW + 1)
                .await
                .unwrap();
            let pending = list_for_tenant(&db, &ann, NOW + 1).await.unwrap();
            assert_eq!(pending.len() as i64, MAX_PENDING_PER_TENANT);
            let renewed = pending
                .iter()
                .find(|i| i.email == "P0@example.com")
                .unwrap();
            assert_eq!(renewed.role, Role::Admin);
            assert_eq!(renewed.expires_at, NOW + 1 + LIFETIME_SECS);

            // Another tenant has its own allowance.
            let olga = admin(&db, "olga@example.com", NOW).await;
            invite(
                &db,
                &olga,
                "one-more@example.com",
                Role::Developer,
                None,
                NOW,
            )
            .await
            .unwrap();

            // Cancelling one makes room; so does expiry.
            let id = pending[1].id.clone();
            cancel(&db, &ann, &id, None, NOW + 2).await.unwrap();
            invite(
                &db,
                &ann,
                "one-more@example.com",
                Role::Developer,
                None,
                NOW + 2,
            )
            .await
            .unwrap();
            let later = NOW + LIFETIME_SECS + 1;
            invite(&db, &ann, "later@example.com", Role::Developer, None, later)
                .await
                .unwrap();
        })
        .await;
    }
}
