use app::{model::status::StatusReport, server_fns::status::GetStatus};
use server_fn::ServerFn;

use crate::helpers::{spawn_app, spawn_apps};

#[tokio::test]
async fn landing_page_is_rendered_on_the_server() {
    let app = spawn_app().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("<h1>Keyport</h1>"), "{html}");
    assert!(html.contains("Check server status"));
    assert!(html.contains("<title>Developer portal and OAuth 2.0 server · Keyport</title>"));
}

#[tokio::test]
async fn unknown_path_is_a_404_page() {
    let app = spawn_app().await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(
        html.contains("Back to the start page"),
        "the 404 keeps the layout"
    );
}

#[tokio::test]
async fn status_server_function_answers_over_http_on_every_engine() {
    for app in spawn_apps().await {
        let res = app
            .client
            .post(app.url(GetStatus::PATH))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body("")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let report: StatusReport = res.json().await.unwrap();
        assert!(report.database_ready);
        assert_eq!(report.database, app.engine().as_str());
        assert_eq!(report.version, env!("CARGO_PKG_VERSION"));
    }
}

#[tokio::test]
async fn a_server_function_that_does_not_exist_is_a_4xx() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/no_such_function"))
        .body("")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
}

#[tokio::test]
async fn an_oversized_body_is_413_in_the_error_shape() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url(GetStatus::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=".to_string() + &"x".repeat(100 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "payload_too_large");
}

#[tokio::test]
async fn a_secret_made_by_a_plain_form_post_is_handed_to_the_next_page_once() {
    use app::server_fns::apps::{AddSecret, CreateApp};
    let app = spawn_app().await;
    let cookie = app.sign_up("nojs@example.com").await;
    let res = app
        .call(
            CreateApp::PATH,
            &[
                ("name", "Plain"),
                ("visibility", "private"),
                ("client_type", "confidential"),
                ("callback_url", ""),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "no-store",
        "it holds the secret"
    );
    let created: serde_json::Value = res.json().await.unwrap();
    let client_id = created["app"]["client_id"].as_str().unwrap().to_string();

    // What a browser without the WASM sends: a form post that accepts HTML.
    let res = app
        .client
        .post(app.url(AddSecret::PATH))
        .header("cookie", &cookie)
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url(&format!("/apps/{client_id}?tab=oauth")))
        .form(&[
            ("client_id", client_id.as_str()),
            ("description", "cron"),
            ("expiry", "default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(
        res.headers()["location"],
        format!("/apps/{client_id}?tab=oauth")
    );
    let handover = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("keyport_new_secret="))
        .expect("the secret is handed over");
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=120",
        &format!("Path=/apps/{client_id}"),
    ] {
        assert!(handover.contains(flag), "{handover} lacks {flag}");
    }
    let pair = handover.split(';').next().unwrap().to_string();
    let secret = pair.trim_start_matches("keyport_new_secret=").to_string();
    assert!(secret.starts_with("kps_"));

    let page = app
        .client
        .get(app.url(&format!("/apps/{client_id}?tab=oauth")))
        .header("cookie", format!("{cookie}; {pair}"))
        .send()
        .await
        .unwrap();
    let cleared = page.headers().get_all("set-cookie").iter().any(|v| {
        v.to_str().unwrap().starts_with("keyport_new_secret=;")
            && v.to_str().unwrap().contains("Max-Age=0")
    });
    assert!(cleared, "the page clears the hand-over cookie");
    assert_eq!(
        page.headers()["cache-control"],
        "no-store",
        "it shows the secret"
    );
    assert!(
        page.text().await.unwrap().contains(&secret),
        "the page shows the secret"
    );
}

