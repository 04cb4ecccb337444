//! The management API under /api/v1: tool-client tokens and portal sessions, every route's
//! happy path and errors, and the end-to-end secret lifecycle.

use app::store::unix_now;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, admin_tool, basic, client, draft, session_cookie, spawn_app, spawn_apps, user,
};

fn bearer(req: RequestBuilder, token: &str) -> RequestBuilder {
    req.header("authorization", format!("Bearer {token}"))
}

async fn json_of(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

#[tokio::test]
async fn a_tool_client_manages_an_app_and_its_secrets_end_to_end() {
    for app in spawn_apps().await {
        let (tool, t) = app.admin_token("acme").await;
        let res = bearer(app.client.post(app.url("/api/v1/apps")), &t)
            .json(&json!({ "name": "Billing", "scopes": [], "token_lifetime_secs": 900 }))
            .send()
            .await
            .unwrap();
        let created = json_of(res, StatusCode::CREATED).await;
        let client_id = created["client_id"].as_str().unwrap().to_string();
        let first = created["client_secret"].as_str().unwrap().to_string();
        let first_id = created["secret_id"].as_str().unwrap().to_string();
        assert_eq!(created["visibility"], "private");
        assert_eq!(created["client_type"], "confidential");
        assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            app.client_credentials(&client_id, &first, None)
                .await
                .status(),
            200
        );

        let res = bearer(
            app.client.post(app.url(&format!(
                "/api/v1/apps/{client_id}/secrets/{first_id}/refresh"
            ))),
            &t,
        )
        .json(&json!({ "grace_seconds": 0 }))
        .send()
        .await
        .unwrap();
        let refreshed = json_of(res, StatusCode::CREATED).await;
        let second = refreshed["secret"].as_str().unwrap().to_string();
        assert_eq!(
            app.client_credentials(&client_id, &first, None)
                .await
                .status(),
            401,
            "old secret dead at once"
        );
        assert_eq!(
            app.client_credentials(&client_id, &second, None)
                .await
                .status(),
            200
        );

        let res = bearer(
            app.client
                .get(app.url(&format!("/api/v1/apps/{client_id}/secrets"))),
            &t,
        )
        .send()
        .await
        .unwrap();
        let secrets = json_of(res, StatusCode::OK).await;
        assert_eq!(secrets.as_array().unwrap().len(), 2);
        assert!(
            !secrets.to_string().contains(&second),
            "never the plaintext"
        );

        let res = bearer(
            app.client
                .delete(app.url(&format!("/api/v1/apps/{client_id}"))),
            &t,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            app.client_credentials(&client_id, &second, None)
                .await
                .status(),
            401,
            "deleted app's secret"
        );
        let res = bearer(
            app.client
                .get(app.url(&format!("/api/v1/apps/{client_id}"))),
            &t,
        )
        .send()
        .await
        .unwrap();
        json_of(res, StatusCode::NOT_FOUND).await;

        // Every mutation names the acting client in the audit log.
        let res = bearer(
            app.client
                .get(app.url(&format!("/api/v1/audit?app={client_id}"))),
            &t,
        )
        .send()
        .await
        .unwrap();
        let audit = json_of(res, StatusCode::OK).await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "app.deleted",
                "client.auth_failed",
                "secret.refreshed",
                "secret.created",
                "app.created"
            ]
        );
        assert!(
            audit["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["action"] != "client.auth_failed")
                .all(|e| e["actor_type"] == "client" && e["actor_id"] == tool.client_id.as_str())
        );
    }
}

