use app::api::status::{GetStatus, StatusReport};
use server_fn::ServerFn;

use crate::helpers::{spawn_app, spawn_apps};

#[tokio::test]
async fn landing_page_is_rendered_on_the_server() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/")).send().await.unwrap();
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
    assert!(
        html.contains("/pkg/keyport.js"),
        "hydration script is linked"
    );
    assert!(html.contains("<title>Developer portal and OAuth 2.0 server · Keyport</title>"));
}

#[tokio::test]
async fn unknown_path_is_a_404_page() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
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
