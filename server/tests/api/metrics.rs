//! `/metrics` as an operator's Prometheus sees it: after tokens, failures and throttling the
//! counts are exactly what was sent, no label names a client or a tenant, and with
//! `KEYPORT_METRICS_ADDR` the endpoint leaves the main port for a listener of its own.

use reqwest::StatusCode;
use serde_json::json;

use app::services::{accounts::MAX_FAILURES_PER_ACCOUNT, oauth::FAILURES_PER_CLIENT_AND_ADDRESS};

use crate::helpers::{
    Scrape, TestApp, access_token, basic, client, draft, spawn_app, spawn_app_with_clock,
    spawn_app_with_metrics_listener, spawn_apps,
};

const TOKENS: &str = "keyport_token_requests_total";
const LATENCY_COUNT: &str = "keyport_token_request_duration_seconds_count";
const AUTH_FAILURES: &str = "keyport_client_authentication_failures_total";
const THROTTLED: &str = "keyport_throttled_requests_total";
const HTTP: &str = "keyport_http_requests_total";

fn tokens(scrape: &Scrape, grant: &str, outcome: &str) -> u64 {
    scrape.count(TOKENS, &[("grant", grant), ("outcome", outcome)])
}

fn http(scrape: &Scrape, route: &str, method: &str, status: &str) -> u64 {
    scrape.count(
        HTTP,
        &[("route", route), ("method", method), ("status", status)],
    )
}

#[tokio::test]
async fn the_scraped_counts_are_exactly_the_requests_made() {
    for app in spawn_apps().await {
        the_counts_match_on(&app).await;
    }
}

