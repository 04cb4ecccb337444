//! Automatic signing-key rotation (`--key-rotation-days`), driven by the servers' clock: the
//! test moves it by days instead of waiting for them.

use std::time::{Duration, Instant};

use app::{
    domain::jwt::Alg,
    services::{
        key_rotation::LEAD_SECS,
        oauth::{Clock, ManualClock},
    },
    store::{Database, testkit::TestDb},
};

use crate::helpers::{
    Client, ROTATION_CHECK_INTERVAL, TestApp, access_token, assert_succeeded, basic,
    check_as_resource_server, client, draft, keyport, spawn_app, spawn_app_rotating_keys,
    spawn_app_rotating_keys_of, spawn_app_signing_with,
};

const DAY: i64 = 86_400;

async fn any_client(app: &TestApp) -> Client {
    client(&app.db, "acme", draft("orders")).await
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// The `kid`s this instance publishes.
async fn published_kids(app: &TestApp) -> Vec<String> {
    let mut kids: Vec<String> = app
        .jwks()
        .await
        .keys
        .into_iter()
        .filter_map(|k| k.common.key_id)
        .collect();
    kids.sort();
    kids
}

async fn count(db: &Database, sql: &str) -> i64 {
    match db {
        Database::Sqlite(sqlite) => sqlx::query_scalar(sql)
            .fetch_one(&sqlite.pool)
            .await
            .unwrap(),
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

/// Long enough for many checks to have run: a rotation the clock made due would have happened.
async fn let_several_checks_run() {
    tokio::time::sleep(ROTATION_CHECK_INTERVAL * 15).await;
}

/// Waits until `app` publishes `count` keys (it reloads them within its poll interval).
async fn until_published(app: &TestApp, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let kids = published_kids(app).await;
        if kids.len() >= count {
            return kids;
        }
        assert!(
            Instant::now() < deadline,
            "{} keys published after 5 s, expected {count}",
            kids.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_server_rotates_its_key_when_its_clock_says_the_period_is_over() {
    for db in TestDb::all().await {
        let clock = ManualClock::at_system_time();
        let started = clock.now();
        let app = spawn_app_rotating_keys(db, clock.clone(), 90).await;
        let c = any_client(&app).await;
        let first = kid(&access_token(app.token_for(&c).await).await);

        clock.set(started + 89 * DAY);
        let_several_checks_run().await;
        assert_eq!(
            published_kids(&app).await,
            [first.as_str()],
            "not due at 89 days"
        );

        let rotated_at = started + 91 * DAY;
        clock.set(rotated_at);
        let kids = until_published(&app, 2).await;
        let new = kids.iter().find(|k| **k != first).unwrap().clone();
        let stored = app::store::signing_keys::published(&app.db, rotated_at)
            .await
            .unwrap();
        let row = stored.iter().find(|k| k.kid == new).unwrap();
        assert_eq!(
            (row.created_at, row.active_from),
            (rotated_at, rotated_at + LEAD_SECS),
            "made at 91 days (none at 89), signing after the lead time"
        );

        // Published at once, but tokens keep the old key until the lead time has passed.
        let during = access_token(app.token_for(&c).await).await;
        assert_eq!(kid(&during), first);
        clock.advance(LEAD_SECS - 1);
        assert_eq!(kid(&access_token(app.token_for(&c).await).await), first);
        clock.advance(1);
        let after = access_token(app.token_for(&c).await).await;
        assert_eq!(
            kid(&after),
            new,
            "the new key signs once the lead time is over"
        );

        let keys = app.tenant_jwks(&c.tenant_id).await;
        let audience = format!("{}/tenants/{}", app.url(""), c.tenant_id);
        for token in [&during, &after] {
            check_as_resource_server(&keys, &app.issuer(&c.tenant_id), &audience, token)
                .unwrap_or_else(|e| panic!("{e} on {:?}", app.engine()));
        }
    }
}

#[tokio::test]
async fn zero_days_never_rotates() {
    let clock = ManualClock::at_system_time();
    let app = spawn_app_rotating_keys(TestDb::sqlite().await, clock.clone(), 0).await;
    let c = any_client(&app).await;
    let first = kid(&access_token(app.token_for(&c).await).await);
    // Far past the default period, within the client secret's year.
    clock.advance(300 * DAY);
    let_several_checks_run().await;
    assert_eq!(published_kids(&app).await, [first.as_str()]);
    assert_eq!(kid(&access_token(app.token_for(&c).await).await), first);
}

/// Two instances on one database and one clock both find the rotation due: exactly one new
/// key, and one `key.rotated` event.
#[tokio::test]
async fn of_two_instances_sharing_a_database_exactly_one_rotates() {
    for db in TestDb::all().await {
        let clock = ManualClock::at_system_time();
        let started = clock.now();
        let app = spawn_app_rotating_keys(db, clock.clone(), 30).await;
        let sibling = app.spawn_sibling().await;

        clock.set(started + 31 * DAY);
        until_published(&app, 2).await;
        let_several_checks_run().await;
        until_published(&sibling, 2).await;

        let engine = app.engine();
        let keys = count(&app.db, "SELECT COUNT(*) FROM signing_keys").await;
        let events = count(
            &app.db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'key.rotated'",
        )
        .await;
        assert_eq!((keys, events), (2, 1), "on {engine:?}");
        assert_eq!(
            published_kids(&app).await,
            published_kids(&sibling).await,
            "on {engine:?}"
        );
    }
}

/// Set up with `--signing-alg RS256`, then run with the defaults: the rotation keeps RS256, so
/// relying parties that accept only RS256 go on working, and discovery says so.
#[tokio::test]
async fn a_server_run_without_an_algorithm_keeps_the_one_its_keys_use() {
    let clock = ManualClock::at_system_time();
    let set_up =
        spawn_app_rotating_keys_of(TestDb::sqlite().await, clock.clone(), 0, Some(Alg::Rs256))
            .await;
    let c = any_client(&set_up).await;
    let first = kid(&access_token(set_up.token_for(&c).await).await);
    let app = set_up.spawn_sibling_rotating_keys(90).await;

    clock.advance(91 * DAY);
    until_published(&app, 2).await;
    clock.advance(LEAD_SECS);
    let token = access_token(app.token_for(&c).await).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_ne!(header.kid.as_deref(), Some(first.as_str()), "rotated");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);

    let metadata: serde_json::Value = app
        .get_json(&format!(
            "/t/{}/.well-known/openid-configuration",
            c.tenant_id
        ))
        .await;
    for field in [
        "id_token_signing_alg_values_supported",
        "access_token_signing_alg_values_supported",
    ] {
        assert_eq!(metadata[field], serde_json::json!(["RS256"]), "{field}");
    }
}

/// Discovery names the algorithm of every published key: after a change of algorithm, the
/// old key's too, as long as tokens it signed may still be presented.
#[tokio::test]
async fn discovery_names_the_algorithms_of_every_published_key() {
    let app = spawn_app_signing_with(Alg::Rs256).await;
    let c = any_client(&app).await;
    let master = app::store::testkit::master_key(&app.db);
    let now = app::store::unix_now();
    app::services::keys::rotate_keys(&app.db, &master, Some(Alg::EdDsa), 0, now)
        .await
        .unwrap();
    until_published(&app, 2).await;
    let path = format!("/.well-known/oauth-authorization-server/t/{}", c.tenant_id);
    let metadata: serde_json::Value = app.get_json(&path).await;
    assert_eq!(
        metadata["access_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "EdDSA"])
    );
}

/// A leaked key: rotated out at once, then withdrawn. From then on no instance publishes it
/// and tokens signed with it (a forger's as much as the ones it issued) no longer verify,
/// without waiting the hour a retired key normally stays published.
#[tokio::test]
async fn a_withdrawn_key_leaves_the_jwks_and_its_tokens_stop_verifying() {
    let app = spawn_app().await;
    let c = any_client(&app).await;
    let leaked = access_token(app.token_for(&c).await).await;
    let leaked_kid = kid(&leaked);
    let introspect = |token: String| {
        let auth = basic(&c.client_id, &c.secret);
        let app = &app;
        async move {
            let res = app
                .post_form("/oauth/introspect", Some(&auth), &format!("token={token}"))
                .await;
            assert_eq!(res.status(), 200);
            res.json::<serde_json::Value>().await.unwrap()["active"].clone()
        }
    };
    assert_eq!(introspect(leaked.clone()).await, true);
    let audience = format!("{}/tenants/{}", app.url(""), c.tenant_id);
    let as_resource_server = |keys, token: &str| {
        check_as_resource_server(&keys, &app.issuer(&c.tenant_id), &audience, token)
    };
    as_resource_server(app.tenant_jwks(&c.tenant_id).await, &leaked).unwrap();

    let refused = keyport(&app.db_url, &["keys", "withdraw", &leaked_kid], "");
    assert_eq!(refused.status.code(), Some(1), "the key still signs");
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("keys rotate --lead-secs 0"), "{why}");

    assert_succeeded(&keyport(
        &app.db_url,
        &["keys", "rotate", "--lead-secs", "0"],
        "",
    ));
    let out = keyport(&app.db_url, &["keys", "withdraw", &leaked_kid], "");
    assert_succeeded(&out);
    let said: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        said,
        serde_json::json!({ "kid": leaked_kid, "was_published": true })
    );

    let deadline = Instant::now() + Duration::from_secs(5);
    while published_kids(&app).await.contains(&leaked_kid) {
        assert!(
            Instant::now() < deadline,
            "still published 5 s after withdrawal"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(published_kids(&app).await.len(), 1, "the new key remains");
    assert_eq!(
        as_resource_server(app.tenant_jwks(&c.tenant_id).await, &leaked).unwrap_err(),
        "the token's key is not published"
    );
    assert_eq!(introspect(leaked).await, false);
    let fresh = access_token(app.token_for(&c).await).await;
    assert_ne!(kid(&fresh), leaked_kid);
    assert_eq!(introspect(fresh).await, true);
}
