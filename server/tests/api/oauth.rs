//! The OAuth endpoints: every row of the token endpoint's error table, introspection,
//! revocation, the JSON variant, the JWKS and key rotation (each tenant's issuer and
//! discovery documents are in `issuers.rs`).

use std::time::Duration;

use app::{
    domain::jwt::Alg,
    services::{
        apps, keys,
        oauth::{self, Clock, ManualClock},
    },
    store::{
        Database,
        testkit::{POSTGRES_URL_VAR, TestDb},
        unix_now,
    },
};
use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    AppDraftBuilder, Client, TestApp, access_token, admin_of, assert_succeeded, basic,
    check_as_resource_server, client, create_app, draft, hasher, keyport, spawn_app,
    spawn_app_polling_every, spawn_app_signing_with, spawn_app_with_clock, spawn_apps, tenant,
};

/// This module's apps: tokens that live ten minutes, for the tenant's default audience or
/// `https://api.example.com`.
fn oauth_draft(name: &str) -> AppDraftBuilder {
    draft(name)
        .token_lifetime_secs(600)
        .audiences(&["https://api.example.com"])
}

async fn orders_client(app: &TestApp) -> Client {
    client(
        &app.db,
        "acme",
        oauth_draft("orders")
            .scopes(&["orders:read", "orders:write"])
            .roles(&["reader"]),
    )
    .await
}

/// Asserts an RFC 6749 §5.2 error and returns its body.
async fn expect_error(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    body
}

async fn expect_invalid_client(res: Response, challenge: bool) {
    assert_eq!(
        res.headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_string()),
        challenge.then(|| "Basic realm=\"keyport\"".to_string())
    );
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

/// Verifies a token of `c`'s tenant the way that tenant's resource server would, with an
/// independent JWT library.
async fn verify(app: &TestApp, c: &Client, token: &str, audience: &str) -> Value {
    verify_at(app, app, c, token, audience).await
}

/// As [`verify`], with the keys published by `keys_from` (another instance, say).
async fn verify_at(
    keys_from: &TestApp,
    app: &TestApp,
    c: &Client,
    token: &str,
    audience: &str,
) -> Value {
    let keys = keys_from.tenant_jwks(&c.tenant_id).await;
    check_as_resource_server(&keys, &app.issuer(&c.tenant_id), audience, token)
        .expect("the token verifies")
}

fn default_audience(app: &TestApp, c: &Client) -> String {
    format!("{}/tenants/{}", app.url(""), c.tenant_id)
}

#[tokio::test]
async fn eddsa_and_rs256_servers_issue_tokens_that_verify_through_the_jwks() {
    use jsonwebtoken::Algorithm;
    for (alg, expected) in [
        (Alg::EdDsa, Algorithm::EdDSA),
        (Alg::Rs256, Algorithm::RS256),
    ] {
        let app = spawn_app_signing_with(alg).await;
        let c = orders_client(&app).await;
        let token = access_token(app.token_for(&c).await).await;
        assert_eq!(jsonwebtoken::decode_header(&token).unwrap().alg, expected);
        let claims = verify(&app, &c, &token, &default_audience(&app, &c)).await;
        assert_eq!(claims["client_id"], c.client_id.as_str());
        let metadata: Value = app
            .get_json(&format!(
                "/.well-known/oauth-authorization-server/t/{}",
                c.tenant_id
            ))
            .await;
        assert_eq!(
            metadata["access_token_signing_alg_values_supported"],
            json!([alg.as_str()])
        );
    }
}

