//! Each tenant is its own issuer (SPEC §1, §3): its discovery documents, keys and endpoints
//! live under `{public URL}/t/{tenant}`, its tokens carry that `iss`, and no tenant can get a
//! token for another tenant's audience or the management API's.

use reqwest::StatusCode;
use serde_json::{Value, json};

use app::store::Database;

use crate::helpers::{
    Client, TestApp, access_token, basic, check_as_resource_server, client, draft, spawn_apps,
};

async fn service(app: &TestApp, tenant: &str) -> Client {
    client(
        &app.db,
        tenant,
        draft("orders")
            .scopes(&["orders:read"])
            .token_lifetime_secs(600),
    )
    .await
}

fn derived_audience(app: &TestApp, tenant_id: &str) -> String {
    app.url(&format!("/tenants/{tenant_id}"))
}

/// The body of a failed OAuth request, after checking its status and code.
async fn oauth_error(res: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    body
}

/// Runs `sql` with `binds` on either engine, as another process (or an older version of
/// Keyport) writing the database would.
async fn write_directly(db: &Database, sql: &str, binds: &[&str]) {
    match db {
        Database::Sqlite(sqlite) => {
            let mut query = sqlx::query(sql);
            for b in binds {
                query = query.bind(*b);
            }
            query.execute(&sqlite.pool).await.unwrap();
        }
        Database::Postgres(pool) => {
            let mut query = sqlx::query(sql);
            for b in binds {
                query = query.bind(*b);
            }
            query.execute(pool).await.unwrap();
        }
    }
}

#[tokio::test]
async fn each_tenant_has_its_own_discovery_documents_and_keys_under_its_issuer() {
    for app in spawn_apps().await {
        let c = service(&app, "acme").await;
        let issuer = app.issuer(&c.tenant_id);
        let oidc: Value = app
            .get_json(&format!(
                "/t/{}/.well-known/openid-configuration",
                c.tenant_id
            ))
            .await;
        for rfc8414 in [
            format!("/.well-known/oauth-authorization-server/t/{}", c.tenant_id),
            format!("/t/{}/.well-known/oauth-authorization-server", c.tenant_id),
        ] {
            assert_eq!(app.get_json::<Value>(&rfc8414).await, oidc, "{rfc8414}");
        }
        assert_eq!(oidc["issuer"], issuer);
        assert_eq!(oidc["token_endpoint"], format!("{issuer}/oauth/token"));
        assert_eq!(oidc["jwks_uri"], format!("{issuer}/jwks.json"));
        assert_eq!(
            oidc["introspection_endpoint"],
            format!("{issuer}/oauth/introspect")
        );
        assert_eq!(
            oidc["revocation_endpoint"],
            format!("{issuer}/oauth/revoke")
        );
        assert_eq!(
            oidc["grant_types_supported"],
            json!(["authorization_code", "refresh_token", "client_credentials"])
        );

        let raw: Value = app.get_json(&format!("/t/{}/jwks.json", c.tenant_id)).await;
        assert_eq!(raw["keys"].as_array().unwrap().len(), 1);
        assert!(raw["keys"][0].get("d").is_none(), "no private key material");
        assert_eq!(raw["keys"][0]["alg"], "ES256");

        // The endpoints the document names work, and their tokens say this issuer.
        let res = app
            .post_form(
                &format!("/t/{}/oauth/token", c.tenant_id),
                Some(&basic(&c.client_id, &c.secret)),
                "grant_type=client_credentials",
            )
            .await;
        let token = access_token(res).await;
        let keys = app.tenant_jwks(&c.tenant_id).await;
        let claims = check_as_resource_server(
            &keys,
            &issuer,
            &derived_audience(&app, &c.tenant_id),
            &token,
        )
        .unwrap();
        assert_eq!(claims["iss"], issuer);
        assert_eq!(claims["tenant"], c.tenant_id.as_str());
        // The un-prefixed token endpoint issues the same issuer's tokens.
        let token = access_token(app.token_for(&c).await).await;
        let claims = check_as_resource_server(
            &keys,
            &issuer,
            &derived_audience(&app, &c.tenant_id),
            &token,
        )
        .unwrap();
        assert_eq!(claims["iss"], issuer);
    }
}