async fn the_counts_match_on(app: &TestApp) {
    let c = client(&app.db, "acme", draft("orders")).await;
    let grant = "grant_type=client_credentials";
    const ISSUED: u64 = 3;
    for _ in 0..ISSUED {
        access_token(app.token_for(&c).await).await;
    }
    let at_issuer = format!("/t/{}/oauth/token", c.tenant_id);
    let right = basic(&c.client_id, &c.secret);
    access_token(app.post_form(&at_issuer, Some(&right), grant).await).await;
    let json_variant = app
        .client
        .post(app.url("/v1/applications/token"))
        .json(&json!({
            "tenantId": c.tenant_id,
            "applicationId": c.client_id,
            "applicationSecret": c.secret,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_variant.status(), 200);

    // Wrong secrets up to the limit, then the throttle answers.
    let wrong = basic(&c.client_id, "kps_wrong");
    let failures = u64::from(FAILURES_PER_CLIENT_AND_ADDRESS);
    for _ in 0..failures {
        assert_eq!(app.token(Some(&wrong), grant).await.status(), 401);
    }
    let mut too_many = 0;
    for _ in 0..3 {
        let res = app.token(Some(&wrong), grant).await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            too_many += 1;
        }
    }
    assert_eq!(too_many, 3);
    let unknown_grant = app.token(Some(&right), "grant_type=password").await;
    assert_eq!(unknown_grant.status(), 400);
    let not_a_form = app
        .client
        .post(app.url("/oauth/token"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_form.status(), 400);
    assert_eq!(app.get("/no/such/page").await.status(), 404);
    let api_path = format!("/api/v1/apps/{}", c.client_id);
    assert_eq!(app.get(&api_path).await.status(), 401);

    let scrape = app.scrape().await;
    assert_eq!(
        tokens(&scrape, "client_credentials", "issued"),
        ISSUED + 1,
        "at the un-prefixed path and at the issuer's"
    );
    assert_eq!(tokens(&scrape, "json", "issued"), 1);
    assert_eq!(
        tokens(&scrape, "client_credentials", "invalid_client"),
        failures
    );
    assert_eq!(tokens(&scrape, "client_credentials", "throttled"), too_many);
    assert_eq!(tokens(&scrape, "other", "unsupported_grant_type"), 1);
    assert_eq!(tokens(&scrape, "other", "invalid_request"), 1);
    let requests = ISSUED + 1 + 1 + failures + too_many + 2;
    assert_eq!(scrape.count(TOKENS, &[]), requests, "nothing else counted");
    assert_eq!(
        scrape.count(LATENCY_COUNT, &[]),
        requests,
        "every request timed once"
    );
    assert_eq!(
        scrape.count(LATENCY_COUNT, &[("grant", "json")]),
        1,
        "timed under its grant"
    );

    assert_eq!(
        scrape.count(AUTH_FAILURES, &[("reason", "bad_secret")]),
        failures
    );
    assert_eq!(
        scrape.count(AUTH_FAILURES, &[]),
        failures,
        "the throttled ones count as throttled instead"
    );
    assert_eq!(
        scrape.count(THROTTLED, &[("limit", "client_authentication")]),
        too_many
    );
    assert_eq!(scrape.count(THROTTLED, &[("limit", "sign_in")]), 0);

    let token_route = "/oauth/token";
    assert_eq!(http(&scrape, token_route, "POST", "2xx"), ISSUED);
    assert_eq!(
        http(&scrape, token_route, "POST", "4xx"),
        failures + too_many + 2
    );
    assert_eq!(http(&scrape, "/t/{tenant}/oauth/token", "POST", "2xx"), 1);
    assert_eq!(http(&scrape, "/v1/applications/token", "POST", "2xx"), 1);
    assert_eq!(http(&scrape, "unmatched", "GET", "4xx"), 1);
    assert_eq!(http(&scrape, "/api/v1/apps/{client_id}", "GET", "4xx"), 1);

    // One lookup per request naming the client; the first at least had to load it.
    let lookups = "keyport_client_cache_lookups_total";
    assert_eq!(
        scrape.count(lookups, &[]),
        ISSUED + 1 + 1 + failures + too_many
    );
    assert!(scrape.count(lookups, &[("result", "miss")]) >= 1);

    let max = match app.engine() {
        app::store::Engine::Sqlite => 8,
        app::store::Engine::Postgres => 16,
    };
    assert_eq!(scrape.count("keyport_db_pool_max_connections", &[]), max);
    let open = scrape.count("keyport_db_pool_connections", &[]);
    assert!((1..=max).contains(&open), "{open} connections open");
    assert_eq!(
        scrape.count(
            "keyport_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1
    );
    scrape.count("keyport_signing_key_age_seconds", &[]);

    for value in scrape.label_values() {
        for secret in [&c.client_id, &c.tenant_id, &c.secret] {
            assert!(!value.contains(secret.as_str()), "label value {value:?}");
        }
    }
}

#[tokio::test]
async fn refused_sign_ins_count_as_throttled() {
    let app = spawn_app().await;
    app.sign_up("ann@example.com").await;
    for _ in 0..MAX_FAILURES_PER_ACCOUNT {
        let res = app.sign_in("ann@example.com", "wrong wrong").await;
        assert_eq!(res.status(), 401);
    }
    let res = app.sign_in("ann@example.com", "wrong wrong").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    let scrape = app.scrape().await;
    assert_eq!(scrape.count(THROTTLED, &[("limit", "sign_in")]), 1);
    assert_eq!(
        scrape.count(THROTTLED, &[("limit", "client_authentication")]),
        0
    );
    let sign_in = <app::server_fns::auth::SignIn as server_fn::ServerFn>::PATH;
    assert_eq!(http(&scrape, sign_in, "POST", "4xx"), 6);
}

#[tokio::test]
async fn the_signing_key_age_follows_the_clock() {
    let clock = app::services::oauth::ManualClock::at_system_time();
    let app = spawn_app_with_clock(clock.clone()).await;
    let age = "keyport_signing_key_age_seconds";
    assert_eq!(app.scrape().await.count(age, &[]), 0);
    clock.advance(86_400);
    assert_eq!(app.scrape().await.count(age, &[]), 86_400);
}

#[tokio::test]
async fn with_a_metrics_address_the_main_port_does_not_serve_metrics() {
    let app = spawn_app_with_metrics_listener().await;
    let metrics_addr = app.metrics_addr.expect("a metrics listener");
    assert_ne!(metrics_addr, app.addr);
    let c = client(&app.db, "acme", draft("orders")).await;
    access_token(app.token_for(&c).await).await;

    assert_eq!(app.get("/metrics").await.status(), 404);
    let scrape = app.scrape_at(metrics_addr).await;
    assert_eq!(tokens(&scrape, "client_credentials", "issued"), 1);
    assert_eq!(http(&scrape, "/oauth/token", "POST", "2xx"), 1);
    assert_eq!(
        http(&scrape, "unmatched", "GET", "4xx"),
        1,
        "the main port's /metrics is a plain 404"
    );
    let elsewhere = app
        .client
        .get(format!("http://{metrics_addr}/oauth/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        404,
        "the metrics port serves nothing else"
    );

    // Shutting down stops the metrics listener too.
    app.shut_down().await;
    let after = reqwest::Client::new()
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await;
    assert!(after.is_err(), "{after:?}");
}