#[tokio::test]
async fn basic_and_post_authentication_issue_tokens_that_verify_through_the_jwks() {
    for app in spawn_apps().await {
        let c = orders_client(&app).await;
        let res = app.token_for(&c).await;
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert_eq!(res.headers()["pragma"], "no-cache");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 600);
        assert_eq!(body["scope"], "orders:read orders:write");
        let claims = verify(
            &app,
            &c,
            body["access_token"].as_str().unwrap(),
            &default_audience(&app, &c),
        )
        .await;
        assert_eq!(claims["sub"], c.client_id.as_str());
        assert_eq!(claims["client_id"], c.client_id.as_str());
        assert_eq!(claims["tenant"], c.tenant_id.as_str());
        assert_eq!(claims["roles"], json!(["reader"]));
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            600
        );
        assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));

        let body = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope=orders%3Aread&resource=https%3A%2F%2Fapi.example.com",
            c.client_id, c.secret
        );
        let res = app.token(None, &body).await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["scope"], "orders:read");
        let claims = verify(
            &app,
            &c,
            body["access_token"].as_str().unwrap(),
            "https://api.example.com",
        )
        .await;
        assert_eq!(claims["scope"], "orders:read");
    }
}

#[tokio::test]
async fn malformed_basic_headers_are_invalid_client_with_a_challenge() {
    let app = spawn_app().await;
    let c = orders_client(&app).await;
    let b64 = |raw: &[u8]| format!("Basic {}", STANDARD.encode(raw));
    for header in [
        "Basic".to_string(),
        "Basic !!!".to_string(),
        b64(c.client_id.as_bytes()),
        b64(b"\xff\xfe:secret"),
        b64(format!("{}:%zz", c.client_id).as_bytes()),
        b64(format!("{}:{}x", c.client_id, c.secret).as_bytes()),
    ] {
        let res = app
            .token(Some(&header), "grant_type=client_credentials")
            .await;
        expect_invalid_client(res, true).await;
    }
    // Form-urlencoded credentials inside Basic are decoded (RFC 6749 §2.3.1).
    let encoded = b64(format!("{}:{}", c.client_id, c.secret.replace('_', "%5F")).as_bytes());
    assert_eq!(
        app.token(Some(&encoded), "grant_type=client_credentials")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn every_malformed_request_gets_its_rfc_6749_error() {
    let app = spawn_app().await;
    let c = orders_client(&app).await;
    let auth = basic(&c.client_id, &c.secret);
    let cases = [
        (
            format!("grant_type=client_credentials&client_secret={}", c.secret),
            "invalid_request",
        ),
        (
            "grant_type=client_credentials&client_id=kpc_someoneelse00000000000".to_string(),
            "invalid_request",
        ),
        (
            "grant_type=client_credentials&scope=orders%3Aread&scope=orders%3Awrite".to_string(),
            "invalid_request",
        ),
        (
            "grant_type=client_credentials&grant_type=client_credentials".to_string(),
            "invalid_request",
        ),
        ("scope=orders%3Aread".to_string(), "invalid_request"),
        ("grant_type=".to_string(), "invalid_request"),
        (
            "grant_type=password&username=a&password=b".to_string(),
            "unsupported_grant_type",
        ),
        ("grant_type=implicit".to_string(), "unsupported_grant_type"),
        (
            "grant_type=client_credentials&scope=%zz".to_string(),
            "invalid_request",
        ),
        (
            "grant_type=client_credentials&scope=orders%3Adelete".to_string(),
            "invalid_scope",
        ),
        (
            "grant_type=client_credentials&audience=https%3A%2F%2Fevil.example".to_string(),
            "invalid_target",
        ),
        (
            "grant_type=client_credentials&resource=not-a-uri".to_string(),
            "invalid_target",
        ),
    ];
    for (body, code) in cases {
        let res = app.token(Some(&auth), &body).await;
        let got = expect_error(res, StatusCode::BAD_REQUEST, code).await;
        assert!(!got.to_string().contains(&c.secret), "{body}");
    }

    // Not a form.
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("authorization", &auth)
        .json(&json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
    // Not UTF-8.
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", &auth)
        .body(b"grant_type=client_credentials&scope=\xff".to_vec())
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
    // Oversized.
    let huge = format!("grant_type=client_credentials&pad={}", "a".repeat(10_000));
    let res = app.token(Some(&auth), &huge).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // GET.
    let res = app.get("/oauth/token").await;
    assert_eq!(res.headers()["allow"], "POST");
    expect_error(res, StatusCode::METHOD_NOT_ALLOWED, "invalid_request").await;
    // No credentials at all: no Basic was tried, so no challenge.
    expect_invalid_client(
        app.token(None, "grant_type=client_credentials").await,
        false,
    )
    .await;
    // Charset parameters on the content type are fine (authlib sends one).
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header(
            "content-type",
            "application/x-www-form-urlencoded;charset=UTF-8",
        )
        .header("authorization", &auth)
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn dead_secrets_and_clients_all_get_the_same_invalid_client() {
    for app in spawn_apps().await {
        let hasher = hasher(&app.db).await;
        let admin = admin_of(&app.db, "acme").await;
        let c = orders_client(&app).await;
        assert_eq!(app.token_for(&c).await.status(), 200);

        // Refreshed with no grace: the old secret is dead at once, the new one works.
        let list = apps::list_secrets(&app.db, &admin, &c.client_id, unix_now())
            .await
            .unwrap();
        let fresh = apps::refresh_secret(
            &app.db,
            &hasher,
            &admin,
            &c.client_id,
            &list[0].id,
            0,
            None,
            unix_now(),
        )
        .await
        .unwrap();
        expect_invalid_client(app.token_for(&c).await, true).await;
        let renewed = Client {
            secret: fresh.plaintext.clone(),
            ..c
        };
        assert_eq!(app.token_for(&renewed).await.status(), 200);

        // Refreshed with grace: both work until grace_until.
        let newest = apps::refresh_secret(
            &app.db,
            &hasher,
            &admin,
            &renewed.client_id,
            &fresh.secret.id,
            3600,
            None,
            unix_now(),
        )
        .await
        .unwrap();
        assert_eq!(
            app.token_for(&renewed).await.status(),
            200,
            "grace secret still works"
        );
        let newest = Client {
            secret: newest.plaintext.clone(),
            ..renewed
        };
        assert_eq!(app.token_for(&newest).await.status(), 200);

        // Deleted.
        let list = apps::list_secrets(&app.db, &admin, &newest.client_id, unix_now())
            .await
            .unwrap();
        for s in &list {
            apps::delete_secret(&app.db, &admin, &newest.client_id, &s.id, None, unix_now())
                .await
                .unwrap();
        }
        expect_invalid_client(app.token_for(&newest).await, true).await;

        // Disabled app.
        let d = orders_client(&app).await;
        assert_eq!(app.token_for(&d).await.status(), 200);
        apps::set_app_disabled(&app.db, &admin, &d.client_id, true, None, unix_now())
            .await
            .unwrap();
        expect_invalid_client(app.token_for(&d).await, true).await;
        apps::set_app_disabled(&app.db, &admin, &d.client_id, false, None, unix_now())
            .await
            .unwrap();
        assert_eq!(app.token_for(&d).await.status(), 200);

        // Deleted app, unknown client.
        apps::delete_app(&app.db, &admin, &d.client_id, None, unix_now())
            .await
            .unwrap();
        expect_invalid_client(app.token_for(&d).await, true).await;
        let unknown = Client {
            client_id: "kpc_0000000000000000000000".into(),
            ..d
        };
        expect_invalid_client(app.token_for(&unknown).await, true).await;
    }
}

#[tokio::test]
async fn an_expired_secret_is_invalid_client() {
    let app = spawn_app().await;
    let c = orders_client(&app).await;
    let Database::Sqlite(sqlite) = &app.db else {
        unreachable!()
    };
    let pool = &sqlite.pool;
    sqlx::query("UPDATE client_secrets SET expires_at = $1 WHERE client_id = $2")
        .bind(unix_now() - 1)
        .bind(&c.client_id)
        .execute(pool)
        .await
        .unwrap();
    expect_invalid_client(app.token_for(&c).await, true).await;
}

#[tokio::test]
async fn a_public_client_cannot_use_client_credentials() {
    let app = spawn_app().await;
    let tenant_id = tenant(&app.db, "acme").await;
    let public = create_app(
        &app.db,
        &tenant_id,
        oauth_draft("spa").public("https://app.example.com/cb"),
    )
    .await;
    let body = format!(
        "grant_type=client_credentials&client_id={}",
        public.app.client_id
    );
    expect_invalid_client(app.token(None, &body).await, false).await;
}

#[tokio::test]
async fn a_change_through_another_instance_is_seen_within_a_poll() {
    let app = spawn_app().await;
    let c = orders_client(&app).await;
    assert_eq!(app.token_for(&c).await.status(), 200, "now cached");
    // Another process revokes the secret: only the shared change counter tells this one.
    let Database::Sqlite(sqlite) = &app.db else {
        unreachable!()
    };
    let pool = &sqlite.pool;
    sqlx::query("UPDATE client_secrets SET revoked_at = $1 WHERE client_id = $2")
        .bind(unix_now())
        .bind(&c.client_id)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE change_counter SET generation = generation + 1")
        .execute(pool)
        .await
        .unwrap();
    tokio::time::sleep(oauth::POLL_INTERVAL + Duration::from_millis(500)).await;
    expect_invalid_client(app.token_for(&c).await, true).await;
}

#[tokio::test]
async fn failed_authentications_are_throttled_and_audited_without_the_secret() {
    let app = spawn_app().await;
    let c = orders_client(&app).await;
    let wrong = Client {
        tenant_id: c.tenant_id.clone(),
        client_id: c.client_id.clone(),
        secret: format!("{}x", c.secret),
    };
    for _ in 0..oauth::FAILURES_PER_CLIENT_AND_ADDRESS {
        expect_invalid_client(app.token_for(&wrong).await, true).await;
    }
    let res = app.token_for(&wrong).await;
    assert!(
        res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    expect_error(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "temporarily_unavailable",
    )
    .await;
    // Only failures are throttled: the right secret gets in from the failing address...
    assert_eq!(app.token_for(&c).await.status(), 200);
    // ...and from the real client's own address.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let res = elsewhere
        .post(app.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic(&c.client_id, &c.secret))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let events = app::store::audit::list_for_target(&app.db, &c.tenant_id, &c.client_id, 100)
        .await
        .unwrap();
    let failures: Vec<_> = events
        .iter()
        .filter(|e| e.action == "client.auth_failed")
        .collect();
    assert_eq!(
        failures.len(),
        oauth::FAILURES_PER_CLIENT_AND_ADDRESS as usize
    );
    assert_eq!(failures[0].ip.as_deref(), Some("127.0.0.1"));
    let all = serde_json::to_string(&events).unwrap();
    assert!(
        !all.contains(&c.secret[4..20]),
        "no secret in the audit log"
    );
}

#[tokio::test]
async fn introspection_and_revocation() {
    for app in spawn_apps().await {
        let c = orders_client(&app).await;
        let auth = basic(&c.client_id, &c.secret);
        let issued = access_token(app.token_for(&c).await).await;

        let res = app
            .post_form("/oauth/introspect", None, &format!("token={issued}"))
            .await;
        expect_invalid_client(res, false).await;
        let res = app
            .post_form("/oauth/introspect", Some(&auth), &format!("token={issued}"))
            .await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["active"], true);
        assert_eq!(body["client_id"], c.client_id.as_str());
        assert_eq!(body["scope"], "orders:read orders:write");
        assert_eq!(body["aud"], default_audience(&app, &c));

        for garbage in ["nonsense", "a.b.c", &format!("{issued}x")] {
            let res = app
                .post_form(
                    "/oauth/introspect",
                    Some(&auth),
                    &format!("token={garbage}"),
                )
                .await;
            assert_eq!(
                res.json::<Value>().await.unwrap(),
                json!({ "active": false })
            );
        }
        // Another tenant's client learns nothing about this token.
        let other = client(&app.db, "other", oauth_draft("x")).await;
        let res = app
            .post_form(
                "/oauth/introspect",
                Some(&basic(&other.client_id, &other.secret)),
                &format!("token={issued}"),
            )
            .await;
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            json!({ "active": false })
        );

        let res = app
            .post_form("/oauth/revoke", Some(&auth), "token=unknown")
            .await;
        assert_eq!(res.status(), 200);
        let res = app
            .post_form("/oauth/revoke", None, &format!("token={issued}"))
            .await;
        assert_eq!(res.status(), 401);
        let res = app
            .post_form(
                "/oauth/revoke",
                Some(&auth),
                &format!("token={issued}&token_type_hint=access_token"),
            )
            .await;
        assert_eq!(res.status(), 200);
        let res = app
            .post_form("/oauth/introspect", Some(&auth), &format!("token={issued}"))
            .await;
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            json!({ "active": false })
        );
    }
}

/// `token`'s introspection by `auth`'s client.
async fn introspect(app: &TestApp, auth: &str, token: &str) -> Value {
    let res = app
        .post_form("/oauth/introspect", Some(auth), &format!("token={token}"))
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// A token is checked against its client as the client is now: once an admin disables or
/// deletes the app, its tokens are inactive to the tenant's resource servers.
#[tokio::test]
async fn introspection_answers_inactive_once_the_client_is_disabled_or_deleted() {
    for app in spawn_apps().await {
        let resource_server = client(&app.db, "acme", oauth_draft("orders api")).await;
        let auth = basic(&resource_server.client_id, &resource_server.secret);
        let admin = admin_of(&app.db, "acme").await;
        for delete in [false, true] {
            let c = client(&app.db, "acme", oauth_draft("batch")).await;
            let token = access_token(app.token_for(&c).await).await;
            assert_eq!(introspect(&app, &auth, &token).await["active"], true);
            if delete {
                apps::delete_app(&app.db, &admin, &c.client_id, None, unix_now())
                    .await
                    .unwrap();
            } else {
                apps::set_app_disabled(&app.db, &admin, &c.client_id, true, None, unix_now())
                    .await
                    .unwrap();
            }
            assert_eq!(
                introspect(&app, &auth, &token).await,
                json!({ "active": false }),
                "a {} app's token",
                if delete { "deleted" } else { "disabled" }
            );
        }
    }
}

#[tokio::test]
async fn the_json_variant_of_seed_003() {
    let app = spawn_app().await;
    let c = orders_client(&app).await;
    let call = |body: Value| {
        app.client
            .post(app.url("/v1/applications/token"))
            .json(&body)
            .send()
    };
    let res = call(json!({ "tenantId": c.tenant_id, "applicationId": c.client_id, "applicationSecret": c.secret })).await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["expiresIn"], 600);
    verify(
        &app,
        &c,
        body["accessToken"].as_str().unwrap(),
        &default_audience(&app, &c),
    )
    .await;

    for bad in [
        json!({ "tenantId": c.tenant_id, "applicationId": c.client_id, "applicationSecret": "kps_nope" }),
        json!({ "tenantId": "other", "applicationId": c.client_id, "applicationSecret": c.secret }),
    ] {
        let res = call(bad).await.unwrap();
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "Unauthorized");
        assert!(body["message"].as_str().is_some());
    }
    // Every other answer keeps the same shape.
    let res = call(json!({ "tenantId": 1 })).await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "Bad Request");
    let res = app.get("/v1/applications/token").await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "Method Not Allowed"
    );
    let wrong = json!({ "tenantId": c.tenant_id, "applicationId": c.client_id, "applicationSecret": "kps_nope" });
    for _ in 1..oauth::FAILURES_PER_CLIENT_AND_ADDRESS {
        assert_eq!(call(wrong.clone()).await.unwrap().status(), 401);
    }
    let res = call(wrong).await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "Too Many Requests");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn key_rotation_publishes_first_then_signs_and_old_tokens_keep_verifying() {
    // The servers' clock moves when the test says: the lead time passes without a wait.
    let clock = ManualClock::at_system_time();
    let app = spawn_app_with_clock(clock.clone()).await;
    let sibling = app.spawn_sibling().await;
    let c = orders_client(&app).await;
    let audience = default_audience(&app, &c);
    let before = access_token(app.token_for(&c).await).await;
    let old_kid = jsonwebtoken::decode_header(&before).unwrap().kid.unwrap();

    let lead_secs = 60;
    let master = app::store::testkit::master_key(&app.db);
    let rotation = keys::rotate_keys(&app.db, &master, None, lead_secs, clock.now())
        .await
        .unwrap();
    assert_eq!(rotation.retired, vec![old_kid.clone()]);
    tokio::time::sleep(oauth::POLL_INTERVAL + Duration::from_millis(200)).await;
    for instance in [&app, &sibling] {
        let set = instance.jwks().await;
        assert!(
            set.find(&rotation.new_kid).is_some(),
            "the new key is published at once"
        );
        assert!(set.find(&old_kid).is_some());
        let during = access_token(instance.token_for(&c).await).await;
        assert_eq!(
            jsonwebtoken::decode_header(&during).unwrap().kid.unwrap(),
            old_kid,
            "not signing yet"
        );
    }

    clock.advance(lead_secs - 1);
    let almost = access_token(sibling.token_for(&c).await).await;
    assert_eq!(
        kid(&almost),
        old_kid,
        "not signing until the lead time has passed"
    );
    clock.advance(1);
    for instance in [&app, &sibling] {
        let after = access_token(instance.token_for(&c).await).await;
        assert_eq!(
            jsonwebtoken::decode_header(&after).unwrap().kid.unwrap(),
            rotation.new_kid
        );
        // (Each test instance is its own issuer; behind a load balancer they would share one.)
        verify(instance, &c, &after, &default_audience(instance, &c)).await;
        verify_at(instance, &app, &c, &before, &audience).await;
    }
}

