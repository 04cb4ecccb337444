//! `keyport backup`: an online copy of a SQLite database, run as its own process against a
//! server under load, and a second server started on the copy.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use app::{
    services::apps::refresh_secret,
    store::{Database, testkit::TestDb, unix_now},
};
use serde_json::Value;

use crate::helpers::{
    Client, TestApp, access_token, admin_of, assert_succeeded, check_as_resource_server,
    create_app, draft, hasher, keyport, spawn_app, tenant,
};

/// Writes to the database without pause: new apps with their first secret, and refreshes of
/// their secrets with an hour's grace (so every secret made stays valid). Each one is pushed
/// to `made` once committed.
async fn keep_writing(app: &TestApp, made: Arc<Mutex<Vec<Client>>>, stop: Arc<AtomicBool>) {
    let tenant_id = tenant(&app.db, "acme").await;
    let admin = admin_of(&app.db, "acme").await;
    let hasher = hasher(&app.db).await;
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let created = create_app(&app.db, &tenant_id, draft(&format!("app {n}"))).await;
        let first = created.first_secret.unwrap();
        let client_id = created.app.client_id;
        made.lock().unwrap().push(Client {
            tenant_id: tenant_id.clone(),
            client_id: client_id.clone(),
            secret: first.plaintext,
        });
        let refreshed = refresh_secret(
            &app.db,
            &hasher,
            &admin,
            &client_id,
            &first.secret.id,
            3600,
            None,
            unix_now(),
        )
        .await
        .unwrap();
        made.lock().unwrap().push(Client {
            tenant_id: tenant_id.clone(),
            client_id,
            secret: refreshed.plaintext,
        });
    }
}

/// Asks for tokens without pause, for the secrets made so far in turn; each must be issued.
async fn keep_asking(app: &TestApp, made: Arc<Mutex<Vec<Client>>>, issued: Arc<AtomicU64>) {
    let mut i = 0usize;
    loop {
        let c = {
            let made = made.lock().unwrap();
            let c = &made[i % made.len()];
            Client {
                tenant_id: c.tenant_id.clone(),
                client_id: c.client_id.clone(),
                secret: c.secret.clone(),
            }
        };
        i += 1;
        assert_eq!(app.token_for(&c).await.status(), 200);
        issued.fetch_add(1, Ordering::Relaxed);
    }
}

async fn journal_mode(db: &Database) -> String {
    let Database::Sqlite(sqlite) = db else {
        unreachable!("a backup is a SQLite file")
    };
    let pool = &sqlite.pool;
    sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_backup_taken_under_load_serves_every_secret_and_key_it_held() {
    let app = Arc::new(spawn_app().await);
    let made = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let issued = Arc::new(AtomicU64::new(0));

    let writer = tokio::spawn({
        let (app, made, stop) = (app.clone(), made.clone(), stop.clone());
        async move { keep_writing(&app, made, stop).await }
    });
    while made.lock().unwrap().len() < 4 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let askers: Vec<_> = (0..4)
        .map(|_| {
            let (app, made, issued) = (app.clone(), made.clone(), issued.clone());
            tokio::spawn(async move { keep_asking(&app, made, issued).await })
        })
        .collect();
    while issued.load(Ordering::Relaxed) < 100 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("keyport-backup.db");
    let existed: Vec<Client> = made
        .lock()
        .unwrap()
        .iter()
        .map(|c| Client {
            tenant_id: c.tenant_id.clone(),
            client_id: c.client_id.clone(),
            secret: c.secret.clone(),
        })
        .collect();
    let (issued_before, written_before) = (issued.load(Ordering::Relaxed), existed.len());
    let out = tokio::task::spawn_blocking({
        let (url, to) = (app.db_url.clone(), to.display().to_string());
        move || keyport(&url, &["backup", "--to", &to], "")
    })
    .await
    .unwrap();
    let issued_during = issued.load(Ordering::Relaxed) - issued_before;
    let written_during = made.lock().unwrap().len() - written_before;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    for asker in &askers {
        asker.abort();
    }
    for asker in askers {
        let ended = asker.await.unwrap_err();
        assert!(
            ended.is_cancelled(),
            "a token request failed under load: {ended}"
        );
    }

    assert_succeeded(&out);
    assert!(issued_during > 0, "tokens were issued while the backup ran");
    eprintln!("during the backup: {issued_during} tokens issued, {written_during} secrets written");
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed["to"],
        to.canonicalize().unwrap().display().to_string()
    );
    assert_eq!(
        printed["bytes"].as_u64(),
        Some(std::fs::metadata(&to).unwrap().len())
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("master key"), "{stderr}");

    let copy = app.spawn_on(&format!("sqlite://{}", to.display())).await;
    assert_eq!(journal_mode(&copy.db).await, "wal");
    for c in &existed {
        let res = copy.token_for(c).await;
        assert_eq!(
            res.status(),
            200,
            "a secret made before the backup fails on the copy"
        );
    }

    // The copy publishes and signs with the key the first server signs with.
    let c = &existed[0];
    let original = access_token(app.token_for(c).await).await;
    let on_copy = access_token(copy.token_for(c).await).await;
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    assert_eq!(kid(&on_copy), kid(&original));
    let audience = format!("{}/tenants/{}", app.url(""), c.tenant_id);
    check_as_resource_server(
        &copy.tenant_jwks(&c.tenant_id).await,
        &app.issuer(&c.tenant_id),
        &audience,
        &original,
    )
    .expect("the copy's JWKS verifies the first server's tokens");
}

#[tokio::test]
async fn backup_refuses_an_existing_file_a_missing_directory_and_postgresql() {
    let test_db = TestDb::sqlite().await;
    test_db.db.migrate().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("existing.db");
    std::fs::write(&existing, b"yesterday's backup").unwrap();
    let missing_dir = dir.path().join("no-such-dir/copy.db");

    for (url, to, expect) in [
        (test_db.url.as_str(), &existing, "already exists"),
        (test_db.url.as_str(), &missing_dir, "does not exist"),
        (
            "postgres://postgres@127.0.0.1:5432/keyport",
            &dir.path().join("pg.db"),
            "pg_dump",
        ),
    ] {
        let out = keyport(url, &["backup", "--to", &to.display().to_string()], "");
        assert!(!out.status.success(), "{expect}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expect), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(std::fs::read(&existing).unwrap(), b"yesterday's backup");
    assert!(!dir.path().join("no-such-dir").exists());
    assert!(!dir.path().join("pg.db").exists());
}
