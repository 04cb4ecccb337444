//! Automatic signing-key rotation (`--key-rotation-days`), driven by the servers' clock: the
//! test moves it by days instead of waiting for them.

use std::time::{Duration, Instant};

use app::{
    services::{
        key_rotation::LEAD_SECS,
        oauth::{Clock, ManualClock},
    },
    store::{Database, testkit::TestDb},
};

use crate::helpers::{
    Client, ROTATION_CHECK_INTERVAL, TestApp, access_token, check_as_resource_server, client,
    draft, spawn_app_rotating_keys,
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
