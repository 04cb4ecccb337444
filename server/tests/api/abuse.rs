//! What strangers' failures cost everyone else at the token endpoint (SPEC §6): only failures
//! are throttled, a forwarding header counts only from a trusted proxy, and a client id that
//! could not be one costs no audit row.

use reqwest::StatusCode;
use serde_json::Value;

use app::{
    services::oauth::{FAILURES_PER_ADDRESS, FAILURES_PER_CLIENT_AND_ADDRESS},
    store::audit::{Recent, recent},
};

use crate::helpers::{
    TestApp, access_token, basic, client, draft, spawn_app, spawn_app_behind_proxy,
};

const STRANGER: &str = "198.51.100.66";

/// A client id of the right shape that names no client.
fn random_client_id(i: u32) -> String {
    format!("kpc_{i:022}")
}

/// Audit rows of failed client authentications from `ip`.
async fn failures_audited_from(app: &TestApp, ip: &str) -> i64 {
    recent(&app.db, "client.auth_failed", Recent::Ip(ip), 0)
        .await
        .unwrap()
        .0
}

async fn expect_throttled(res: reqwest::Response) {
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(body["error_description"].as_str().is_some());
}

#[tokio::test]
async fn strangers_failures_never_throttle_a_client_presenting_its_secret() {
    let app = spawn_app_behind_proxy().await;
    let c = client(&app.db, "acme", draft("orders")).await;
    let right = basic(&c.client_id, &c.secret);
    let grant = "grant_type=client_credentials";
    for i in 0..FAILURES_PER_ADDRESS {
        let wrong = basic(&random_client_id(i), "kps_nope");
        let res = app.token_from(STRANGER, Some(&wrong), grant).await;
        assert_eq!(res.status(), 401);
    }
    let wrong = basic(&random_client_id(999), "kps_nope");
    expect_throttled(app.token_from(STRANGER, Some(&wrong), grant).await).await;
    // The real client behind the same address (a shared proxy hop, say) still gets in.
    access_token(app.token_from(STRANGER, Some(&right), grant).await).await;
    // Failures of its own id from the stranger's address do not lock it out either.
    for _ in 0..FAILURES_PER_CLIENT_AND_ADDRESS {
        let guess = basic(&c.client_id, "kps_guess");
        let _ = app.token_from("198.51.100.67", Some(&guess), grant).await;
    }
    let guess = basic(&c.client_id, "kps_guess");
    expect_throttled(app.token_from("198.51.100.67", Some(&guess), grant).await).await;
    access_token(app.token_from("198.51.100.67", Some(&right), grant).await).await;
    access_token(app.token_from("203.0.113.5", Some(&right), grant).await).await;

    // The flood of unknown ids is audited in aggregate (at the 1st, 10th and 100th), under
    // the forwarded address; the guesses at a real client one row each, up to the limit.
    assert_eq!(failures_audited_from(&app, STRANGER).await, 3);
    assert_eq!(
        failures_audited_from(&app, "198.51.100.67").await,
        FAILURES_PER_CLIENT_AND_ADDRESS as i64
    );
}

#[tokio::test]
async fn a_forwarding_header_from_an_untrusted_peer_changes_nothing() {
    let app = spawn_app().await;
    let grant = "grant_type=client_credentials";
    for i in 0..FAILURES_PER_ADDRESS {
        let wrong = basic(&random_client_id(i), "kps_nope");
        // A new made-up address every time: were it believed, nothing would ever throttle.
        let res = app
            .token_from(&format!("203.0.113.{}", i % 250), Some(&wrong), grant)
            .await;
        assert_eq!(res.status(), 401);
    }
    let wrong = basic(&random_client_id(999), "kps_nope");
    expect_throttled(app.token_from("192.0.2.1", Some(&wrong), grant).await).await;
    assert_eq!(failures_audited_from(&app, "127.0.0.1").await, 3);
    assert_eq!(failures_audited_from(&app, "203.0.113.1").await, 0);
}

#[tokio::test]
async fn client_ids_that_could_not_be_one_are_refused_before_they_cost_anything() {
    let app = spawn_app().await;
    let huge = "x".repeat(200_000);
    for (id, secret) in [
        (huge.as_str(), "kps_nope"),
        ("kpc_short", "kps_nope"),
        ("kpc_ääääääääääääääääääääää", "kps_nope"),
        ("", "kps_nope"),
    ] {
        for _ in 0..20 {
            let res = app
                .post_form(
                    "/oauth/token",
                    Some(&basic(id, secret)),
                    "grant_type=client_credentials",
                )
                .await;
            assert!(
                [StatusCode::UNAUTHORIZED, StatusCode::BAD_REQUEST].contains(&res.status()),
                "{}",
                res.status()
            );
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"], "invalid_client");
        }
    }
    let res = app
        .post_form(
            "/oauth/token",
            None,
            &format!(
                "grant_type=client_credentials&client_id={}",
                "y".repeat(3_000)
            ),
        )
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(failures_audited_from(&app, "127.0.0.1").await, 0);
    let res = app
        .post_form(
            "/v1/applications/token",
            None,
            &serde_json::json!({
                "tenantId": "t",
                "applicationId": huge,
                "applicationSecret": "kps_nope",
            })
            .to_string(),
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(failures_audited_from(&app, "127.0.0.1").await, 0);
}