/// SPEC §2: what one instance does holds on all at once. On PostgreSQL each change is announced
/// at commit; this server polls the change counter only hourly, so the announcement is the
/// only way it can learn that another process (`keyport keys rotate`) rotated the keys.
#[tokio::test]
async fn on_postgresql_another_process_s_key_rotation_holds_at_once() {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("not run here: needs {POSTGRES_URL_VAR}, which make test sets in CI");
        return;
    };
    let app = spawn_app_polling_every(db, Duration::from_secs(3600)).await;
    let c = orders_client(&app).await;
    let old_kid = kid(&access_token(app.token_for(&c).await).await);

    let out = keyport(&app.db_url, &["keys", "rotate", "--lead-secs", "0"], "");
    assert_succeeded(&out);

    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let new_kid = kid(&access_token(app.token_for(&c).await).await);
        if new_kid != old_kid {
            assert!(app.jwks().await.find(&new_kid).is_some());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still signing with the retired key 5 s after another process rotated it"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn secret_use_is_recorded_in_batches() {
    let app = spawn_app().await;
    let c = orders_client(&app).await;
    for _ in 0..3 {
        assert_eq!(app.token_for(&c).await.status(), 200);
    }
    let stored = app::store::secrets::list(&app.db, &c.client_id)
        .await
        .unwrap();
    assert_eq!(stored[0].last_used_at, None, "not written per request");
    let app = app.restart().await;
    let stored = app::store::secrets::list(&app.db, &c.client_id)
        .await
        .unwrap();
    assert!(
        stored[0].last_used_at.is_some_and(|t| unix_now() - t < 60),
        "written at shutdown"
    );
}
