//! Keys sealed at rest under the master key: a copy of the database alone can neither sign a
//! token nor check a secret; a wrong or missing master key stops the server, saying which key
//! it needs; `keyport keys rewrap` moves the keys to a new master key; a database written
//! before sealing is sealed on start; and where the master key comes from by default.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use app::{
    domain::{
        credentials::SecretHasher,
        jwt::{Alg, Signer},
        oauth::AccessClaims,
        sealing::{MasterKey, is_sealed, sealed_under},
    },
    store::{
        Database, secrets,
        signing_keys::{self, KeyRow},
        testkit::{TestDb, master_key, master_key_file},
        unix_now,
    },
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use serde_json::Value;
use server::master_key::MasterKeySource;

use crate::helpers::{
    Client, TestApp, access_token, assert_succeeded, check_as_resource_server, client, draft,
    keyport, try_spawn_on,
};

/// The app on `test_db` with its own master key file, as every instance on it is started.
async fn start(test_db: &TestDb) -> TestApp {
    try_spawn_on(&test_db.url, own_key(test_db)).await.unwrap()
}

fn own_key(test_db: &TestDb) -> MasterKeySource {
    MasterKeySource::File(master_key_file(&test_db.url))
}

/// A file in `dir` holding `key`, readable by its owner only.
fn key_file(dir: &Path, key: &MasterKey) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(format!("{}.key", key.id()));
    std::fs::write(&path, key.to_base64()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// Why the app did not start on `url` with `source`, as the operator reads it.
async fn refusal(url: &str, source: MasterKeySource) -> String {
    match try_spawn_on(url, source).await {
        Ok(_) => panic!("the server started"),
        Err(error) => error.to_string(),
    }
}

/// The stored secret-hash key's row, as a dump holds it.
async fn stored_hash_key(db: &Database) -> String {
    let sql = "SELECT value FROM settings WHERE key = 'secret_hash_key'";
    match db {
        Database::Sqlite(sqlite) => sqlx::query_scalar(sql)
            .fetch_one(&sqlite.pool)
            .await
            .unwrap(),
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

/// Everything someone holding only the rows could try as key material: each stored text,
/// decoded every way it might be, and every 32-byte run of that.
fn key_material(stored: &str) -> Vec<Vec<u8>> {
    let payload = stored.rsplit(':').next().unwrap_or_default();
    let mut tries = vec![
        stored.as_bytes().to_vec(),
        STANDARD.decode(stored).unwrap_or_default(),
        URL_SAFE_NO_PAD.decode(payload).unwrap_or_default(),
    ];
    let runs: Vec<Vec<u8>> = tries
        .iter()
        .flat_map(|t| t.windows(32).map(<[u8]>::to_vec).collect::<Vec<_>>())
        .collect();
    tries.extend(runs);
    tries
}

/// Asserts that the rows alone neither give a key that signs nor one that reproduces the
/// stored hash of `c`'s secret.
async fn rows_alone_are_useless(db: &Database, c: &Client) {
    let keys = signing_keys::published(db, unix_now()).await.unwrap();
    assert!(!keys.is_empty());
    for key in &keys {
        assert!(is_sealed(&key.private_key));
        for bytes in key_material(&key.private_key) {
            assert!(
                Signer::from_pkcs8(&key.kid, Alg::Es256, &bytes).is_err(),
                "signing key {} parses from its row",
                key.kid
            );
        }
    }
    let stored_hash = &secrets::list(db, &c.client_id).await.unwrap()[0].hash;
    let hash_key = stored_hash_key(db).await;
    assert!(is_sealed(&hash_key));
    for bytes in key_material(&hash_key) {
        if let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) {
            assert!(
                !SecretHasher::new(key).verify(&c.secret, stored_hash),
                "the stored secret-hash key reproduces the stored hash"
            );
        }
    }
}

/// A server on `test_db` that made client Orders of tenant acme and issued it a token, then
/// stopped: the client, its issuer, the token and the kid that signed it.
async fn serve_one_token_then_stop(test_db: &TestDb) -> (Client, String, String, String) {
    let app = start(test_db).await;
    let c = client(&app.db, "acme", draft("Orders")).await;
    let issuer = app.issuer(&c.tenant_id);
    let token = access_token(app.token_for(&c).await).await;
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    app.shut_down().await;
    (c, issuer, token, kid)
}

/// What a relying party and a client would notice of the server `app` after a restart: the
/// client's secret still gets a token, signed by the key `kid` as before, and `old`, a token
/// issued before the restart by `issuer`, still verifies with the published keys.
async fn keeps_working(app: &TestApp, c: &Client, kid: &str, issuer: &str, old: &str) {
    let fresh = access_token(app.token_for(c).await).await;
    let header = jsonwebtoken::decode_header(&fresh).unwrap();
    assert_eq!(header.kid.as_deref(), Some(kid), "signs with the same key");
    let keys = app.tenant_jwks(&c.tenant_id).await;
    // The tenant's default audience: `{public URL}/tenants/{id}` beside its issuer `…/t/{id}`.
    let audience = issuer.replace("/t/", "/tenants/");
    check_as_resource_server(&keys, issuer, &audience, old)
        .unwrap_or_else(|e| panic!("a token issued before no longer verifies: {e}"));
}

#[tokio::test]
async fn a_copy_of_the_database_alone_can_neither_sign_nor_check_secrets() {
    for test_db in TestDb::all().await {
        let (c, issuer, token, kid) = serve_one_token_then_stop(&test_db).await;

        rows_alone_are_useless(&test_db.db, &c).await;

        // Another master key: refused at start, naming the key the database needs and the one
        // it was given.
        let dir = tempfile::tempdir().unwrap();
        let right = master_key(&test_db.db);
        let wrong = MasterKey::generate().unwrap();
        let message = refusal(
            &test_db.url,
            MasterKeySource::File(key_file(dir.path(), &wrong)),
        )
        .await;
        assert!(
            message.contains(right.id()) && message.contains(wrong.id()),
            "{message}"
        );
        assert!(!message.contains(&wrong.to_base64()), "{message}");

        // No master key at all: on a copy of an SQLite file no key is made up beside it (it
        // could not open anything), and PostgreSQL wants one configured.
        let copy_dir = tempfile::tempdir().unwrap();
        let copy = copy_dir.path().join("copy.db");
        let url = match &test_db.db {
            Database::Sqlite(sqlite) => {
                let into = format!("VACUUM INTO '{}'", copy.display());
                sqlx::query(&into).execute(&sqlite.pool).await.unwrap();
                format!("sqlite://{}", copy.display())
            }
            Database::Postgres(_) => test_db.url.clone(),
        };
        let message = refusal(&url, MasterKeySource::Default).await;
        match test_db.db {
            Database::Sqlite(_) => {
                assert!(message.contains(right.id()), "{message}");
                assert!(!copy_dir.path().join("copy.master-key").exists());
            }
            Database::Postgres(_) => {
                assert!(
                    message.contains("PostgreSQL needs a master key"),
                    "{message}"
                )
            }
        }

        // The right key: the same database signs with the same key and accepts the old secret.
        let app = try_spawn_on(&test_db.url, own_key(&test_db)).await.unwrap();
        keeps_working(&app, &c, &kid, &issuer, &token).await;
    }
}

#[tokio::test]
async fn keys_rewrap_moves_every_key_to_the_new_master_key() {
    for test_db in TestDb::all().await {
        let (c, issuer, token, kid) = serve_one_token_then_stop(&test_db).await;
        let old = master_key(&test_db.db);

        let dir = tempfile::tempdir().unwrap();
        let new_file = dir.path().join("new.key");
        let new_path = new_file.display().to_string();
        let out = keyport(
            &test_db.url,
            &["keys", "rewrap", "--new-master-key-file", &new_path],
            "",
        );
        assert_succeeded(&out);
        let new = server::master_key::read_file(&new_file).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&new_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the new key file is private");
        }
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            printed["values"], 2,
            "a signing key and the secret-hash key"
        );
        assert_eq!(printed["master_key_id"], new.id());
        assert_eq!(printed["previous_master_key_id"], old.id());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&new_path), "{stderr}");
        assert!(stderr.contains("every instance"), "{stderr}");
        for key in [&old, &new] {
            assert!(!stderr.contains(&key.to_base64()));
            assert!(!String::from_utf8_lossy(&out.stdout).contains(&key.to_base64()));
        }

        let message = refusal(&test_db.url, own_key(&test_db)).await;
        assert!(
            message.contains(old.id()) && message.contains(new.id()),
            "the old key no longer starts it: {message}"
        );
        let app = try_spawn_on(&test_db.url, MasterKeySource::File(new_file.clone()))
            .await
            .unwrap();
        keeps_working(&app, &c, &kid, &issuer, &token).await;
        let keys = signing_keys::published(&test_db.db, unix_now())
            .await
            .unwrap();
        assert!(
            keys.iter()
                .all(|k| sealed_under(&k.private_key) == Some(new.id()))
        );

        // Rewrapping again with the replaced key opens nothing: one line, nothing changed,
        // and no new key file left behind.
        let before = stored_hash_key(&test_db.db).await;
        let another = dir.path().join("another.key");
        let out = keyport(
            &test_db.url,
            &[
                "keys",
                "rewrap",
                "--new-master-key-file",
                &another.display().to_string(),
            ],
            "",
        );
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(old.id()) && stderr.contains(new.id()),
            "{stderr}"
        );
        assert_eq!(stored_hash_key(&test_db.db).await, before);
        assert!(!another.exists());
    }
}

