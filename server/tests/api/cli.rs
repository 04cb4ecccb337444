use std::process::Command;

use app::store::testkit::TestDb;
use serde_json::Value;

use crate::helpers::{PASSWORD, assert_succeeded, hasher, keyport};

#[tokio::test]
async fn user_create_reads_the_password_from_stdin_and_prints_json() {
    for test_db in TestDb::all().await {
        let url = test_db.url.as_str();
        let out = keyport(
            url,
            &[
                "user",
                "create",
                "--email",
                "ops@example.com",
                "--tenant",
                "acme",
                "--admin",
            ],
            &format!("{PASSWORD}\n"),
        );
        assert_succeeded(&out);
        let created: Value = serde_json::from_slice(&out.stdout).unwrap();
        let tenant = created["tenant_id"].as_str().unwrap().to_string();

        let out = keyport(
            url,
            &[
                "user",
                "create",
                "--email",
                "dev@example.com",
                "--tenant",
                "acme",
            ],
            PASSWORD,
        );
        assert_succeeded(&out);
        let dev: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            dev["tenant_id"],
            tenant.as_str(),
            "joined the same tenant by name"
        );

        let role =
            app::store::members::role_of(&test_db.db, &tenant, dev["user_id"].as_str().unwrap())
                .await
                .unwrap();
        assert_eq!(role, Some(app::domain::membership::Role::Developer));

        let signed_in = app::services::accounts::sign_in(
            &test_db.db,
            &app::services::metrics::Metrics::new(),
            &Default::default(),
            "ops@example.com",
            PASSWORD,
            None,
            app::store::unix_now(),
        )
        .await;
        assert!(signed_in.is_ok(), "the CLI user can sign in");
    }
}

