//! What ends a person's tokens besides their own revoke, and what strangers cannot do to a
//! sign-in (found by review): on both engines, with the clock in the test's hand.

use crate::{
    domain::{
        authorize::encode,
        membership::{MemberChange, Role},
        oauth::ErrorCode,
    },
    model::apps::Visibility,
    services::{
        accounts::change_member,
        apps::{self, AppChanges},
        connected_apps,
        oauth::{authorize::SignedInPerson, userinfo::UserinfoError},
        testkit::{NOW, PUBLIC_URL, added, signed_up},
    },
    store::{audit, testkit::for_each_migrated_engine},
};

use super::user_flow_tests::{CALLBACK, Fixture, VERIFIER, claims, error_code};

#[tokio::test]
async fn making_an_app_private_or_dropping_a_scope_reaches_existing_refresh_tokens() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let outsider = signed_up(&f.db, "out@other.example", NOW).await;
        let outsider = SignedInPerson {
            user_id: outsider.user_id,
            tenant_id: outsider.tenant_id,
            auth_time: NOW,
        };
        let code = f.code_for(&f.query(&f.public_id, "orders:read", ""), &outsider).await;
        let body = format!(
            "grant_type=authorization_code&code={code}&client_id={}&redirect_uri={}&code_verifier={VERIFIER}",
            f.public_id,
            encode(CALLBACK)
        );
        let token = f.post(&body).await.unwrap().refresh_token.unwrap();
        let private = AppChanges {
            visibility: Some(Visibility::Private),
            ..Default::default()
        };
        apps::update_app(&f.db, PUBLIC_URL, &f.owner, &f.public_id, private, None, NOW)
            .await
            .unwrap();
        let refresh = format!(
            "grant_type=refresh_token&client_id={}&refresh_token={token}",
            f.public_id
        );
        assert_eq!(
            error_code(f.post(&refresh).await),
            Some(ErrorCode::InvalidGrant),
            "an outsider's tokens end when the app becomes private"
        );

        let member_token = f.signed_in("openid orders:read").await.refresh_token.unwrap();
        let no_scopes = AppChanges {
            scopes: Some(Vec::new()),
            ..Default::default()
        };
        apps::update_app(&f.db, PUBLIC_URL, &f.owner, &f.client_id, no_scopes, None, NOW)
            .await
            .unwrap();
        let refreshed = f.refresh(&member_token).await.unwrap();
        assert_eq!(refreshed.scope, "openid", "a scope the app lost is not issued again");
    })
    .await;
}

#[tokio::test]
async fn joining_a_tenant_again_does_not_bring_old_tokens_back() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let token = f.signed_in("orders:read").await.refresh_token.unwrap();
        let user = f.person.user_id.clone();
        change_member(&f.db, &f.owner, &user, MemberChange::Remove, None, NOW)
            .await
            .unwrap();
        added(
            &f.db,
            &f.owner,
            "pat@example.com",
            &user,
            Role::Developer,
            NOW,
        )
        .await;
        assert_eq!(
            error_code(f.refresh(&token).await),
            Some(ErrorCode::InvalidGrant)
        );
    })
    .await;
}

#[tokio::test]
async fn another_client_cannot_burn_a_code_and_revoking_ends_codes_not_yet_exchanged() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let code = f.code_for(&f.query(&f.client_id, "orders:read", ""), &f.person).await;
        let foreign = format!(
            "grant_type=authorization_code&code={code}&client_id={}&redirect_uri={}&code_verifier={VERIFIER}",
            f.public_id,
            encode(CALLBACK)
        );
        assert_eq!(error_code(f.post(&foreign).await), Some(ErrorCode::InvalidGrant));
        assert!(f.exchange(&code).await.is_ok(), "the code still works for its client");

        let pending = f.code_for(&f.query(&f.client_id, "orders:read", ""), &f.person).await;
        connected_apps::revoke_app(&f.db, &f.person.user_id, &f.client_id, None, NOW)
            .await
            .unwrap();
        assert_eq!(error_code(f.exchange(&pending).await), Some(ErrorCode::InvalidGrant));
    })
    .await;
}

#[tokio::test]
async fn id_tokens_say_the_email_is_unverified_and_userinfo_ends_with_the_app() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let issued = f.signed_in("openid email").await;
        let id = claims(issued.id_token.as_deref().unwrap());
        assert_eq!(id["email_verified"], false);
        assert!(f.oauth.userinfo(None, &issued.access_token).await.is_ok());
        apps::set_app_disabled(&f.db, &f.owner, &f.client_id, true, None, NOW)
            .await
            .unwrap();
        assert!(matches!(
            f.oauth.userinfo(None, &issued.access_token).await,
            Err(UserinfoError::InvalidToken)
        ));
    })
    .await;
}

#[tokio::test]
async fn allowing_again_what_was_allowed_is_not_another_audit_event() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let query = f.query(&f.client_id, "orders:read", "&prompt=consent");
        for _ in 0..3 {
            f.oauth
                .decide_consent(&query, &f.person, true, None, None)
                .await;
        }
        let wider = f.query(&f.client_id, "openid orders:read", "&prompt=consent");
        f.oauth
            .decide_consent(&wider, &f.person, true, None, None)
            .await;
        let events = audit::list_for_target(&f.db, &f.owner.tenant_id, &f.client_id, 100)
            .await
            .unwrap();
        let granted = events
            .iter()
            .filter(|e| e.action == "consent.granted")
            .count();
        assert_eq!(granted, 2, "the first consent and the one that grew it");
    })
    .await;
}

#[tokio::test]
async fn a_sign_in_older_than_max_age_signs_in_again() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        f.signed_in("orders:read").await;
        // The person signed in 5 seconds before NOW.
        let strict = f.query(&f.client_id, "orders:read", "&max_age=4");
        assert_eq!(
            f.oauth.authorize(None, &strict, Some(&f.person)).await,
            crate::services::oauth::authorize::AuthorizeOutcome::SignIn
        );
        let lenient = f.query(&f.client_id, "orders:read", "&max_age=5");
        let outcome = f.oauth.authorize(None, &lenient, Some(&f.person)).await;
        assert!(matches!(outcome, crate::services::oauth::authorize::AuthorizeOutcome::Redirect(ref u) if u.contains("code=")));
    })
    .await;
}