/// What a server before sealing left in the database: a signing key and the secret-hash key
/// in plaintext, and a client whose secret is hashed with that key; the client and the
/// signing key.
async fn written_the_old_way(db: &Database) -> (Client, Signer) {
    db.migrate().await.unwrap();
    let kid = app::store::new_id();
    let now = unix_now();
    let generated = Signer::generate(Alg::Es256, &kid).unwrap();
    let mut tx = db.begin().await.unwrap();
    let row = KeyRow {
        kid: kid.clone(),
        alg: "ES256".into(),
        private_key: STANDARD.encode(&generated.pkcs8),
        public_jwk: generated.public_jwk.to_string(),
        created_at: now,
        active_from: now,
        retired_at: None,
        publish_until: None,
    };
    signing_keys::insert(&mut tx, &row).await.unwrap();
    tx.commit().await.unwrap();
    let hash_key = [11u8; 32];
    app::store::settings::get_or_insert(db, "secret_hash_key", &STANDARD.encode(hash_key), now)
        .await
        .unwrap();
    let tenant_id = app::services::accounts::find_or_create_tenant(db, "acme", now)
        .await
        .unwrap();
    let created = app::services::apps::create_app_for_tenant(
        db,
        &SecretHasher::new(hash_key),
        &tenant_id,
        draft("Orders").build(),
        now,
    )
    .await
    .unwrap();
    let c = Client {
        tenant_id,
        client_id: created.app.client_id,
        secret: created.first_secret.unwrap().plaintext,
    };
    (
        c,
        Signer::from_pkcs8(&kid, Alg::Es256, &generated.pkcs8).unwrap(),
    )
}