#[tokio::test]
async fn user_create_refuses_bad_input_with_one_line() {
    let test_db = TestDb::sqlite().await;
    for (args, stdin, expect) in [
        (
            vec!["user", "create", "--email", "not-an-email"],
            PASSWORD,
            "email",
        ),
        (
            vec!["user", "create", "--email", "a@example.com"],
            "password\n",
            "password",
        ),
        (
            vec!["user", "create", "--email", "a@example.com"],
            "",
            "standard input",
        ),
    ] {
        let out = keyport(&test_db.url, &args, stdin);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expect), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    let out = keyport(
        &test_db.url,
        &["user", "create", "--email", "a@example.com"],
        PASSWORD,
    );
    assert!(out.status.success());
    let out = keyport(
        &test_db.url,
        &["user", "create", "--email", "A@example.com"],
        PASSWORD,
    );
    assert!(!out.status.success(), "duplicate email");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[tokio::test]
async fn client_create_prints_the_ids_and_a_working_secret_once() {
    for test_db in TestDb::all().await {
        // A tenant that does not exist is an error, not a new tenant made from a typo.
        let typo = keyport(
            &test_db.url,
            &["client", "create", "--tenant", "Acme Typo", "--name", "x"],
            "",
        );
        assert!(!typo.status.success());
        let stderr = String::from_utf8_lossy(&typo.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("--create-tenant"), "{stderr}");
        assert!(
            app::store::tenants::find_by_id_or_name(&test_db.db, "Acme Typo", 1)
                .await
                .unwrap()
                .is_empty(),
            "no tenant was made"
        );

        let args = [
            "client",
            "create",
            "--tenant",
            "acme",
            "--create-tenant",
            "--name",
            "Deploy bot",
            "--tool",
            "--role",
            "admin",
            "--scope",
            "apps:write",
        ];
        let out = keyport(&test_db.url, &args, "");
        assert_succeeded(&out);
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let client_id = printed["client_id"].as_str().unwrap();
        let secret = printed["client_secret"].as_str().unwrap();
        assert!(
            app::domain::credentials::is_well_formed_client_id(client_id),
            "{client_id}"
        );
        assert!(app::domain::credentials::is_well_formed_secret(secret));
        let tenant = printed["tenant_id"].as_str().unwrap();

        let app_row = app::store::apps::get(&test_db.db, tenant, client_id)
            .await
            .unwrap()
            .unwrap();
        assert!(app_row.tool);
        assert_eq!(app_row.roles, "admin");
        assert_eq!(app_row.scopes, "apps:write");
        let stored = app::store::secrets::list(&test_db.db, client_id)
            .await
            .unwrap();
        assert!(
            hasher(&test_db.db).await.verify(secret, &stored[0].hash),
            "the printed secret is the stored one"
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains(secret),
            "never in the logs"
        );

        let again = keyport(
            &test_db.url,
            &["client", "create", "--tenant", "acme", "--name", " "],
            "",
        );
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("name"));
        // Scopes it adds to the catalogue follow the catalogue's naming rule.
        let bad_scope = keyport(
            &test_db.url,
            &[
                "client",
                "create",
                "--tenant",
                "acme",
                "--name",
                "x",
                "--scope",
                "café:read",
            ],
            "",
        );
        assert!(!bad_scope.status.success());
        let stderr = String::from_utf8_lossy(&bad_scope.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");

        // A role the catalogue lacks joins it, with an event saying the command line added it.
        let with_role = [
            "client",
            "create",
            "--tenant",
            "acme",
            "--name",
            "Billing",
            "--role",
            "billing:reader",
        ];
        assert_succeeded(&keyport(&test_db.url, &with_role, ""));
        let catalogue: Vec<String> = app::store::catalogue::list(
            &test_db.db,
            app::store::catalogue::Catalogue::Roles,
            tenant,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
        assert_eq!(catalogue, ["admin", "billing:reader"]);
        let events = app::store::audit::list_for_target(&test_db.db, tenant, "billing:reader", 10)
            .await
            .unwrap();
        assert_eq!(
            (
                events.len(),
                events[0].action.as_str(),
                events[0].actor_type.as_str()
            ),
            (1, "role.created", "system")
        );
        let bad_role = keyport(
            &test_db.url,
            &[
                "client",
                "create",
                "--tenant",
                "acme",
                "--name",
                "x",
                "--role",
                "two words",
            ],
            "",
        );
        assert!(!bad_role.status.success());
        let stderr = String::from_utf8_lossy(&bad_role.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("roles"), "{stderr}");
    }
}

/// Sign-ups name their tenant after the person ("Pat's team"), so two people called Pat share
/// a tenant name: `--tenant` with that name picks neither, it says so and names both ids.
#[tokio::test]
async fn a_tenant_name_two_tenants_have_is_refused_with_their_ids() {
    for test_db in TestDb::all().await {
        let url = test_db.url.as_str();
        let (mut teams, mut pats) = (Vec::new(), Vec::new());
        for email in ["pat@a.example", "pat@b.example"] {
            let args = ["user", "create", "--email", email, "--name", "Pat"];
            let out = keyport(url, &args, PASSWORD);
            assert_succeeded(&out);
            let created: Value = serde_json::from_slice(&out.stdout).unwrap();
            teams.push(created["tenant_id"].as_str().unwrap().to_string());
            pats.push(created["user_id"].as_str().unwrap().to_string());
        }
        let name = "Pat's team";

        let commands: [&[&str]; 4] = [
            &["client", "create", "--tenant", name, "--name", "Deploy bot"],
            // Tenant names are stored trimmed: this is the same name, not a new one.
            &[
                "client",
                "create",
                "--tenant",
                " Pat's team ",
                "--create-tenant",
                "--name",
                "x",
            ],
            &[
                "client",
                "create",
                "--tenant",
                name,
                "--create-tenant",
                "--name",
                "x",
            ],
            &[
                "user",
                "create",
                "--email",
                "sam@example.com",
                "--tenant",
                name,
            ],
        ];
        for args in commands {
            let out = keyport(url, args, PASSWORD);
            assert!(!out.status.success(), "{args:?}");
            assert!(out.stdout.is_empty(), "{args:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
            assert!(stderr.contains("ambiguous"), "{stderr}");
            assert!(stderr.contains("the tenant's id"), "{stderr}");
            for team in &teams {
                assert!(stderr.contains(team.as_str()), "{stderr}");
            }
        }
        for team in &teams {
            let apps = app::store::apps::list(&test_db.db, team, None)
                .await
                .unwrap();
            assert!(apps.is_empty(), "no app was made in either");
        }
        let sam = app::store::users::find_by_email(&test_db.db, "sam@example.com").await;
        assert!(sam.unwrap().is_none(), "nobody was made");
        let tenants = app::store::tenants::find_by_id_or_name(&test_db.db, name, 10).await;
        assert_eq!(tenants.unwrap().len(), 2, "no third tenant of that name");

        // An id names one tenant, even when another tenant is named after it.
        let by = app::services::accounts::principal(&test_db.db, &pats[1], &teams[1])
            .await
            .unwrap()
            .unwrap();
        let renamed = app::services::tenant::TenantChanges {
            name: Some(teams[0].clone()),
            audience: None,
        };
        app::services::tenant::update_tenant(
            &test_db.db,
            "http://127.0.0.1:3000",
            &by,
            renamed,
            None,
            app::store::unix_now(),
        )
        .await
        .unwrap();
        let out = keyport(
            url,
            &[
                "client",
                "create",
                "--tenant",
                &teams[0],
                "--name",
                "Deploy bot",
            ],
            "",
        );
        assert_succeeded(&out);
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(printed["tenant_id"], teams[0].as_str());
        let args = [
            "user",
            "create",
            "--email",
            "sam@example.com",
            "--tenant",
            &teams[0],
        ];
        let out = keyport(url, &args, PASSWORD);
        assert_succeeded(&out);
        let joined: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(joined["tenant_id"], teams[0].as_str());
    }
}

#[tokio::test]
async fn client_create_with_a_callback_url_may_sign_people_in() {
    for test_db in TestDb::all().await {
        let url = test_db.url.as_str();
        let create = |name: &str, callback: &str| {
            keyport(
                url,
                &[
                    "client",
                    "create",
                    "--tenant",
                    "acme",
                    "--create-tenant",
                    "--name",
                    name,
                    "--callback-url",
                    callback,
                ],
                "",
            )
        };
        let out = create("Web app", "https://app.example.com/callback");
        assert_succeeded(&out);
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let (tenant, client_id) = (
            printed["tenant_id"].as_str().unwrap(),
            printed["client_id"].as_str().unwrap(),
        );
        assert!(
            printed["client_secret"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );
        let row = app::store::apps::get(&test_db.db, tenant, client_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.callback_url.as_deref(),
            Some("https://app.example.com/callback")
        );
        assert_eq!(
            row.grant_types, "client_credentials authorization_code refresh_token",
            "a confidential app with a callback gets the code and refresh grants"
        );

        // The portal's rules: plain http only on loopback, which the bench relies on.
        assert_succeeded(&create("Local", "http://127.0.0.1:8080/cb"));
        for bad in ["http://app.example.com/cb", "javascript:alert(1)", "/cb"] {
            let out = create("Refused", bad);
            assert!(!out.status.success(), "{bad}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(stderr.lines().count(), 1, "{bad}: {stderr}");
            assert!(stderr.contains("callback_url"), "{bad}: {stderr}");
            assert!(out.stdout.is_empty(), "{bad}");
        }
        let apps = app::store::apps::list(&test_db.db, tenant, None)
            .await
            .unwrap();
        assert_eq!(apps.len(), 2, "a refused callback URL makes no app");

        // An empty value is a mistake on the command line, not "no callback URL".
        let empty = create("Empty", "");
        assert_eq!(empty.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&empty.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("--callback-url"), "{stderr}");
    }
}

#[test]
fn help_lists_every_setting_with_its_variable_and_default() {
    let top = Command::new(env!("CARGO_BIN_EXE_keyport"))
        .arg("--help")
        .output()
        .unwrap();
    let top = String::from_utf8(top.stdout).unwrap();
    // Bare `keyport` serves, so its help lists serve's settings too.
    for needle in [
        "--database-url",
        "KEYPORT_DATABASE_URL",
        "sqlite://data/keyport.db",
        "--log-format",
        "KEYPORT_LOG_FORMAT",
        "KEYPORT_LOG",
        "--addr",
        "KEYPORT_ADDR",
        "127.0.0.1:3000",
        "KEYPORT_PUBLIC_URL",
        "KEYPORT_ISSUER",
        "KEYPORT_TRUSTED_PROXIES",
        "KEYPORT_FORWARDED_HEADER",
        "KEYPORT_SECRET_HASH_KEY",
        "KEYPORT_MASTER_KEY_FILE",
        "KEYPORT_MASTER_KEY",
        "KEYPORT_SIGNING_ALG",
        "KEYPORT_SITE_ROOT",
    ] {
        assert!(
            top.contains(needle),
            "keyport --help lacks {needle}:\n{top}"
        );
    }
    let serve = Command::new(env!("CARGO_BIN_EXE_keyport"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let serve = String::from_utf8(serve.stdout).unwrap();
    for needle in [
        "--addr",
        "KEYPORT_ADDR",
        "127.0.0.1:3000",
        "--public-url",
        "KEYPORT_PUBLIC_URL",
        "KEYPORT_ISSUER",
        "--trusted-proxies",
        "KEYPORT_TRUSTED_PROXIES",
        "KEYPORT_FORWARDED_HEADER",
        "--site-root",
        "KEYPORT_SITE_ROOT",
        "target/site",
        "--database-url",
    ] {
        assert!(
            serve.contains(needle),
            "keyport serve --help lacks {needle}:\n{serve}"
        );
    }
    let client = Command::new(env!("CARGO_BIN_EXE_keyport"))
        .args(["client", "create", "--help"])
        .output()
        .unwrap();
    let client = String::from_utf8(client.stdout).unwrap();
    for needle in [
        "--callback-url <URL>",
        "authorization_code",
        "refresh_token",
    ] {
        assert!(
            client.contains(needle),
            "keyport client create --help lacks {needle}:\n{client}"
        );
    }
    for command in [
        &["keys", "rotate"][..],
        &["keys", "rewrap"],
        &["client", "create"],
    ] {
        let help = Command::new(env!("CARGO_BIN_EXE_keyport"))
            .args(command)
            .arg("--help")
            .output()
            .unwrap();
        let help = String::from_utf8(help.stdout).unwrap();
        for needle in [
            "--master-key-file",
            "KEYPORT_MASTER_KEY_FILE",
            "--master-key <",
        ] {
            assert!(
                help.contains(needle),
                "{command:?} --help lacks {needle}:\n{help}"
            );
        }
    }
}

#[tokio::test]
async fn keys_rotate_publishes_a_new_key_and_retires_the_old_one() {
    let test_db = TestDb::sqlite().await;
    let url = test_db.url.as_str();
    let first = keyport(url, &["keys", "rotate", "--lead-secs", "0"], "");
    assert_succeeded(&first);
    let first: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(
        first["retired"],
        serde_json::json!([]),
        "a fresh database had no key"
    );

    let second = keyport(url, &["keys", "rotate", "--signing-alg", "EdDSA"], "");
    assert_succeeded(&second);
    let second: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(second["retired"], serde_json::json!([first["kid"]]));
    assert_ne!(second["kid"], first["kid"]);
    assert_eq!(
        (&first["alg"], &second["alg"]),
        (&"ES256".into(), &"EdDSA".into())
    );

    let third = keyport(url, &["keys", "rotate"], "");
    assert_succeeded(&third);
    let third: Value = serde_json::from_slice(&third.stdout).unwrap();
    assert_eq!(
        third["alg"], "EdDSA",
        "no algorithm asked for: the current key's"
    );

    let bad = keyport(url, &["keys", "rotate", "--lead-secs", "-5"], "");
    assert!(!bad.status.success());
    assert!(!bad.stderr.is_empty(), "says why");
}

#[tokio::test]
async fn migrate_prepares_a_fresh_database_and_is_safe_to_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("new/keyport.db").display());
    for _ in 0..2 {
        let out = keyport(&url, &["migrate"], "");
        assert_succeeded(&out);
    }
    let db = app::store::Database::connect(&url).await.unwrap();
    assert!(
        app::store::apps::list(&db, "any", None)
            .await
            .unwrap()
            .is_empty(),
        "the schema is in place"
    );
}

#[test]
fn bad_command_lines_get_one_line_saying_why() {
    for args in [
        &["keys", "rotate", "--lead-secs", "soon"][..],
        &["client", "create", "--name", "x"],
        &["serve", "--addr", "nowhere"],
        &["--no-such-flag"],
        &["frobnicate"],
    ] {
        let out = keyport("sqlite::memory:", args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("keyport: "), "{args:?}: {stderr}");
        assert!(!stderr.contains("error:"), "{args:?}: {stderr}");
    }
}
