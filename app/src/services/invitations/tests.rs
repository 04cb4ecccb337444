//! The invitation rules, on both engines.

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
            [
                "member.added",
                "member.invited",
                "user.signed_up",
                "member.added"
            ]
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
            ["member.invited", "user.signed_up", "member.added"]
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
                "user.signed_up",
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

#[tokio::test]
async fn an_invitation_is_withdrawn_once_its_admin_no_longer_is_one() {
    for_each_migrated_engine(|db| async move {
        let ann = admin(&db, "ann@example.com", NOW).await;
        let cat = signed_up(&db, "cat@example.com", NOW).await;
        let cat_in_ann = added(&db, &ann, "cat@example.com", &cat.user_id, Role::Admin, NOW).await;
        let eve = signed_up(&db, "eve@example.com", NOW).await;
        invite(&db, &cat_in_ann, "eve@example.com", Role::Admin, None, NOW)
            .await
            .unwrap();
        let id = invitation_for(&db, &eve.user_id, &ann.tenant_id, NOW + 1).await;
        // Ann demotes Cat, who sent it, before Eve answers.
        crate::services::accounts::change_member(
            &db,
            &ann,
            &cat.user_id,
            crate::domain::membership::MemberChange::SetRole(Role::Developer),
            None,
            NOW + 2,
        )
        .await
        .unwrap();
        let err = accept(&db, &eve.user_id, &id, None, NOW + 3)
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
        assert!(
            principal(&db, &eve.user_id, &ann.tenant_id)
                .await
                .unwrap()
                .is_none(),
            "no membership from a withdrawn invitation"
        );
    })
    .await;
}
