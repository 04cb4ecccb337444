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

/// The tenant the public app's token for `code` acts in.
async fn tenant_of(f: &Fixture, code: String) -> String {
    let body = format!(
        "grant_type=authorization_code&code={code}&client_id={}&redirect_uri={}&code_verifier={VERIFIER}",
        f.public_id,
        encode(CALLBACK)
    );
    let issued = f.post(&body).await.unwrap();
    claims(&issued.access_token)["tenant"]
        .as_str()
        .unwrap()
        .to_string()
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
        let code = f.code_for(&query, &in_own).await;
        assert_eq!(tenant_of(&f, code).await, in_own.tenant_id);

        // Their session in the third tenant now: a silent sign-in still acts only where the
        // app was allowed, never in the third tenant.
        let in_third = SignedInPerson {
            tenant_id: third.tenant_id.clone(),
            ..in_own.clone()
        };
        let none = f.query(&f.public_id, "orders:read", "&prompt=none");
        let code = f.code_for(&none, &in_third).await;
        assert_eq!(
            tenant_of(&f, code).await,
            in_own.tenant_id,
            "not the session's tenant"
        );

        // The person picks the third tenant on the page; the token acts there, and later
        // silent sign-ins from that session too.
        let AuthorizeOutcome::Redirect(url) = f
            .oauth
            .decide_consent(&query, &in_third, true, Some(&third.tenant_id), None)
            .await
        else {
            panic!("a code");
        };
        assert_eq!(
            tenant_of(&f, param(&url, "code").unwrap()).await,
            third.tenant_id
        );
        let code = f.code_for(&none, &in_third).await;
        assert_eq!(tenant_of(&f, code).await, third.tenant_id);

        // A wider request from a tenant where only less was allowed is asked, not silent.
        let wider = f.query(&f.public_id, "orders:read openid", "&prompt=none");
        let AuthorizeOutcome::Redirect(url) =
            f.oauth.authorize(None, &wider, Some(&in_third)).await
        else {
            panic!("consent_required for the app");
        };
        assert_eq!(param(&url, "error").as_deref(), Some("consent_required"));

        // A tenant the person is not in cannot be chosen.
        let outcome = f
            .oauth
            .decide_consent(&query, &in_own, true, Some(&f.owner.tenant_id), None)
            .await;
        assert!(
            matches!(outcome, AuthorizeOutcome::ErrorPage(_)),
            "{outcome:?}"
        );

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

/// Migration 9 keys consent by acting tenant: a consent given before the upgrade keeps
/// covering the refresh tokens it gave, in every tenant they act in.
#[tokio::test]
async fn consents_from_before_the_upgrade_keep_their_refresh_tokens_working() {
    use crate::store::{MIGRATOR, on_pool, testkit::for_each_engine};
    const ACTING_TENANT_CONSENTS: i64 = 20261207000009;
    for_each_engine(|db| async move {
        for m in MIGRATOR.iter().filter(|m| m.version < ACTING_TENANT_CONSENTS) {
            on_pool!(&db, pool => { sqlx::raw_sql(&m.sql).execute(pool).await.unwrap(); });
        }
        let owner = admin(&db, "owner@example.com", NOW).await;
        let other = admin(&db, "other@example.com", NOW).await;
        let app = crate::services::apps::create_app(
            &db,
            &crate::services::testkit::hasher(),
            crate::services::testkit::PUBLIC_URL,
            &owner,
            crate::services::testkit::draft("Orders"),
            None,
            NOW,
        )
        .await
        .unwrap()
        .app;
        let (user, client) = (&other.user_id, &app.client_id);
        on_pool!(&db, pool => {
            sqlx::query("INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, 'openid', 1)")
                .bind(user).bind(client).execute(pool).await.unwrap();
            sqlx::query("INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, 'email', 2)")
                .bind(&owner.user_id).bind(client).execute(pool).await.unwrap();
            for (hash, tenant) in [("h1", &other.tenant_id), ("h2", &owner.tenant_id)] {
                sqlx::query(
                    "INSERT INTO refresh_tokens (hash, family_id, client_id, user_id, tenant_id, scope, \
                     auth_time, created_at, idle_expires_at, family_expires_at) \
                     VALUES ($1, $1, $2, $3, $4, 'openid', 1, 1, 9, 9)",
                )
                .bind(hash).bind(client).bind(user).bind(tenant).execute(pool).await.unwrap();
            }
        });
        let upgrade = MIGRATOR
            .iter()
            .find(|m| m.version == ACTING_TENANT_CONSENTS)
            .unwrap();
        on_pool!(&db, pool => { sqlx::raw_sql(&upgrade.sql).execute(pool).await.expect("migration 9 on a database with consents"); });
        let rows: Vec<(String, String, String)> = on_pool!(&db, pool => {
            sqlx::query_as("SELECT user_id, tenant_id, scope FROM consents ORDER BY user_id, tenant_id")
                .fetch_all(pool).await.unwrap()
        });
        let mut expected = vec![
            (other.user_id.clone(), other.tenant_id.clone(), "openid".to_string()),
            (other.user_id.clone(), owner.tenant_id.clone(), "openid".to_string()),
            (owner.user_id.clone(), owner.tenant_id.clone(), "email".to_string()),
        ];
        expected.sort();
        assert_eq!(rows, expected, "one per tenant its refresh tokens act in, else the app's");
    })
    .await;
}
