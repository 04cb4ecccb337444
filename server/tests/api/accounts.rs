use app::{
    model::invitations::InvitationForYou,
    server_fns::{
        auth::{SignIn, SignOut},
        invitations::{
            AcceptInvitation, DeclineInvitation, InviteMember, ListInvitations, MyInvitations,
        },
        members::ListMembers,
    },
};
use reqwest::StatusCode;
use serde_json::Value;
use server_fn::ServerFn;

use crate::helpers::{
    PASSWORD, TestApp, session_cookie, spawn_app, spawn_app_behind_proxy, spawn_apps,
    spawn_https_app,
};

/// A plain HTML form post, as a browser sends before the WASM has loaded.
async fn form_post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("accept", "text/html")
        .header("referer", app.url("/signup"))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_up_starts_a_session_with_a_safe_cookie_and_lands_on_apps() {
    for app in spawn_apps().await {
        let form = [
            ("email", "ann@example.com"),
            ("name", "Ann"),
            ("password", PASSWORD),
        ];
        let res = form_post(&app, app::server_fns::auth::SignUp::PATH, &form).await;
        assert_eq!(res.status(), StatusCode::FOUND);
        assert_eq!(res.headers()["location"], "/apps");
        let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(set_cookie.starts_with("keyport_session="), "{set_cookie}");
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(set_cookie.contains(flag), "{flag} missing in {set_cookie}");
        }
        assert!(
            !set_cookie.contains("Secure"),
            "plain-http issuer: a Secure cookie would never come back"
        );

        let cookie = session_cookie(res.headers()).unwrap();
        let ctx = app.portal_context(Some(&cookie)).await;
        let viewer = ctx.viewer.expect("signed in");
        assert_eq!(viewer.email, "ann@example.com");
        assert_eq!(viewer.role, app::domain::membership::Role::Admin);
    }
}

/// The session table's keys, as a copy of the database would show them.
async fn stored_session_ids(db: &app::store::Database) -> Vec<String> {
    use app::store::Database;
    match db {
        Database::Sqlite(sqlite) => sqlx::query_scalar("SELECT id FROM tower_sessions")
            .fetch_all(&sqlite.pool)
            .await
            .unwrap(),
        Database::Postgres(pool) => sqlx::query_scalar("SELECT id FROM tower_sessions.session")
            .fetch_all(pool)
            .await
            .unwrap(),
    }
}

#[tokio::test]
async fn the_session_table_does_not_hold_what_signs_a_browser_in() {
    for app in spawn_apps().await {
        let form = [
            ("email", "ann@example.com"),
            ("name", "Ann"),
            ("password", PASSWORD),
        ];
        let res = form_post(&app, app::server_fns::auth::SignUp::PATH, &form).await;
        let cookie = session_cookie(res.headers()).unwrap();
        let id = cookie.split_once('=').unwrap().1;
        let stored = stored_session_ids(&app.db).await;
        assert_eq!(stored.len(), 1, "{stored:?}");
        assert!(
            !stored.iter().any(|s| s == id),
            "the cookie's id is in the table"
        );
        assert!(app.portal_context(Some(&cookie)).await.viewer.is_some());

        // Someone who read the table presents what they found: not signed in.
        let forged = format!("keyport_session={}", stored[0]);
        assert!(app.portal_context(Some(&forged)).await.viewer.is_none());

        // Signing out removes the row the cookie found.
        let res = app.call(SignOut::PATH, &[], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(stored_session_ids(&app.db).await.is_empty());
        assert!(app.portal_context(Some(&cookie)).await.viewer.is_none());
    }
}

#[tokio::test]
async fn a_failed_form_post_returns_to_the_form_with_the_error() {
    let app = spawn_app().await;
    let form = [
        ("email", "ann@example.com"),
        ("name", ""),
        ("password", "short"),
    ];
    let res = form_post(&app, app::server_fns::auth::SignUp::PATH, &form).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(&app.url("/signup")), "{location}");
    // The error travels in the URL (server_fn's `__err`, base64url JSON) for the form to show
    // beside its field.
    let location = reqwest::Url::parse(location).unwrap();
    let encoded = location
        .query_pairs()
        .find_map(|(k, v)| (k == "__err").then(|| v.into_owned()))
        .unwrap_or_else(|| panic!("no __err in {location}"));
    use base64::Engine as _;
    let error: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE
            .decode(encoded)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(error["field"], "password", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("at least 8"),
        "{error}"
    );
    assert!(session_cookie(res.headers()).is_none());
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure_and_host_prefixed() {
    let app = spawn_https_app().await;
    let res = app
        .call(
            app::server_fns::auth::SignUp::PATH,
            &[
                ("email", "ann@example.com"),
                ("name", ""),
                ("password", PASSWORD),
            ],
            None,
        )
        .await;
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.starts_with("__Host-keyport_session="),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("Secure"));
    assert!(
        !set_cookie.contains("Domain="),
        "__Host- cookies carry no Domain"
    );
}

