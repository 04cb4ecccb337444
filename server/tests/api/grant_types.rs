//! Grant types per app (SPEC §3a) in the management API's app shape and the portal's form:
//! the defaults, changes, and the combinations refused with a 422 naming the field.

use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use server_fn::ServerFn;

use crate::helpers::{TestApp, spawn_app, spawn_apps};

const DEVICE: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn bearer(req: RequestBuilder, token: &str) -> RequestBuilder {
    req.header("authorization", format!("Bearer {token}"))
}

async fn json_of(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

async fn create(app: &TestApp, token: &str, body: Value) -> Response {
    bearer(app.client.post(app.url("/api/v1/apps")), token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn patch(app: &TestApp, token: &str, client_id: &str, body: Value) -> Response {
    bearer(
        app.client
            .patch(app.url(&format!("/api/v1/apps/{client_id}"))),
        token,
    )
    .json(&body)
    .send()
    .await
    .unwrap()
}

/// The documented error shape, naming `field`.
async fn refused(res: Response, field: &str) -> String {
    let body = json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["error"], "invalid", "{body}");
    assert_eq!(body["field"], field, "{body}");
    body["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn apps_get_the_grants_of_their_kind_and_a_patch_changes_them() {
    for app in spawn_apps().await {
        let (_, t) = app.admin_token("acme").await;
        let batch = json_of(
            create(&app, &t, json!({ "name": "Batch" })).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(batch["grant_types"], json!(["client_credentials"]));
        let web = json_of(
            create(
                &app,
                &t,
                json!({ "name": "Web", "callback_url": "https://web.example.com/cb" }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(
            web["grant_types"],
            json!(["client_credentials", "authorization_code", "refresh_token"])
        );
        let mobile = json_of(
            create(
                &app,
                &t,
                json!({ "name": "Mobile", "client_type": "public", "callback_url": "https://m.example.com/cb" }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(
            mobile["grant_types"],
            json!(["authorization_code", "refresh_token", DEVICE])
        );
        let chosen = json_of(
            create(
                &app,
                &t,
                json!({ "name": "Portal", "callback_url": "https://p.example.com/cb",
                        "grant_types": ["refresh_token", "authorization_code"] }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(
            chosen["grant_types"],
            json!(["authorization_code", "refresh_token"])
        );

        let id = web["client_id"].as_str().unwrap();
        let changed = json_of(
            patch(
                &app,
                &t,
                id,
                json!({ "grant_types": [DEVICE, "refresh_token", "client_credentials"] }),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            changed["grant_types"],
            json!(["client_credentials", "refresh_token", DEVICE])
        );
        assert_eq!(
            changed["callback_url"], "https://web.example.com/cb",
            "fields not sent keep their values"
        );
        let read: Value = bearer(app.client.get(app.url(&format!("/api/v1/apps/{id}"))), &t)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(read["grant_types"], changed["grant_types"]);
        let listed: Value = bearer(app.client.get(app.url("/api/v1/apps")), &t)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = listed["items"].as_array().unwrap();
        assert!(
            items.iter().all(|a| a["grant_types"].is_array()),
            "{listed}"
        );

        // While the code flow is allowed, the callback URL cannot go: the refusal names the
        // URL, and nothing changes; sent together with grants that need no URL, it goes.
        let code = patch(
            &app,
            &t,
            id,
            json!({ "grant_types": ["client_credentials", "authorization_code"] }),
        )
        .await;
        json_of(code, StatusCode::OK).await;
        let message = refused(
            patch(&app, &t, id, json!({ "callback_url": null })).await,
            "callback_url",
        )
        .await;
        assert!(message.contains("authorization code"), "{message}");
        let unhooked = json_of(
            patch(
                &app,
                &t,
                id,
                json!({ "callback_url": null, "grant_types": ["client_credentials"] }),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (&unhooked["callback_url"], &unhooked["grant_types"]),
            (&Value::Null, &json!(["client_credentials"]))
        );

        // The token endpoint follows a change at once.
        let secret = web["client_secret"].as_str().unwrap();
        assert_eq!(app.client_credentials(id, secret, None).await.status(), 200);
        let parked = patch(&app, &t, id, json!({ "grant_types": [] })).await;
        assert_eq!(
            json_of(parked, StatusCode::OK).await["grant_types"],
            json!([])
        );
        let refused = json_of(
            app.client_credentials(id, secret, None).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(refused["error"], "unauthorized_client", "{refused}");
    }
}

#[tokio::test]
async fn grants_that_cannot_work_are_a_422_naming_grant_types() {
    let app = spawn_app().await;
    let (_, t) = app.admin_token("acme").await;
    let public = json!({ "name": "Mobile", "client_type": "public",
                         "callback_url": "https://m.example.com/cb" });
    let mut asks_for_secretless_credentials = public.clone();
    asks_for_secretless_credentials["grant_types"] = json!(["client_credentials"]);
    let message = refused(
        create(&app, &t, asks_for_secretless_credentials).await,
        "grant_types",
    )
    .await;
    assert!(message.contains("public app"), "{message}");
    for body in [
        json!({ "name": "x", "grant_types": ["password"] }),
        json!({ "name": "x", "grant_types": ["authorization_code"] }),
        json!({ "name": "x", "grant_types": ["client_credentials", "refresh_token"] }),
    ] {
        refused(create(&app, &t, body).await, "grant_types").await;
    }
    // Not a list of strings: the body's shape is wrong, as for any other field.
    let res = create(
        &app,
        &t,
        json!({ "name": "x", "grant_types": "client_credentials" }),
    )
    .await;
    assert_eq!(
        json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await["error"],
        "invalid"
    );

    let mobile = json_of(create(&app, &t, public).await, StatusCode::CREATED).await;
    let id = mobile["client_id"].as_str().unwrap();
    refused(
        patch(
            &app,
            &t,
            id,
            json!({ "grant_types": ["client_credentials"] }),
        )
        .await,
        "grant_types",
    )
    .await;
    let read: Value = bearer(app.client.get(app.url(&format!("/api/v1/apps/{id}"))), &t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        read["grant_types"],
        json!(["authorization_code", "refresh_token", DEVICE]),
        "a refused change changes nothing"
    );
    let listed: Value = bearer(app.client.get(app.url("/api/v1/apps")), &t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        2,
        "the tool client and Mobile"
    );
}

#[tokio::test]
async fn the_openapi_document_lists_grant_types_in_the_app_shapes() {
    let app = spawn_app().await;
    let doc: Value = app.get_json("/api/v1/openapi.json").await;
    for schema in ["App", "NewApp", "AppPatch"] {
        let property = &doc["components"]["schemas"][schema]["properties"]["grant_types"];
        assert!(property.is_object(), "{schema} lists grant_types");
    }
}

/// The portal's form, posted without the WASM: the checkboxes arrive as `grant_types[]`, an
/// empty entry first, so clearing every box is "none" rather than "unchanged".
#[tokio::test]
async fn the_portal_form_sets_grant_types_by_checkbox() {
    use app::server_fns::apps::{CreateApp, UpdateApp};
    let app = spawn_app().await;
    let cookie = app.sign_up("web@example.com").await;
    let res = app
        .call(
            CreateApp::PATH,
            &[
                ("name", "Web"),
                ("visibility", "private"),
                ("client_type", "confidential"),
                ("callback_url", "https://web.example.com/cb"),
            ],
            Some(&cookie),
        )
        .await;
    let created: Value = json_of(res, StatusCode::OK).await;
    let client_id = created["app"]["client_id"].as_str().unwrap().to_string();
    assert_eq!(
        created["app"]["grant_types"],
        json!(["client_credentials", "authorization_code", "refresh_token"])
    );

    let save = |grants: &[&'static str]| {
        let mut form = vec![
            ("client_id", client_id.clone()),
            ("name", "Web".into()),
            ("description", String::new()),
            ("visibility", "private".into()),
            ("callback_url", "https://web.example.com/cb".into()),
            ("scopes", String::new()),
            ("roles", String::new()),
            ("audiences", String::new()),
            ("token_lifetime_secs", "3600".into()),
            ("grant_types[]", String::new()),
        ];
        form.extend(grants.iter().map(|g| ("grant_types[]", g.to_string())));
        let (app, cookie) = (&app, &cookie);
        async move {
            app.client
                .post(app.url(UpdateApp::PATH))
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let saved = json_of(
        save(&["authorization_code", "refresh_token"]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        saved["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    let one = json_of(save(&["client_credentials"]).await, StatusCode::OK).await;
    assert_eq!(one["grant_types"], json!(["client_credentials"]));
    let none = json_of(save(&[]).await, StatusCode::OK).await;
    assert_eq!(none["grant_types"], json!([]));
    let res = save(&["refresh_token"]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("grant_types"));
}
