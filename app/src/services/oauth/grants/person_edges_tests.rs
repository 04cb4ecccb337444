//! The edges of the person-facing flows (SPEC §3a), on both engines: who is sent straight
//! back to an app and who sees a page first, the bounds of `state` and `nonce`, consent per
//! acting tenant, and what a replayed code or a reused refresh token takes with it.

use super::user_flow_tests::{CALLBACK, Fixture, VERIFIER, claims, error_code, param};
use crate::{
    domain::{authorize::encode, membership::Role, oauth::ErrorCode},
    services::{
        oauth::authorize::{AuthorizeOutcome, SignedInPerson},
        testkit::{NOW, added, admin, signed_up},
    },
    store::testkit::for_each_migrated_engine,
};

/// Someone who signed up on their own: not a member of the fixture's apps' tenant.
async fn stranger(f: &Fixture, email: &str) -> SignedInPerson {
    let s = signed_up(&f.db, email, NOW).await;
    SignedInPerson {
        user_id: s.user_id,
        tenant_id: s.tenant_id,
        auth_time: NOW,
    }
}

#[tokio::test]
async fn errors_go_straight_back_only_to_people_who_trust_the_app() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let bad_scope = f.query(&f.public_id, "orders:write", "");

        // Nobody signed in, and a signed-in stranger: a page naming the app and the host.
        for person in [None, Some(stranger(&f, "stranger@other.example").await)] {
            let outcome = f.oauth.authorize(None, &bad_scope, person.as_ref()).await;
            let AuthorizeOutcome::ReturnToApp(back) = outcome else {
                panic!("expected the page, got {outcome:?}");
            };
            assert_eq!(back.app_name, "Orders CLI");
            assert_eq!(back.host, "app.example.com");
            assert_eq!(param(&back.url, "error").as_deref(), Some("invalid_scope"));
            assert_eq!(param(&back.url, "state").as_deref(), Some("s1"));
            assert!(back.url.starts_with(CALLBACK), "{}", back.url);
        }

        // A member of the app's tenant is sent straight back.
        let outcome = f.oauth.authorize(None, &bad_scope, Some(&f.person)).await;
        assert!(
            matches!(&outcome, AuthorizeOutcome::Redirect(u) if param(u, "error").as_deref() == Some("invalid_scope")),
            "{outcome:?}"
        );

        // So is an outsider once they have consented to the app.
        let outsider = stranger(&f, "fan@other.example").await;
        f.code_for(&f.query(&f.public_id, "orders:read", ""), &outsider)
            .await;
        let outcome = f.oauth.authorize(None, &bad_scope, Some(&outsider)).await;
        assert!(matches!(outcome, AuthorizeOutcome::Redirect(_)), "{outcome:?}");
    })
    .await;
}

#[tokio::test]
async fn state_and_nonce_are_bounded() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let at_most = |extra: &str| f.query(&f.client_id, "orders:read", extra);
        let long_state = at_most("").replace("state=s1", &format!("state={}", "s".repeat(2049)));
        let AuthorizeOutcome::Redirect(url) =
            f.oauth.authorize(None, &long_state, Some(&f.person)).await
        else {
            panic!("an error for the app");
        };
        assert_eq!(param(&url, "error").as_deref(), Some("invalid_request"));
        assert_eq!(
            param(&url, "state"),
            None,
            "an oversized state is not echoed"
        );
        assert!(url.len() < 1000, "{}", url.len());

        let long_nonce = format!("&nonce={}", "n".repeat(513));
        let AuthorizeOutcome::Redirect(url) = f
            .oauth
            .authorize(None, &at_most(&long_nonce), Some(&f.person))
            .await
        else {
            panic!("an error for the app");
        };
        assert_eq!(param(&url, "error").as_deref(), Some("invalid_request"));

        // At the limits, both are fine: the code flow goes on.
        let limits = at_most(&format!("&nonce={}", "n".repeat(512)))
            .replace("state=s1", &format!("state={}", "s".repeat(2048)));
        let code = f.code_for(&limits, &f.person).await;
        assert!(f.exchange(&code).await.is_ok());
    })
    .await;
}