#[tokio::test]
async fn the_first_run_is_announced_until_someone_signs_up() {
    let app = spawn_app().await;
    assert!(app.portal_context(None).await.first_run);
    app.sign_up("ann@example.com").await;
    let ctx = app.portal_context(None).await;
    assert!(!ctx.first_run);
    assert!(ctx.viewer.is_none());
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_identically() {
    let app = spawn_app().await;
    app.sign_up("ann@example.com").await;
    let wrong = app.sign_in("ann@example.com", "not the password").await;
    let (wrong_status, wrong_body) = (wrong.status(), wrong.text().await.unwrap());
    let unknown = app.sign_in("nobody@example.com", PASSWORD).await;
    let (unknown_status, unknown_body) = (unknown.status(), unknown.text().await.unwrap());
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!((wrong_status, &wrong_body), (unknown_status, &unknown_body));
    assert!(
        wrong_body.contains("Email or password is incorrect."),
        "{wrong_body}"
    );
}

#[tokio::test]
async fn signing_in_cycles_the_session_id_and_signing_out_ends_it_on_the_server() {
    let app = spawn_app().await;
    let first = app.sign_up("ann@example.com").await;
    let res = app.sign_in("ANN@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["location"], "/apps");
    let second = session_cookie(res.headers()).unwrap();
    assert_ne!(first, second);

    let res = app.call(SignOut::PATH, &[], Some(&second)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        app.portal_context(Some(&second)).await.viewer.is_none(),
        "a replayed cookie is dead"
    );
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after() {
    let app = spawn_app().await;
    app.sign_up("ann@example.com").await;
    for _ in 0..app::services::accounts::MAX_FAILURES_PER_ACCOUNT {
        assert_eq!(
            app.sign_in("ann@example.com", "wrong wrong").await.status(),
            401
        );
    }
    let res = app.sign_in("ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");

    use app::store::audit::{Recent, recent};
    let failures = recent(
        &app.db,
        "login.failed",
        Recent::TargetFrom {
            target: "ann@example.com",
            ip: "127.0.0.1",
        },
        0,
    )
    .await
    .unwrap()
    .0;
    assert_eq!(failures, 5, "each failure is an audit event");
}

/// A stranger's wrong passwords for someone's email lock out the stranger's address, not
/// the owner; a forwarding header counts only from a trusted proxy.
#[tokio::test]
async fn strangers_cannot_lock_a_person_out_of_sign_in() {
    let behind_proxy = spawn_app_behind_proxy().await;
    let direct = spawn_app().await;
    for app in [&behind_proxy, &direct] {
        app.sign_up("ann@example.com").await;
        for _ in 0..app::services::accounts::MAX_FAILURES_PER_ACCOUNT {
            let res = app
                .sign_in_from("198.51.100.66", "ann@example.com", "wrong wrong")
                .await;
            assert_eq!(res.status(), 401);
        }
        let stranger = app
            .sign_in_from("198.51.100.66", "ann@example.com", PASSWORD)
            .await;
        assert_eq!(stranger.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let owner = behind_proxy
        .sign_in_from("203.0.113.5", "ann@example.com", PASSWORD)
        .await;
    assert_eq!(
        owner.status(),
        200,
        "the owner's own address has not failed"
    );
    assert!(session_cookie(owner.headers()).is_some());
    use app::store::audit::{Recent, recent};
    let from_stranger = Recent::TargetFrom {
        target: "ann@example.com",
        ip: "198.51.100.66",
    };
    let audited = recent(&behind_proxy.db, "login.failed", from_stranger, 0).await;
    assert_eq!(
        audited.unwrap().0,
        5,
        "audit rows name the forwarded address"
    );
    let spoofed = direct
        .sign_in_from("203.0.113.5", "ann@example.com", PASSWORD)
        .await;
    assert_eq!(
        spoofed.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "without a trusted proxy the header is ignored: the peer failed"
    );
}

#[tokio::test]
async fn a_cross_site_post_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    for (header, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let res = app
            .client
            .post(app.url(app::server_fns::auth::SignUp::PATH))
            .header(header, value)
            .form(&[
                ("email", "ann@example.com"),
                ("name", ""),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{header}: {value}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "cross_site_request");
    }
    assert_eq!(app::store::users::count(&app.db).await.unwrap(), 0);

    let origin = format!("http://{}", app.addr);
    let res = app
        .client
        .post(app.url(app::server_fns::auth::SignUp::PATH))
        .header("origin", origin)
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("email", "ann@example.com"),
            ("name", ""),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "same-origin is fine");
}

#[tokio::test]
async fn developers_get_403_from_admin_server_functions() {
    for app in spawn_apps().await {
        let admin = app.sign_up("ann@example.com").await;
        let dev = app.sign_up("dev@example.com").await;
        let res = app
            .call(
                InviteMember::PATH,
                &[("email", "dev@example.com"), ("role", "developer")],
                Some(&admin),
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        let id = only_invitation(&app, &dev).await.id;
        let res = app
            .call(AcceptInvitation::PATH, &[("id", &id)], Some(&dev))
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

        // The developer's session still points at their own tenant; switch to Ann's.
        let ann_tenant = app
            .portal_context(Some(&admin))
            .await
            .viewer
            .unwrap()
            .tenant_id;
        let res = app
            .call(
                app::server_fns::auth::SwitchTenant::PATH,
                &[("tenant_id", &ann_tenant)],
                Some(&dev),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let viewer = app.portal_context(Some(&dev)).await.viewer.unwrap();
        assert_eq!(viewer.tenant_id, ann_tenant);
        assert_eq!(viewer.role, app::domain::membership::Role::Developer);

        let res = app.call(ListMembers::PATH, &[], Some(&dev)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app.call(ListInvitations::PATH, &[], Some(&dev)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app
            .call(
                InviteMember::PATH,
                &[("email", "someone@example.com"), ("role", "admin")],
                Some(&dev),
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app.call(ListMembers::PATH, &[], None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
}

/// The one invitation waiting for the person signed in with `cookie`.
async fn only_invitation(app: &TestApp, cookie: &str) -> InvitationForYou {
    let res = app.call(MyInvitations::PATH, &[], Some(cookie)).await;
    assert_eq!(res.status(), 200);
    let mut list: Vec<InvitationForYou> = res.json().await.unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    list.remove(0)
}

#[tokio::test]
async fn inviting_answers_alike_for_any_email_and_only_the_invited_person_can_answer() {
    for app in spawn_apps().await {
        let admin = app.sign_up("ann@example.com").await;
        let bob = app.sign_up("bob@example.com").await;
        let eve = app.sign_up("eve@example.com").await;

        let mut answers = Vec::new();
        for email in ["Bob@example.com", "nobody@example.com"] {
            let res = app
                .call(
                    InviteMember::PATH,
                    &[("email", email), ("role", "admin")],
                    Some(&admin),
                )
                .await;
            answers.push((res.status(), res.text().await.unwrap()));
        }
        assert_eq!(answers[0], answers[1], "no account-existence oracle");
        assert_eq!(answers[0].0, StatusCode::OK);

        let invitation = only_invitation(&app, &bob).await;
        for path in [AcceptInvitation::PATH, DeclineInvitation::PATH] {
            let res = app.call(path, &[("id", &invitation.id)], Some(&eve)).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
            let res = app.call(path, &[("id", &invitation.id)], None).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        }
        let res = app.call(MyInvitations::PATH, &[], Some(&eve)).await;
        assert_eq!(res.text().await.unwrap(), "[]");

        // Without the WASM, Accept is a plain form post that lands back on the page it was
        // posted from (the same-origin Referer the portal's pages still send).
        let res = app
            .client
            .post(app.url(AcceptInvitation::PATH))
            .header("accept", "text/html")
            .header("referer", app.url("/apps"))
            .header("cookie", &bob)
            .form(&[("id", &invitation.id)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND);
        let location = res.headers()["location"].to_str().unwrap();
        assert!(location.starts_with(&app.url("/apps")), "{location}");
        let viewer = app.portal_context(Some(&bob)).await.viewer.unwrap();
        let joined = viewer.tenants.iter().find(|t| t.id == invitation.tenant_id);
        assert_eq!(
            joined.map(|t| t.role),
            Some(app::domain::membership::Role::Admin)
        );
    }
}

#[tokio::test]
async fn a_tenant_one_is_not_a_member_of_cannot_be_switched_to() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let bob_tenant = app
        .portal_context(Some(&bob))
        .await
        .viewer
        .unwrap()
        .tenant_id;
    let res = app
        .call(
            app::server_fns::auth::SwitchTenant::PATH,
            &[("tenant_id", &bob_tenant)],
            Some(&ann),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sessions_survive_a_restart_and_work_on_a_sibling_process() {
    for app in spawn_apps().await {
        let cookie = app.sign_up("ann@example.com").await;
        let sibling = app.spawn_sibling().await;
        assert!(
            sibling.portal_context(Some(&cookie)).await.viewer.is_some(),
            "on {:?}",
            app.engine()
        );
        drop(sibling);

        let app = app.restart().await;
        let ctx = app.portal_context(Some(&cookie)).await;
        assert_eq!(
            ctx.viewer.unwrap().email,
            "ann@example.com",
            "on {:?}",
            app.engine()
        );
    }
}

#[tokio::test]
async fn a_malformed_server_function_body_is_a_400_not_a_500() {
    let app = spawn_app().await;
    for (content_type, body) in [
        ("application/x-www-form-urlencoded", "email=a%40b.c"),
        ("application/x-www-form-urlencoded", "%%%"),
        ("application/x-www-form-urlencoded", "password=x"),
        ("application/json", "{not json"),
        ("text/plain", "hello"),
    ] {
        let res = app
            .client
            .post(app.url(SignIn::PATH))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::BAD_REQUEST,
            "{content_type} {body:?}"
        );
        let json: Value = res.json().await.unwrap();
        assert_eq!(json["error"], "bad_request");
    }
}

/// Forty wrong passwords arriving at once are throttled as forty in a row would be: no more
/// passwords are checked than may fail, every other answer is a 429 with `Retry-After`, and
/// the owner still signs in from an address that has not failed.
#[tokio::test]
async fn a_burst_of_sign_ins_checks_no_more_passwords_than_the_limit() {
    let app = spawn_app_behind_proxy().await;
    app.sign_up("ann@example.com").await;
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (client, url) = (app.client.clone(), app.url(SignIn::PATH));
        burst.spawn(async move {
            let form = [("email", "ann@example.com"), ("password", "wrong wrong")];
            let req = client.post(url).header("x-forwarded-for", "198.51.100.7");
            req.form(&form).send().await.unwrap()
        });
    }
    let answers = burst.join_all().await;
    let checked = answers.iter().filter(|r| r.status() == 401).count();
    let throttled: Vec<_> = answers.iter().filter(|r| r.status() == 429).collect();
    assert!(checked >= 1 && checked as i64 <= app::services::accounts::MAX_FAILURES_PER_ACCOUNT);
    assert_eq!(checked + throttled.len(), 40);
    assert!(
        throttled
            .iter()
            .all(|r| r.headers().contains_key("retry-after"))
    );
    use app::store::audit::{Recent, recent};
    let failures = recent(&app.db, "login.failed", Recent::Ip("198.51.100.7"), 0)
        .await
        .unwrap()
        .0;
    assert_eq!(
        failures as usize, checked,
        "only checked passwords are failures"
    );
    let owner = app
        .sign_in_from("203.0.113.5", "ann@example.com", PASSWORD)
        .await;
    assert_eq!(owner.status(), 200);
}