/// No other site may frame a portal page (clickjacking a Refresh or Delete), pages run only
/// their own scripts, and nothing that may carry a secret is cached.
#[tokio::test]
async fn pages_cannot_be_framed_or_cached_and_run_only_their_own_scripts() {
    let app = spawn_app().await;
    for path in ["/", "/signin", "/no/such/page"] {
        let res = app.get(path).await;
        let h = res.headers().clone();
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no script nonce in {csp}"));
        let html = res.text().await.unwrap();
        // Every inline script the page carries is allowed by the policy's nonce.
        let scripts = html.matches("<script").count();
        let nonced = html.matches(&format!("nonce=\"{nonce}\"")).count();
        assert!(
            scripts > 0 && nonced >= scripts,
            "{path}: {scripts} scripts, {nonced} nonced"
        );
    }
    // The JSON answers of the OAuth and management APIs are framed by nobody either.
    let res = app.get("/.well-known/openid-configuration").await;
    assert_eq!(res.headers()["x-frame-options"], "DENY");
}

/// Pages rendered while other servers of the same process start are all answered. Building a
/// router used to generate leptos' route list each time, which switches resource loading off
/// process-wide while it runs; a page whose resource was first polled then never got its
/// response (leptos issue 4773; issue 15's intermittent hang of these tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_rendered_while_other_servers_start_are_all_answered() {
    let app = spawn_app().await;
    let starting = tokio::spawn(async {
        for _ in 0..20 {
            drop(spawn_app().await);
        }
    });
    let mut renders = 0;
    while !starting.is_finished() {
        let render = || async {
            let res = app.get("/").await;
            (res.status(), res.text().await.unwrap())
        };
        let pages = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            tokio::join!(render(), render(), render(), render())
        })
        .await
        .expect("a page rendered while another server started never got its response");
        for page in [pages.0, pages.1, pages.2, pages.3] {
            assert_eq!(page.0, 200);
            assert!(page.1.contains("<h1>Keyport</h1>"), "{}", page.1);
        }
        renders += 4;
    }
    starting.await.unwrap();
    assert!(renders > 0);
}

/// An app whose name and description would end the `<title>` and the description's
/// `<textarea>` (both raw-text elements leptos writes as they are) renders them as text: the
/// server-rendered page holds no element of theirs, only their escaped text.
#[tokio::test]
async fn stored_markup_in_an_app_renders_as_text_in_the_title_and_the_textarea() {
    let app = spawn_app().await;
    let cookie = app.sign_up("lead@example.com").await;
    let name = r#"</title><meta http-equiv="refresh" content="0;url=https://evil.example">"#;
    let description = r#"</textarea></form><form id="kp-injected" method="post" action="/api/x"><button>Save changes</button></form><textarea>"#;
    // Through the management API with the portal session, as the portal's own page would.
    let res = app
        .client
        .post(app.url("/api/v1/apps"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({ "name": name, "description": description }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().await.unwrap();
    let client_id = created["client_id"].as_str().unwrap().to_string();

    let res = app
        .client
        .get(app.url(&format!("/apps/{client_id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(!html.contains("<meta http-equiv"), "{html}");
    assert!(!html.contains(r#"<form id="kp-injected""#), "{html}");
    assert!(
        html.contains(
            "<title>&lt;/title&gt;&lt;meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\"&gt; · Keyport</title>"
        ),
        "{html}"
    );
    assert!(
        html.contains("&lt;/textarea&gt;&lt;/form&gt;&lt;form id=\"kp-injected\""),
        "{html}"
    );
}

/// Names that would read as something else (a right-to-left override) are refused beside the
/// field, before anything is stored.
#[tokio::test]
async fn names_that_reorder_text_are_refused_naming_the_field() {
    use app::server_fns::apps::CreateApp;
    let app = spawn_app().await;
    let cookie = app.sign_up("lead@example.com").await;
    let res = app
        .call(
            CreateApp::PATH,
            &[
                ("name", "Pay\u{202e}lapyap"),
                ("description", ""),
                ("visibility", "private"),
                ("client_type", "confidential"),
                ("callback_url", ""),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("name") && body.contains("U+202E"), "{body}");
}