#[tokio::test]
async fn consent_holds_for_the_tenant_it_was_given_in_and_the_person_chooses_it() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let in_own = stranger(&f, "multi@other.example").await;
        let other_admin = admin(&f.db, "boss@third.example", NOW).await;
        let third = added(
            &f.db,
            &other_admin,
            "multi@other.example",
            &in_own.user_id,
            Role::Developer,
            NOW,
        )
        .await;
        let query = f.query(&f.public_id, "orders:read", "");

        let view = f.oauth.consent_view(&query, &in_own).await.unwrap();
        let offered: Vec<&str> = view.acting.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(
            offered,
            [in_own.tenant_id.as_str(), third.tenant_id.as_str()],
            "the session's tenant first, then every other the person is in"
        );

        // Allowed while acting in their own tenant.
        f.code_for(&query, &in_own).await;

        // Acting in the third tenant now: nothing silent, consent is asked again.
        let in_third = SignedInPerson {
            tenant_id: third.tenant_id.clone(),
            ..in_own.clone()
        };
        let none = f.query(&f.public_id, "orders:read", "&prompt=none");
        let AuthorizeOutcome::Redirect(url) = f.oauth.authorize(None, &none, Some(&in_third)).await
        else {
            panic!("consent_required for the app");
        };
        assert_eq!(param(&url, "error").as_deref(), Some("consent_required"));
        assert_eq!(
            f.oauth.authorize(None, &query, Some(&in_third)).await,
            AuthorizeOutcome::Consent
        );

        // The person picks the tenant on the page; the token acts there.
        let AuthorizeOutcome::Redirect(url) = f
            .oauth
            .decide_consent(&query, &in_own, true, Some(&third.tenant_id), None)
            .await
        else {
            panic!("a code");
        };
        let code = param(&url, "code").unwrap();
        let body = format!(
            "grant_type=authorization_code&code={code}&client_id={}&redirect_uri={}&code_verifier={VERIFIER}",
            f.public_id,
            encode(CALLBACK)
        );
        let issued = f.post(&body).await.unwrap();
        assert_eq!(claims(&issued.access_token)["tenant"], third.tenant_id.as_str());

        // A tenant the person is not in cannot be chosen.
        let outcome = f
            .oauth
            .decide_consent(&query, &in_own, true, Some(&f.owner.tenant_id), None)
            .await;
        assert!(matches!(outcome, AuthorizeOutcome::ErrorPage(_)), "{outcome:?}");

        // Connected apps shows the app once.
        let apps = crate::services::connected_apps::connected_apps(&f.db, &in_own.user_id)
            .await
            .unwrap();
        assert_eq!(apps.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_replayed_code_revokes_every_access_token_its_family_issued() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let code = f
            .code_for(&f.query(&f.client_id, "orders:read", ""), &f.person)
            .await;
        let first = f.exchange(&code).await.unwrap();
        let second = f
            .refresh(first.refresh_token.as_deref().unwrap())
            .await
            .unwrap();
        let third = f
            .refresh(second.refresh_token.as_deref().unwrap())
            .await
            .unwrap();
        let now = f.oauth.now();
        for token in [&first, &second, &third] {
            assert!(
                f.oauth
                    .verify(&token.access_token, now)
                    .await
                    .unwrap()
                    .is_some()
            );
        }

        assert_eq!(
            error_code(f.exchange(&code).await),
            Some(ErrorCode::InvalidGrant)
        );
        for (i, token) in [&first, &second, &third].into_iter().enumerate() {
            assert!(
                f.oauth
                    .verify(&token.access_token, now)
                    .await
                    .unwrap()
                    .is_none(),
                "access token {i} of the family is revoked"
            );
        }
        assert_eq!(
            error_code(f.refresh(third.refresh_token.as_deref().unwrap()).await),
            Some(ErrorCode::InvalidGrant)
        );
    })
    .await;
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_the_access_tokens_of_its_family() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let first = f.signed_in("orders:read").await;
        let spent = first.refresh_token.clone().unwrap();
        let second = f.refresh(&spent).await.unwrap();
        assert_eq!(
            error_code(f.refresh(&spent).await),
            Some(ErrorCode::InvalidGrant)
        );
        let now = f.oauth.now();
        for token in [&first, &second] {
            assert!(
                f.oauth
                    .verify(&token.access_token, now)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
    })
    .await;
}