#[tokio::test]
async fn only_live_admin_tool_tokens_for_this_api_open_it() {
    let app = spawn_app().await;
    let apps_url = app.url("/api/v1/apps");

    let res = app.client.get(&apps_url).send().await.unwrap();
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"keyport\""
    );
    json_of(res, StatusCode::UNAUTHORIZED).await;

    let res = bearer(app.client.get(&apps_url), "not-a-token")
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    json_of(res, StatusCode::UNAUTHORIZED).await;

    let res = app
        .client
        .get(&apps_url)
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::UNAUTHORIZED).await;

    // A token of the right client for another audience (the tenant's APIs) does not open it.
    let tool = admin_tool(&app.db, "acme").await;
    let res = app
        .client_credentials(&tool.client_id, &tool.secret, None)
        .await;
    let other_aud: Value = res.json().await.unwrap();
    let res = bearer(
        app.client.get(&apps_url),
        other_aud["access_token"].as_str().unwrap(),
    )
    .send()
    .await
    .unwrap();
    json_of(res, StatusCode::UNAUTHORIZED).await;

    // Only tool clients with the admin role may ask for this API's audience...
    let plain = client(&app.db, "acme", draft("deploy bot").roles(&["admin"])).await;
    let res = app
        .client_credentials(&plain.client_id, &plain.secret, Some(&app.url("/api/v1")))
        .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_target"
    );
    // ...and a non-tool client that was given the audience anyway (written straight to the
    // database, which no API allows) gets no token for it.
    let sneaky = client(
        &app.db,
        "acme",
        draft("deploy bot").audiences(&[&app.url("/api/v1")]),
    )
    .await;
    let res = app
        .client_credentials(&sneaky.client_id, &sneaky.secret, Some(&app.url("/api/v1")))
        .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_target"
    );

    // A revoked token stops working.
    let (tool, t) = app.admin_token("acme").await;
    assert_eq!(
        bearer(app.client.get(&apps_url), &t)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = app
        .post_form(
            "/oauth/revoke",
            Some(&basic(&tool.client_id, &tool.secret)),
            &format!("token={t}"),
        )
        .await;
    assert_eq!(res.status(), 200);
    json_of(
        bearer(app.client.get(&apps_url), &t).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn another_tenants_objects_do_not_exist() {
    let app = spawn_app().await;
    let (_, acme) = app.admin_token("acme").await;
    let (_, other) = app.admin_token("other").await;
    let res = bearer(app.client.post(app.url("/api/v1/apps")), &acme)
        .json(&json!({ "name": "Mine" }))
        .send()
        .await
        .unwrap();
    let mine = json_of(res, StatusCode::CREATED).await;
    let id = mine["client_id"].as_str().unwrap();
    for req in [
        app.client.get(app.url(&format!("/api/v1/apps/{id}"))),
        app.client
            .patch(app.url(&format!("/api/v1/apps/{id}")))
            .json(&json!({ "name": "Yours" })),
        app.client.delete(app.url(&format!("/api/v1/apps/{id}"))),
        app.client
            .get(app.url(&format!("/api/v1/apps/{id}/secrets"))),
        app.client.get(app.url(&format!("/api/v1/audit?app={id}"))),
    ] {
        json_of(
            bearer(req, &other).send().await.unwrap(),
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    let res = bearer(app.client.get(app.url("/api/v1/apps")), &other)
        .send()
        .await
        .unwrap();
    let listed = json_of(res, StatusCode::OK).await;
    assert!(!listed.to_string().contains(id));
}

#[tokio::test]
async fn portal_sessions_have_the_same_permissions_as_in_the_ui() {
    let app = spawn_app().await;
    user(&app.db, "ann@example.com", "team", true).await;
    user(&app.db, "dev@example.com", "team", false).await;
    let session = |res: Response| session_cookie(res.headers()).expect("signed in");
    let admin = session(app.sign_in("ann@example.com", PASSWORD).await);
    let dev = session(app.sign_in("dev@example.com", PASSWORD).await);
    let with = |req: RequestBuilder, cookie: &str| req.header("cookie", cookie.to_string());

    let res = with(app.client.post(app.url("/api/v1/apps")), &admin)
        .json(&json!({ "name": "Admin's" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::CREATED).await;
    let res = with(app.client.post(app.url("/api/v1/apps")), &dev)
        .json(&json!({ "name": "Dev's" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::CREATED).await;
    // A tool client with role admin would be an admin: a developer cannot make one.
    let res = with(app.client.post(app.url("/api/v1/apps")), &dev)
        .json(&json!({ "name": "Backdoor", "tool": true, "roles": ["admin"] }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::FORBIDDEN).await;

    let res = with(app.client.get(app.url("/api/v1/apps")), &dev)
        .send()
        .await
        .unwrap();
    let names: Vec<String> = json_of(res, StatusCode::OK).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Dev's"], "a developer sees only their own apps");
    let res = with(app.client.get(app.url("/api/v1/apps")), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(res, StatusCode::OK).await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    json_of(
        with(app.client.get(app.url("/api/v1/audit")), &dev)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let res = with(app.client.patch(app.url("/api/v1/tenant")), &dev)
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::FORBIDDEN).await;
    let res = with(app.client.post(app.url("/api/v1/scopes")), &admin)
        .json(&json!({ "name": "orders:read", "description": "Read orders" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::CREATED).await;
    let res = with(app.client.get(app.url("/api/v1/scopes")), &dev)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(res, StatusCode::OK).await,
        json!([{ "name": "orders:read", "description": "Read orders" }])
    );
    // Cross-site browser requests with the cookie are refused, as in the portal.
    let res = with(app.client.post(app.url("/api/v1/apps")), &admin)
        .header("sec-fetch-site", "cross-site")
        .json(&json!({ "name": "CSRF" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx() {
    let app = spawn_app().await;
    let (_, t) = app.admin_token("acme").await;
    let post = |path: &str| bearer(app.client.post(app.url(path)), &t);
    let raw = |path: &str, body: &'static str| {
        post(path)
            .header("content-type", "application/json")
            .body(body)
    };

    let cases: Vec<(RequestBuilder, StatusCode, &str)> = vec![
        (
            raw("/api/v1/apps", "{\"name\": "),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            post("/api/v1/apps").body("name=x"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            raw("/api/v1/apps", "[\"x\", null]"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            raw("/api/v1/apps", "{\"name\": 5}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            raw("/api/v1/apps", "{\"name\": \"x\", \"colour\": \"red\"}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            post("/api/v1/apps")
                .json(&json!({ "name": "x", "callback_url": "javascript:alert(1)" })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            post("/api/v1/apps").json(&json!({ "name": "x", "token_lifetime_secs": 5 })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            post("/api/v1/apps").json(&json!({ "name": "" })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            post("/api/v1/apps").json(&json!({ "name": "x".repeat(100_000) })),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (req, status, code) in cases {
        let body = json_of(req.send().await.unwrap(), status).await;
        assert_eq!(body["error"], code, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let res = post("/api/v1/apps")
        .json(&json!({ "name": "x", "callback_url": "http://evil.example/cb" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "callback_url"
    );

    let res = post("/api/v1/apps")
        .json(&json!({ "name": "Paged" }))
        .send()
        .await
        .unwrap();
    let id = json_of(res, StatusCode::CREATED).await["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = post(&format!("/api/v1/apps/{id}/secrets"))
        .json(&json!({ "expires_at": "2001-01-01T00:00:00Z" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let res = post(&format!("/api/v1/apps/{id}/secrets"))
        .json(&json!({ "expires_at": "tomorrow" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let res = post(&format!("/api/v1/apps/{id}/secrets"))
        .json(&json!({ "description": "forever", "expires_at": null }))
        .send()
        .await
        .unwrap();
    let never = json_of(res, StatusCode::CREATED).await;
    assert_eq!(never["expires_at"], Value::Null);
    assert!(never["secret"].as_str().unwrap().starts_with("kps_"));
    let res = post(&format!("/api/v1/apps/{id}/secrets/nope/refresh"))
        .json(&json!({ "grace_seconds": 0 }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::NOT_FOUND).await;
    let res = post(&format!(
        "/api/v1/apps/{id}/secrets/{}/refresh",
        never["id"].as_str().unwrap()
    ))
    .json(&json!({ "grace_seconds": 999_999_999 }))
    .send()
    .await
    .unwrap();
    json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    json_of(
        bearer(app.client.get(app.url("/api/v1/nothing-here")), &t)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    let res = bearer(app.client.put(app.url("/api/v1/apps")), &t)
        .send()
        .await
        .unwrap();
    let allow = res.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let body = json_of(res, StatusCode::METHOD_NOT_ALLOWED).await;
    assert_eq!(body["error"], "method_not_allowed");

    let bad_utf8 = [
        app.client.get(app.url("/api/v1/apps/%FF")),
        app.client
            .delete(app.url(&format!("/api/v1/apps/{id}/secrets/%C3%28"))),
    ];
    for req in bad_utf8 {
        let body = json_of(
            bearer(req, &t).send().await.unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(body["error"], "invalid_request", "{body}");
    }
}

#[tokio::test]
async fn lists_are_paged_in_a_stable_order() {
    let app = spawn_app().await;
    let (_, t) = app.admin_token("acme").await;
    for n in 0..3 {
        let res = bearer(app.client.post(app.url("/api/v1/apps")), &t)
            .json(&json!({ "name": format!("app {n}") }))
            .send()
            .await
            .unwrap();
        json_of(res, StatusCode::CREATED).await;
    }
    let get = |q: String| bearer(app.client.get(app.url(&format!("/api/v1/apps{q}"))), &t).send();
    let whole = json_of(get(String::new()).await.unwrap(), StatusCode::OK).await;
    let whole = whole["items"].as_array().unwrap().clone();
    assert_eq!(whole.len(), 4, "three apps and the tool client itself");
    let (mut seen, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let q = match &cursor {
            Some(c) => format!("?limit=3&cursor={c}"),
            None => "?limit=3".into(),
        };
        let page = json_of(get(q).await.unwrap(), StatusCode::OK).await;
        seen.extend(page["items"].as_array().unwrap().iter().cloned());
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, whole, "pages cover the list once, in the same order");
    json_of(
        get("?cursor=garbage".into()).await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    json_of(
        get("?limit=0".into()).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    json_of(
        get("?limit=abc".into()).await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn tenant_and_scopes() {
    let app = spawn_app().await;
    let (_, t) = app.admin_token("acme").await;
    let res = bearer(app.client.get(app.url("/api/v1/tenant")), &t)
        .send()
        .await
        .unwrap();
    let tenant = json_of(res, StatusCode::OK).await;
    assert_eq!(tenant["name"], "acme");
    assert!(tenant["audience"].as_str().unwrap().contains("/tenants/"));
    let res = bearer(app.client.patch(app.url("/api/v1/tenant")), &t)
        .json(&json!({ "audience": "https://api.acme.example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(res, StatusCode::OK).await["audience"],
        "https://api.acme.example"
    );
    let res = bearer(app.client.patch(app.url("/api/v1/tenant")), &t)
        .json(&json!({ "audience": null }))
        .send()
        .await
        .unwrap();
    assert!(
        json_of(res, StatusCode::OK).await["audience"]
            .as_str()
            .unwrap()
            .contains("/tenants/")
    );

    let res = bearer(app.client.post(app.url("/api/v1/scopes")), &t)
        .json(&json!({ "name": "orders:read" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::CREATED).await;
    let res = bearer(app.client.post(app.url("/api/v1/scopes")), &t)
        .json(&json!({ "name": "orders:read" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::CONFLICT).await;
    let res = bearer(app.client.post(app.url("/api/v1/scopes")), &t)
        .json(&json!({ "name": "has space" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    // Apps the tool client creates may be allowed catalogue scopes only, as in the portal.
    let res = bearer(app.client.post(app.url("/api/v1/apps")), &t)
        .json(&json!({ "name": "Shipping", "scopes": ["orders:read", "orders:write"] }))
        .send()
        .await
        .unwrap();
    let refused = json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["field"], "scopes");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("orders:write")
    );
    let res = bearer(app.client.post(app.url("/api/v1/apps")), &t)
        .json(&json!({ "name": "Shipping", "scopes": ["orders:read"] }))
        .send()
        .await
        .unwrap();
    let shipping = json_of(res, StatusCode::CREATED).await;
    let res = bearer(
        app.client.delete(app.url(&format!(
            "/api/v1/apps/{}",
            shipping["client_id"].as_str().unwrap()
        ))),
        &t,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = bearer(app.client.delete(app.url("/api/v1/scopes/orders:read")), &t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = bearer(app.client.get(app.url("/api/v1/scopes")), &t)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(res, StatusCode::OK).await, json!([]));
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let doc: Value = app.get_json("/api/v1/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v1/apps", &["get", "post"][..]),
        ("/api/v1/apps/{client_id}", &["get", "patch", "delete"]),
        ("/api/v1/apps/{client_id}/secrets", &["get", "post"]),
        (
            "/api/v1/apps/{client_id}/secrets/{secret_id}/refresh",
            &["post"],
        ),
        ("/api/v1/apps/{client_id}/secrets/{secret_id}", &["delete"]),
        ("/api/v1/audit", &["get"]),
        ("/api/v1/tenant", &["get", "patch"]),
        ("/api/v1/scopes", &["get", "post"]),
        ("/api/v1/scopes/{name}", &["delete"]),
        ("/api/v1/roles", &["get", "post"]),
        ("/api/v1/roles/{name}", &["delete"]),
    ] {
        for m in methods {
            let op = &paths[path][m];
            assert!(op.is_object(), "{m} {path} is documented");
            assert!(
                op["responses"]["401"].is_object(),
                "{m} {path} documents 401"
            );
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    use app::domain::{
        jwt::{Alg, Signer},
        oauth::AccessClaims,
        sealing::Sealed,
    };
    let app = spawn_app().await;
    let tool = admin_tool(&app.db, "acme").await;
    // Sign with the server's own key, so only the expiry is wrong.
    let key = app::store::signing_keys::published(&app.db, unix_now())
        .await
        .unwrap()
        .remove(0);
    let der = app::store::testkit::master_key(&app.db)
        .open(Sealed::SigningKey(&key.kid), &key.private_key)
        .unwrap();
    let signer = Signer::from_pkcs8(&key.kid, Alg::Es256, &der).unwrap();
    let now = unix_now();
    let mut claims = AccessClaims {
        iss: app.issuer(&tool.tenant_id),
        sub: tool.client_id.clone(),
        aud: app.url("/api/v1"),
        client_id: tool.client_id.clone(),
        scope: String::new(),
        iat: now - 120,
        exp: now - 60,
        jti: "expired".into(),
        tenant: tool.tenant_id.clone(),
        roles: vec!["admin".into()],
    };
    let expired = signer.sign(&claims).unwrap();
    let res = bearer(app.client.get(app.url("/api/v1/apps")), &expired)
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::UNAUTHORIZED).await;
    // The same token, still valid, is accepted: the expiry was the only fault.
    claims.exp = now + 60;
    claims.jti = "fresh".into();
    let fresh = signer.sign(&claims).unwrap();
    let res = bearer(app.client.get(app.url("/api/v1/apps")), &fresh)
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::OK).await;
}

#[tokio::test]
async fn read_change_and_delete_a_secret_through_the_api() {
    let app = spawn_app().await;
    let (_, t) = app.admin_token("acme").await;
    let res = bearer(app.client.post(app.url("/api/v1/apps")), &t)
        .json(&json!({ "name": "Orders", "visibility": "public", "callback_url": "https://orders.example.com/cb" }))
        .send()
        .await
        .unwrap();
    let created = json_of(res, StatusCode::CREATED).await;
    let id = created["client_id"].as_str().unwrap().to_string();
    let secret_id = created["secret_id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();

    let res = bearer(app.client.get(app.url(&format!("/api/v1/apps/{id}"))), &t)
        .send()
        .await
        .unwrap();
    let read = json_of(res, StatusCode::OK).await;
    assert_eq!(read["name"], "Orders");
    assert_eq!(read["visibility"], "public");
    assert_eq!(read["callback_url"], "https://orders.example.com/cb");
    assert!(
        read.get("client_secret").is_none(),
        "the secret is shown only at creation"
    );

    let res = bearer(app.client.post(app.url("/api/v1/roles")), &t)
        .json(&json!({ "name": "reader" }))
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::CREATED).await;
    // Without its callback URL the app keeps only the grant that needs none.
    let res = bearer(app.client.patch(app.url(&format!("/api/v1/apps/{id}"))), &t)
        .json(
            &json!({ "description": "Order intake", "callback_url": null, "roles": ["reader"],
                       "grant_types": ["client_credentials"] }),
        )
        .send()
        .await
        .unwrap();
    let changed = json_of(res, StatusCode::OK).await;
    assert_eq!(changed["description"], "Order intake");
    assert_eq!(changed["callback_url"], Value::Null);
    assert_eq!(changed["grant_types"], json!(["client_credentials"]));
    assert_eq!(changed["roles"], json!(["reader"]));
    assert_eq!(
        changed["name"], "Orders",
        "fields not sent keep their values"
    );

    assert_eq!(
        app.client_credentials(&id, &secret, None).await.status(),
        200
    );
    let res = bearer(
        app.client
            .delete(app.url(&format!("/api/v1/apps/{id}/secrets/{secret_id}"))),
        &t,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.client_credentials(&id, &secret, None).await.status(),
        401,
        "stops working at once"
    );
    let res = bearer(
        app.client
            .delete(app.url(&format!("/api/v1/apps/{id}/secrets/{secret_id}"))),
        &t,
    )
    .send()
    .await
    .unwrap();
    json_of(res, StatusCode::NOT_FOUND).await;

    // With every field optional, a bare POST takes the defaults: one year, no grace.
    let post = |path: String| bearer(app.client.post(app.url(&path)), &t).send();
    let res = post(format!("/api/v1/apps/{id}/secrets")).await.unwrap();
    let added = json_of(res, StatusCode::CREATED).await;
    let expires = time::OffsetDateTime::parse(
        added["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp();
    assert!((expires - unix_now() - 365 * 86_400).abs() < 120, "{added}");
    let res = post(format!(
        "/api/v1/apps/{id}/secrets/{}/refresh",
        added["id"].as_str().unwrap()
    ))
    .await
    .unwrap();
    json_of(res, StatusCode::CREATED).await;
    let old = added["secret"].as_str().unwrap();
    assert_eq!(
        app.client_credentials(&id, old, None).await.status(),
        401,
        "no grace"
    );
}