#[tokio::test]
async fn the_root_discovery_documents_point_to_the_tenants_own() {
    let app = crate::helpers::spawn_app().await;
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let res = app.get(path).await;
        let body = oauth_error(res, StatusCode::NOT_FOUND, "not_found").await;
        let message = body["error_description"].as_str().unwrap();
        assert!(
            message.contains(&app.url("/t/{tenant_id}/.well-known/openid-configuration")),
            "{message}"
        );
    }
    let unknown = "01900000-0000-7000-8000-000000000000";
    for path in [
        format!("/t/{unknown}/.well-known/openid-configuration"),
        format!("/.well-known/oauth-authorization-server/t/{unknown}"),
        format!("/t/{unknown}/jwks.json"),
        format!("/t/{}/jwks.json", "x".repeat(5000)),
    ] {
        oauth_error(app.get(&path).await, StatusCode::NOT_FOUND, "not_found").await;
    }
}

#[tokio::test]
async fn a_tenant_s_endpoints_answer_only_its_own_clients() {
    for app in spawn_apps().await {
        let v = service(&app, "victim").await;
        let m = service(&app, "mallory").await;
        let at = |endpoint: &str| format!("/t/{}/oauth/{endpoint}", v.tenant_id);
        let m_basic = basic(&m.client_id, &m.secret);

        let res = app
            .post_form(
                &at("token"),
                Some(&m_basic),
                "grant_type=client_credentials",
            )
            .await;
        assert_eq!(res.headers()["www-authenticate"], "Basic realm=\"keyport\"");
        let body = oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("another issuer")
        );

        let v_token = access_token(app.token_for(&v).await).await;
        for endpoint in ["introspect", "revoke"] {
            let res = app
                .post_form(&at(endpoint), Some(&m_basic), &format!("token={v_token}"))
                .await;
            oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
        }
        // V's own client introspects at V's endpoint.
        let res = app
            .post_form(
                &at("introspect"),
                Some(&basic(&v.client_id, &v.secret)),
                &format!("token={v_token}"),
            )
            .await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["active"], true);
        assert_eq!(body["iss"], app.issuer(&v.tenant_id));

        // M's tokens name M's issuer, which V's resource server refuses.
        let m_token = access_token(app.token_for(&m).await).await;
        let keys = app.tenant_jwks(&v.tenant_id).await;
        let refused = check_as_resource_server(
            &keys,
            &app.issuer(&v.tenant_id),
            &derived_audience(&app, &m.tenant_id),
            &m_token,
        );
        assert!(refused.unwrap_err().contains("Issuer"));
    }
}