#[tokio::test]
async fn a_database_written_before_sealing_is_sealed_on_start_and_keeps_working() {
    for test_db in TestDb::all().await {
        let (c, signer) = written_the_old_way(&test_db.db).await;
        // A token the old server issued.
        let issuer = format!("https://old.example/t/{}", c.tenant_id);
        let now = unix_now();
        let old_token = signer
            .sign(&AccessClaims {
                iss: issuer.clone(),
                sub: c.client_id.clone(),
                aud: format!("https://old.example/tenants/{}", c.tenant_id),
                client_id: c.client_id.clone(),
                scope: String::new(),
                iat: now,
                exp: now + 600,
                jti: "before".into(),
                tenant: c.tenant_id.clone(),
                roles: vec![],
            })
            .unwrap();

        let app = start(&test_db).await;
        rows_alone_are_useless(&test_db.db, &c).await;
        keeps_working(&app, &c, &signer.kid, &issuer, &old_token).await;
        // Sealing is done once: a second instance starting finds nothing left to seal.
        let sibling = start(&test_db).await;
        keeps_working(&sibling, &c, &signer.kid, &issuer, &old_token).await;
    }
}

#[tokio::test]
async fn without_a_master_key_sqlite_keeps_one_beside_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/keyport.db", dir.path().display());
    let app = try_spawn_on(&url, MasterKeySource::Default).await.unwrap();
    let c = client(&app.db, "acme", draft("Orders")).await;
    access_token(app.token_for(&c).await).await;
    app.shut_down().await;

    let path = dir.path().join("data/keyport.master-key");
    let key = server::master_key::read_file(&path).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let db = Database::connect(&url).await.unwrap();
    let keys = signing_keys::published(&db, unix_now()).await.unwrap();
    db.close().await;
    assert_eq!(sealed_under(&keys[0].private_key), Some(key.id()));
    // Not inside the database: neither its text nor its bytes are in the file or its log.
    for file in ["keyport.db", "keyport.db-wal"] {
        let Ok(bytes) = std::fs::read(dir.path().join("data").join(file)) else {
            continue;
        };
        let text = key.to_base64();
        let raw = STANDARD.decode(&text).unwrap();
        assert!(!bytes.windows(text.len()).any(|w| w == text.as_bytes()));
        assert!(!bytes.windows(raw.len()).any(|w| w == raw.as_slice()));
    }

    let written = std::fs::read_to_string(&path).unwrap();
    let app = try_spawn_on(&url, MasterKeySource::Default).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        written,
        "a restart reuses the key"
    );
    access_token(app.token_for(&c).await).await;
}

