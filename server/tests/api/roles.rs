//! The role catalogue under /api/v1/roles, and who may give apps roles and audiences (#13):
//! 403 for developers, 409 for deleting a role or a scope apps still have.

use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, session_cookie, spawn_app, spawn_apps, user};

fn bearer(req: RequestBuilder, token: &str) -> RequestBuilder {
    req.header("authorization", format!("Bearer {token}"))
}

async fn json_of(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

/// Calls the management API with a tool client's token.
struct Api<'a> {
    app: &'a TestApp,
    token: String,
}

impl Api<'_> {
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Response {
        let url = self.app.url(path);
        let req = match method {
            "GET" => self.app.client.get(url),
            "POST" => self.app.client.post(url),
            "PATCH" => self.app.client.patch(url),
            "DELETE" => self.app.client.delete(url),
            other => panic!("no method {other}"),
        };
        let req = bearer(req, &self.token);
        let req = match body {
            Some(body) => req.json(&body),
            None => req,
        };
        req.send().await.unwrap()
    }
}

#[tokio::test]
async fn the_role_catalogue_is_kept_through_the_api_and_used_roles_stay() {
    for app in spawn_apps().await {
        let (_, token) = app.admin_token("acme").await;
        let api = Api { app: &app, token };

        let listed = json_of(api.send("GET", "/api/v1/roles", None).await, StatusCode::OK).await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert_eq!(listed[0]["name"], "admin", "built in");

        let reader = json!({ "name": "billing:reader", "description": "Reads invoices" });
        let res = api
            .send("POST", "/api/v1/roles", Some(reader.clone()))
            .await;
        assert_eq!(json_of(res, StatusCode::CREATED).await, reader);
        let res = api
            .send("POST", "/api/v1/roles", Some(reader.clone()))
            .await;
        json_of(res, StatusCode::CONFLICT).await;
        let res = api
            .send(
                "POST",
                "/api/v1/roles",
                Some(json!({ "name": "two words" })),
            )
            .await;
        assert_eq!(
            json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
            "name"
        );
        let res = api
            .send(
                "POST",
                "/api/v1/roles",
                Some(json!({ "name": "x", "level": 3 })),
            )
            .await;
        json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;

        // Apps are given roles from the catalogue only.
        let res = api
            .send(
                "POST",
                "/api/v1/apps",
                Some(json!({ "name": "Billing", "roles": ["billing:superuser"] })),
            )
            .await;
        let refused = json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(refused["field"], "roles");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("billing:superuser")
        );
        let res = api
            .send(
                "POST",
                "/api/v1/apps",
                Some(json!({ "name": "Billing", "roles": ["billing:reader"] })),
            )
            .await;
        let billing = json_of(res, StatusCode::CREATED).await;
        assert_eq!(billing["roles"], json!(["billing:reader"]));
        let billing_url = format!("/api/v1/apps/{}", billing["client_id"].as_str().unwrap());

        let res = api
            .send("DELETE", "/api/v1/roles/billing:reader", None)
            .await;
        let in_use = json_of(res, StatusCode::CONFLICT).await;
        assert_eq!(in_use["error"], "conflict");
        assert!(
            in_use["message"].as_str().unwrap().contains("(Billing)"),
            "{in_use}"
        );
        let res = api.send("DELETE", "/api/v1/roles/admin", None).await;
        json_of(res, StatusCode::CONFLICT).await;
        let res = api.send("DELETE", "/api/v1/roles/nobody", None).await;
        json_of(res, StatusCode::NOT_FOUND).await;

        let res = api
            .send("PATCH", &billing_url, Some(json!({ "roles": [] })))
            .await;
        json_of(res, StatusCode::OK).await;
        let res = api
            .send("DELETE", "/api/v1/roles/billing:reader", None)
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let listed = json_of(api.send("GET", "/api/v1/roles", None).await, StatusCode::OK).await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn deleting_a_scope_apps_are_allowed_is_409_naming_them() {
    for app in spawn_apps().await {
        let (_, token) = app.admin_token("acme").await;
        let api = Api { app: &app, token };
        for name in ["orders:read", "orders:write"] {
            let res = api
                .send("POST", "/api/v1/scopes", Some(json!({ "name": name })))
                .await;
            json_of(res, StatusCode::CREATED).await;
        }
        let res = api
            .send(
                "POST",
                "/api/v1/apps",
                Some(json!({ "name": "Shipping", "scopes": ["orders:read"] })),
            )
            .await;
        json_of(res, StatusCode::CREATED).await;

        let res = api.send("DELETE", "/api/v1/scopes/orders:read", None).await;
        let in_use = json_of(res, StatusCode::CONFLICT).await;
        let message = in_use["message"].as_str().unwrap();
        assert!(
            message.contains("orders:read") && message.contains("(Shipping)"),
            "{message}"
        );
        let res = api
            .send("DELETE", "/api/v1/scopes/orders:write", None)
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let listed = json_of(
            api.send("GET", "/api/v1/scopes", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            listed,
            json!([{ "name": "orders:read", "description": "" }])
        );
    }
}

#[tokio::test]
async fn developers_are_refused_roles_and_audiences_but_still_edit_their_apps() {
    let app = spawn_app().await;
    user(&app.db, "ann@example.com", "team", true).await;
    user(&app.db, "dev@example.com", "team", false).await;
    let session = |res: Response| session_cookie(res.headers()).expect("signed in");
    let admin = session(app.sign_in("ann@example.com", PASSWORD).await);
    let dev = session(app.sign_in("dev@example.com", PASSWORD).await);
    let with = |req: RequestBuilder, cookie: &str| req.header("cookie", cookie.to_string());

    let res = with(app.client.post(app.url("/api/v1/roles")), &admin)
        .json(&json!({ "name": "reader" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::CREATED).await;
    let res = with(app.client.post(app.url("/api/v1/roles")), &dev)
        .json(&json!({ "name": "mine" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::FORBIDDEN).await;
    let res = with(app.client.delete(app.url("/api/v1/roles/reader")), &dev)
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::FORBIDDEN).await;

    for (field, body) in [
        ("roles", json!({ "name": "Dev's", "roles": ["reader"] })),
        (
            "audiences",
            json!({ "name": "Dev's", "audiences": ["https://payments.example.com"] }),
        ),
    ] {
        let res = with(app.client.post(app.url("/api/v1/apps")), &dev)
            .json(&body)
            .send()
            .await
            .unwrap();
        let refused = json_of(res, StatusCode::FORBIDDEN).await;
        assert_eq!(refused["error"], "forbidden");
        assert_eq!(refused["field"], field);
        assert!(refused["message"].as_str().unwrap().contains("admins"));
    }

    let res = with(app.client.post(app.url("/api/v1/apps")), &dev)
        .json(&json!({ "name": "Dev's" }))
        .send()
        .await
        .unwrap();
    let own = json_of(res, StatusCode::CREATED).await;
    let own_url = app.url(&format!(
        "/api/v1/apps/{}",
        own["client_id"].as_str().unwrap()
    ));
    let res = with(app.client.patch(&own_url), &dev)
        .json(&json!({ "roles": ["reader"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(res, StatusCode::FORBIDDEN).await["field"], "roles");

    // An admin gives them; the developer edits the rest, sending them back unchanged or not.
    let res = with(app.client.patch(&own_url), &admin)
        .json(&json!({ "roles": ["reader"], "audiences": ["https://payments.example.com"] }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::OK).await;
    let res = with(app.client.patch(&own_url), &dev)
        .json(&json!({
            "description": "Edited",
            "roles": ["reader"],
            "audiences": ["https://payments.example.com"]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(res, StatusCode::OK).await["description"], "Edited");
    let res = with(app.client.patch(&own_url), &dev)
        .json(&json!({ "name": "Dev's v2" }))
        .send()
        .await
        .unwrap();
    let edited = json_of(res, StatusCode::OK).await;
    assert_eq!(edited["roles"], json!(["reader"]));
    let res = with(app.client.patch(&own_url), &dev)
        .json(&json!({ "audiences": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(res, StatusCode::FORBIDDEN).await["field"],
        "audiences"
    );
}