/// Audiences a database holds from before they were reserved (or that another writer put
/// there) never reach a token: the tenant's own derived audience replaces a reserved default,
/// and a reserved app audience is `invalid_target`.
#[tokio::test]
async fn reserved_audiences_in_the_database_never_reach_a_token() {
    for app in spawn_apps().await {
        let v = service(&app, "victim").await;
        let m = service(&app, "mallory").await;
        let v_audience = derived_audience(&app, &v.tenant_id);
        let management = app.url("/api/v1");
        let stolen = format!("{v_audience} {management} https://api.mallory.example");
        write_directly(
            &app.db,
            "UPDATE apps SET audiences = $1 WHERE client_id = $2",
            &[&stolen, &m.client_id],
        )
        .await;
        write_directly(
            &app.db,
            "UPDATE tenants SET audience = $1 WHERE id = $2",
            &[&v_audience, &m.tenant_id],
        )
        .await;
        write_directly(
            &app.db,
            "UPDATE change_counter SET generation = generation + 1",
            &[],
        )
        .await;
        tokio::time::sleep(app::services::oauth::POLL_INTERVAL * 2).await;

        let token = access_token(app.token_for(&m).await).await;
        let keys = app.tenant_jwks(&m.tenant_id).await;
        let m_issuer = app.issuer(&m.tenant_id);
        let own = derived_audience(&app, &m.tenant_id);
        let claims = check_as_resource_server(&keys, &m_issuer, &own, &token)
            .expect("the default audience falls back to the tenant's own");
        assert_eq!(claims["aud"], own);

        for taken in [&v_audience, &management] {
            for param in ["audience", "resource"] {
                let body = format!(
                    "grant_type=client_credentials&{param}={}",
                    urlencoding(taken)
                );
                let res = app
                    .token(Some(&basic(&m.client_id, &m.secret)), &body)
                    .await;
                oauth_error(res, StatusCode::BAD_REQUEST, "invalid_target").await;
            }
        }
        let body = "grant_type=client_credentials&audience=https%3A%2F%2Fapi.mallory.example";
        let res = app.token(Some(&basic(&m.client_id, &m.secret)), body).await;
        assert_eq!(res.status(), 200, "its own API's audience still works");

        // What was stored before the rule does not make the app uneditable, and the tenant
        // shows the audience its tokens really carry.
        let (_, admin) = app.admin_token("mallory").await;
        let res = app
            .client
            .patch(app.url(&format!("/api/v1/apps/{}", m.client_id)))
            .header("authorization", format!("Bearer {admin}"))
            .json(&json!({ "name": "renamed" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        let res = app
            .client
            .get(app.url("/api/v1/tenant"))
            .header("authorization", format!("Bearer {admin}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.json::<Value>().await.unwrap()["audience"], own);
    }
}

/// The management API's audience: admin tool clients only.
#[tokio::test]
async fn only_admin_tool_clients_get_tokens_for_the_management_api() {
    for app in spawn_apps().await {
        let management = app.url("/api/v1");
        let plain = service(&app, "acme").await;
        let tool = client(
            &app.db,
            "acme",
            draft("reader bot").tool().roles(&["reader"]),
        )
        .await;
        for c in [&plain, &tool] {
            let res = app
                .client_credentials(&c.client_id, &c.secret, Some(&management))
                .await;
            oauth_error(res, StatusCode::BAD_REQUEST, "invalid_target").await;
        }
        let (admin_tool, token) = app.admin_token("acme").await;
        let keys = app.tenant_jwks(&admin_tool.tenant_id).await;
        check_as_resource_server(
            &keys,
            &app.issuer(&admin_tool.tenant_id),
            &management,
            &token,
        )
        .expect("an admin tool client's management token");
    }
}

/// Through the management API no app and no tenant can be given an audience under the public
/// URL but the tenant's own derived one.
#[tokio::test]
async fn reserved_audiences_are_refused_on_apps_and_the_tenant_default() {
    for app in spawn_apps().await {
        let v = service(&app, "victim").await;
        let (m, token) = app.admin_token("mallory").await;
        let bearer = format!("Bearer {token}");
        let own = derived_audience(&app, &m.tenant_id);
        for taken in [
            derived_audience(&app, &v.tenant_id),
            app.issuer(&v.tenant_id),
            app.url(""),
            app.url("/api/v1"),
            app.url("/anything/else"),
        ] {
            let res = app
                .client
                .post(app.url("/api/v1/apps"))
                .header("authorization", &bearer)
                .json(&json!({ "name": "forger", "audiences": [taken] }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{taken}");
            let body: Value = res.json().await.unwrap();
            assert!(
                body["message"].as_str().unwrap().contains("reserved")
                    || body["message"]
                        .as_str()
                        .unwrap()
                        .contains("admin tool clients"),
                "{body}"
            );
            let res = app
                .client
                .patch(app.url("/api/v1/tenant"))
                .header("authorization", &bearer)
                .json(&json!({ "audience": taken }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{taken}");
        }
        // The tenant's own derived audience and its own APIs' are fine.
        for fine in [own.as_str(), "https://api.mallory.example"] {
            let res = app
                .client
                .post(app.url("/api/v1/apps"))
                .header("authorization", &bearer)
                .json(&json!({ "name": "fine", "audiences": [fine] }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::CREATED, "{fine}");
            assert_eq!(
                res.headers()["cache-control"],
                "no-store",
                "the answer holds the first secret"
            );
        }
    }
}

fn urlencoding(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}