/// Runs the `keyport` binary with no master key configured; its exit status and standard
/// error, or a failure if it is still running after 30 seconds (it started serving).
fn without_master_key(db_url: &str, args: &[&str]) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyport"))
        .args(args)
        .env_remove("KEYPORT_MASTER_KEY")
        .env_remove("KEYPORT_MASTER_KEY_FILE")
        .env("KEYPORT_DATABASE_URL", db_url)
        .env("KEYPORT_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("`keyport {}` is still running", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn postgres_without_a_master_key_refuses_to_start_and_says_how_to_make_one() {
    let Some(test_db) = TestDb::postgres().await else {
        return;
    };
    test_db.db.migrate().await.unwrap();
    for args in [
        &["serve", "--addr", "127.0.0.1:0"][..],
        &["keys", "rotate"],
        &[
            "client",
            "create",
            "--tenant",
            "acme",
            "--create-tenant",
            "--name",
            "x",
        ],
    ] {
        let (ok, stderr) = without_master_key(&test_db.url, args);
        assert!(!ok, "{args:?}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        for needle in [
            "PostgreSQL needs a master key",
            "KEYPORT_MASTER_KEY_FILE",
            "every instance",
            "outside the database",
            "head -c32 /dev/urandom | base64",
        ] {
            assert!(stderr.contains(needle), "{args:?}: {stderr}");
        }
    }
    assert!(
        app::store::tenants::find_by_id_or_name(&test_db.db, "acme", 1)
            .await
            .unwrap()
            .is_empty(),
        "nothing was done"
    );
}

#[test]
fn a_master_key_given_two_ways_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/keyport.db", dir.path().display());
    let key = MasterKey::generate().unwrap();
    let file = key_file(dir.path(), &key);
    let out = Command::new(env!("CARGO_BIN_EXE_keyport"))
        .args(["keys", "rotate", "--master-key-file"])
        .arg(&file)
        .env("KEYPORT_MASTER_KEY", key.to_base64())
        .env("KEYPORT_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("KEYPORT_MASTER_KEY_FILE") && stderr.contains("not both"),
        "{stderr}"
    );
    assert!(!stderr.contains(&key.to_base64()), "{stderr}");
}
