//! The code flow over HTTP (SPEC §3a): the authorization endpoint's answers (error page,
//! sign-in, consent, redirect), the consent form, the token response and userinfo. The
//! service tests cover the rules; these cover what a browser and an app see on the wire.

use reqwest::StatusCode;
use serde_json::Value;
use server_fn::ServerFn;

use app::{
    domain::{authorize::encode, pkce},
    server_fns::{auth::SignIn, consent::DecideConsent},
};

use crate::helpers::{
    PASSWORD, TestApp, access_token, basic, client, create_app, draft, session_cookie, spawn_apps,
    tenant, user,
};

const CALLBACK: &str = "http://127.0.0.1:9/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

struct Flow {
    tenant_id: String,
    client_id: String,
    secret: String,
    cookie: String,
}

/// A confidential app with a callback in tenant "acme", and a member of acme signed in.
async fn flow(app: &TestApp) -> Flow {
    let tenant_id = tenant(&app.db, "acme").await;
    let created = create_app(&app.db, &tenant_id, draft("Orders web").callback(CALLBACK)).await;
    user(&app.db, "pat@acme.example", "acme", false).await;
    let res = app.sign_in("pat@acme.example", PASSWORD).await;
    let cookie = session_cookie(res.headers()).expect("signed in");
    Flow {
        tenant_id,
        client_id: created.app.client_id,
        secret: created.first_secret.unwrap().plaintext,
        cookie,
    }
}

fn authorize_query(client_id: &str, scope: &str) -> String {
    format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope={}&state=st&nonce=nn&code_challenge={}&code_challenge_method=S256",
        encode(CALLBACK),
        encode(scope),
        pkce::s256(VERIFIER)
    )
}

