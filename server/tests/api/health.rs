use serde_json::Value;

use crate::helpers::{spawn_app, spawn_apps};

#[tokio::test]
async fn healthz_says_ok_with_the_version() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn readyz_reports_the_database_engine_on_every_engine() {
    for app in spawn_apps().await {
        let res = app.get("/readyz").await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ready");
        assert_eq!(body["database"], app.engine().as_str());
    }
}

#[tokio::test]
async fn readyz_is_503_in_the_error_shape_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.db.close().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");
    assert!(body["message"].as_str().unwrap().contains("database"));
}