async fn get_with(app: &TestApp, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url(path));
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.send().await.unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn param(url: &str, name: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// The token response of a code flow run by `cookie`'s person for `client_id` in `tenant_id`:
/// consent allowed on the portal's form, then the code exchanged with `auth` (HTTP Basic) or,
/// for a public client, with its `client_id` alone.
async fn code_flow_tokens(
    app: &TestApp,
    tenant_id: &str,
    cookie: &str,
    client_id: &str,
    auth: Option<&str>,
    scope: &str,
) -> Value {
    let query = authorize_query(client_id, scope);
    let res = app
        .call(
            DecideConsent::PATH,
            &[("query", &query), ("decision", "allow")],
            Some(cookie),
        )
        .await;
    let back = location(&res);
    let code = param(&back, "code").unwrap_or_else(|| panic!("no code in {back:?}"));
    let mut body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        encode(CALLBACK)
    );
    if auth.is_none() {
        body.push_str(&format!("&client_id={client_id}"));
    }
    let res = app
        .post_form(&format!("/t/{tenant_id}/oauth/token"), auth, &body)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[tokio::test]
async fn an_untrusted_client_or_redirect_gets_an_error_page_never_a_redirect() {
    for app in spawn_apps().await {
        let f = flow(&app).await;
        let other = tenant(&app.db, "other").await;
        let cases = [
            "/oauth/authorize?response_type=code&client_id=kpc_0000000000000000000000".to_string(),
            format!(
                "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}",
                f.client_id,
                encode("http://127.0.0.1:9/callback/")
            ),
            format!(
                "/t/{other}/oauth/authorize?{}",
                authorize_query(&f.client_id, "openid")
            ),
            "/oauth/authorize?client_id=a&client_id=b".to_string(),
        ];
        for path in cases {
            let res = get_with(&app, &path, Some(&f.cookie)).await;
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
            assert!(res.headers().get("location").is_none(), "{path}");
            let page = res.text().await.unwrap();
            assert!(page.contains("Cannot sign you in"), "{page}");
        }
    }
}

/// RFC 9700 §4.11.2: an error the app is owed goes straight to its callback only for someone
/// who trusts the app; anyone else gets the portal's own page, naming the app and the
/// callback's host, with one link there.
#[tokio::test]
async fn a_registered_callback_does_not_make_authorize_an_open_redirector() {
    for app in spawn_apps().await {
        let f = flow(&app).await;
        let lure = format!(
            "/oauth/authorize?response_type=token&client_id={}&state=lure",
            f.client_id
        );
        let res = get_with(&app, &lure, None).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.headers().get("location").is_none());
        let page = res.text().await.unwrap();
        assert!(
            page.contains("class=\"site-header\""),
            "the portal's page: {page}"
        );
        assert!(page.contains("Orders web could not sign you in"), "{page}");
        assert!(page.contains(">Return to 127.0.0.1</a>"), "{page}");
        let back =
            format!("href=\"{CALLBACK}?error=unsupported_response_type&amp;error_description=");
        assert!(page.contains(&back), "the link carries the error: {page}");
        assert!(page.contains("state=lure"), "{page}");

        // A member of the app's tenant trusts it: straight back.
        let res = get_with(&app, &lure, Some(&f.cookie)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = location(&res);
        assert!(to.starts_with(CALLBACK), "{to}");
        assert_eq!(
            param(&to, "error").as_deref(),
            Some("unsupported_response_type")
        );
    }
}

#[tokio::test]
async fn the_browser_signs_in_consents_and_the_app_gets_tokens() {
    for app in spawn_apps().await {
        let f = flow(&app).await;
        let issuer = app.issuer(&f.tenant_id);
        let query = authorize_query(&f.client_id, "openid email profile");
        let authorize = format!("/t/{}/oauth/authorize?{query}", f.tenant_id);

        // Nobody signed in: to the sign-in page, which brings them back.
        let res = get_with(&app, &authorize, None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to_sign_in = location(&res);
        assert_eq!(to_sign_in, format!("/signin?next={}", encode(&authorize)));
        let res = app
            .call(
                SignIn::PATH,
                &[
                    ("email", "pat@acme.example"),
                    ("password", PASSWORD),
                    ("next", &authorize),
                ],
                None,
            )
            .await;
        assert_eq!(location(&res), authorize);

        let res = get_with(&app, &authorize, Some(&f.cookie)).await;
        assert_eq!(location(&res), format!("/consent?{query}"));
        let page = get_with(&app, &format!("/consent?{query}"), Some(&f.cookie)).await;
        let html = page.text().await.unwrap();
        assert!(
            html.contains("Allow Orders web to use your account?"),
            "{html}"
        );

        // The consent form is the portal's: another site cannot post it.
        let forged = app
            .client
            .post(app.url(DecideConsent::PATH))
            .header("cookie", &f.cookie)
            .header("origin", "https://evil.example")
            .form(&[("query", query.as_str()), ("decision", "allow")])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);

        let res = app
            .call(
                DecideConsent::PATH,
                &[("query", &query), ("decision", "allow")],
                Some(&f.cookie),
            )
            .await;
        let back = location(&res);
        assert!(back.starts_with(CALLBACK), "{back}");
        assert_eq!(param(&back, "state").as_deref(), Some("st"));
        assert_eq!(param(&back, "iss").as_deref(), Some(issuer.as_str()));
        let code = param(&back, "code").unwrap();

        let body = format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
            encode(CALLBACK)
        );
        let res = app
            .post_form(
                &format!("/t/{}/oauth/token", f.tenant_id),
                Some(&basic(&f.client_id, &f.secret)),
                &body,
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let tokens: Value = res.json().await.unwrap();
        assert!(
            tokens["refresh_token"]
                .as_str()
                .unwrap()
                .starts_with("kpr_")
        );
        assert!(tokens["id_token"].is_string());
        let access = tokens["access_token"].as_str().unwrap();

        let info = app
            .client
            .get(app.url(&format!("/t/{}/oauth/userinfo", f.tenant_id)))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(info.status(), StatusCode::OK);
        let info: Value = info.json().await.unwrap();
        assert_eq!(info["email"], "pat@acme.example");

        // A client's own token has no person behind it.
        let service = client(&app.db, "acme", draft("batch")).await;
        let own = access_token(app.token_for(&service).await).await;
        let res = app
            .client
            .get(app.url("/oauth/userinfo"))
            .bearer_auth(&own)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
    }
}

/// RFC 6750 §2.2, pyoidc's default: on POST the token may be `access_token` in a form body
/// instead of the header, but in one place only (§2).
#[tokio::test]
async fn userinfo_takes_the_token_from_a_form_body_but_from_one_place_only() {
    for app in spawn_apps().await {
        let f = flow(&app).await;
        let auth = basic(&f.client_id, &f.secret);
        let tokens = code_flow_tokens(
            &app,
            &f.tenant_id,
            &f.cookie,
            &f.client_id,
            Some(&auth),
            "openid email",
        )
        .await;
        let access = tokens["access_token"].as_str().unwrap();
        let tenant_path = format!("/t/{}/oauth/userinfo", f.tenant_id);
        let post = |path: &str| app.client.post(app.url(path));

        for path in [tenant_path.as_str(), "/oauth/userinfo"] {
            let res = post(path)
                .form(&[("access_token", access)])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(res.headers()["cache-control"], "no-store");
            let info: Value = res.json().await.unwrap();
            assert_eq!(info["email"], "pat@acme.example", "{path}");
        }
        // The header still works, beside a form body that carries no token.
        let res = post(&tenant_path)
            .bearer_auth(access)
            .form(&[("schema", "openid")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);

        // More than one method, or the token twice, is refused before the token is looked at.
        let twice = [
            post(&tenant_path)
                .bearer_auth(access)
                .form(&[("access_token", access)]),
            post(&tenant_path).form(&[("access_token", access), ("access_token", access)]),
            post(&format!("{tenant_path}?access_token={access}")).bearer_auth(access),
            post(&format!("{tenant_path}?access_token={access}")).form(&[("access_token", access)]),
        ];
        for (i, req) in twice.into_iter().enumerate() {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "case {i}");
            assert!(
                res.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .contains("error=\"invalid_request\""),
                "case {i}"
            );
            let error: Value = res.json().await.unwrap();
            assert_eq!(error["error"], "invalid_request", "case {i}");
        }

        // A token in the URL (RFC 6750 §2.3) ends up in logs: refused, not ignored.
        let res = app
            .client
            .get(app.url(&format!("{tenant_path}?access_token={access}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let error: Value = res.json().await.unwrap();
        assert_eq!(error["error"], "invalid_request");

        // A body of another content type is not read: no token there, so none at all.
        let res = post(&tenant_path)
            .json(&serde_json::json!({ "access_token": access }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = post(&tenant_path)
            .bearer_auth(access)
            .json(&serde_json::json!({ "access_token": access }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);

        // The body is as small as every OAuth form's.
        let padding = "x".repeat(server::http::oauth::MAX_FORM_BYTES);
        let res = post(&tenant_path)
            .form(&[("access_token", access), ("padding", padding.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

        // A client's own token in the body has no person behind it either.
        let service = client(&app.db, "acme", draft("batch")).await;
        let own = access_token(app.token_for(&service).await).await;
        let res = post(&tenant_path)
            .form(&[("access_token", own.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn sign_in_returns_only_to_paths_on_this_server() {
    for app in spawn_apps().await {
        user(&app.db, "sam@acme.example", "acme", false).await;
        for next in [
            "//evil.example/x",
            "https://evil.example/",
            "/\\evil.example",
            "/\t/evil.example",
        ] {
            let res = app
                .call(
                    SignIn::PATH,
                    &[
                        ("email", "sam@acme.example"),
                        ("password", PASSWORD),
                        ("next", next),
                    ],
                    None,
                )
                .await;
            assert_eq!(location(&res), "/apps", "{next:?}");
        }
    }
}

#[tokio::test]
async fn an_app_without_the_code_grant_is_unauthorized_client() {
    for app in spawn_apps().await {
        // Made without a callback: client credentials only.
        let service = client(&app.db, "acme", draft("batch")).await;
        let body = format!("grant_type=authorization_code&code=kpa_{}", "a".repeat(43));
        let res = app
            .post_form(
                "/oauth/token",
                Some(&basic(&service.client_id, &service.secret)),
                &body,
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let error: Value = res.json().await.unwrap();
        assert_eq!(error["error"], "unauthorized_client");

        let tenant_id = tenant(&app.db, "acme").await;
        let public = create_app(&app.db, &tenant_id, draft("cli").public(CALLBACK)).await;
        let body = format!(
            "grant_type=client_credentials&client_id={}",
            public.app.client_id
        );
        let res = app.post_form("/oauth/token", None, &body).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "a public client has no secret to show"
        );
    }
}

#[tokio::test]
async fn discovery_lists_the_openid_connect_fields() {
    for app in spawn_apps().await {
        let tenant_id = tenant(&app.db, "acme").await;
        let issuer = app.issuer(&tenant_id);
        let meta: Value = app
            .get_json(&format!("/t/{tenant_id}/.well-known/openid-configuration"))
            .await;
        assert_eq!(
            meta["authorization_endpoint"],
            format!("{issuer}/oauth/authorize")
        );
        assert_eq!(
            meta["userinfo_endpoint"],
            format!("{issuer}/oauth/userinfo")
        );
        assert_eq!(
            meta["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(
            meta["response_types_supported"],
            serde_json::json!(["code"])
        );
        assert_eq!(
            meta["subject_types_supported"],
            serde_json::json!(["public"])
        );
        assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
        let grants = meta["grant_types_supported"].as_array().unwrap();
        for grant in ["authorization_code", "refresh_token", "client_credentials"] {
            assert!(grants.iter().any(|g| g == grant), "{grant}");
        }
        let scopes = meta["scopes_supported"].as_array().unwrap();
        assert!(scopes.iter().any(|s| s == "openid"));
        assert!(
            meta["token_endpoint_auth_methods_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "none")
        );
        // Public clients revoke with their id alone (RFC 7009 §2.1), so discovery says
        // `none` there too; introspection stays for confidential clients.
        assert_eq!(
            meta["revocation_endpoint_auth_methods_supported"],
            serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
        );
        assert_eq!(
            meta["introspection_endpoint_auth_methods_supported"],
            serde_json::json!(["client_secret_basic", "client_secret_post"])
        );

        // And it is so: a public client's refresh token, revoked with `client_id` only.
        let public = create_app(&app.db, &tenant_id, draft("Orders CLI").public(CALLBACK)).await;
        let client_id = public.app.client_id;
        user(&app.db, "pat@acme.example", "acme", false).await;
        let res = app.sign_in("pat@acme.example", PASSWORD).await;
        let cookie = session_cookie(res.headers()).expect("signed in");
        let tokens = code_flow_tokens(&app, &tenant_id, &cookie, &client_id, None, "openid").await;
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let res = app
            .post_form(
                &format!("/t/{tenant_id}/oauth/revoke"),
                None,
                &format!("token={refresh}&client_id={client_id}"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app
            .post_form(
                &format!("/t/{tenant_id}/oauth/token"),
                None,
                &format!("grant_type=refresh_token&refresh_token={refresh}&client_id={client_id}"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let error: Value = res.json().await.unwrap();
        assert_eq!(error["error"], "invalid_grant");
    }
}
