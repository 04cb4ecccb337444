//! The code and refresh grants end to end at the service level, on both engines, with the
//! clock in the test's hand: authorize → consent → code → tokens → refresh.

use std::{sync::Arc, time::Duration};

use crate::{
    domain::{
        authorize::encode,
        jwt::Alg,
        membership::{MemberChange, Role},
        oauth::{ErrorCode, FormParams},
        pkce,
    },
    model::apps::{ClientType, Visibility},
    services::{
        accounts::{Principal, change_member},
        apps::{self, AppDraft},
        connected_apps,
        oauth::{
            IssuedToken, ManualClock, OAuthService, TokenError, TokenRequest,
            authorize::{AuthorizeOutcome, SignedInPerson},
        },
        tenant::add_scope,
        testkit::{NOW, PUBLIC_URL, added, admin, draft, hasher, master_key, signed_up},
    },
    store::{Database, testkit::for_each_migrated_engine},
};

pub(super) const CALLBACK: &str = "https://app.example.com/callback";
pub(super) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub(super) struct Fixture {
    pub(super) db: Database,
    pub(super) clock: ManualClock,
    pub(super) oauth: OAuthService,
    pub(super) owner: Principal,
    /// A confidential app with a callback, and its secret.
    pub(super) client_id: String,
    pub(super) secret: String,
    /// A public app (PKCE, no secret), visible to other tenants.
    pub(super) public_id: String,
    /// A member of the apps' tenant, signed in.
    pub(super) person: SignedInPerson,
}

impl Fixture {
    pub(super) async fn new(db: Database) -> Fixture {
        let clock = ManualClock::at(NOW);
        let oauth = OAuthService::start(
            db.clone(),
            hasher(),
            master_key(),
            PUBLIC_URL.into(),
            Alg::Es256,
            Duration::from_secs(3600),
            Arc::new(clock.clone()),
            Default::default(),
        )
        .await
        .unwrap();
        let owner = admin(&db, "owner@example.com", NOW).await;
        add_scope(&db, &owner, "orders:read", "Read your orders.", None, NOW)
            .await
            .unwrap();
        let scopes = vec!["orders:read".to_string()];
        let confidential = apps::create_app(
            &db,
            &hasher(),
            PUBLIC_URL,
            &owner,
            AppDraft {
                scopes: scopes.clone(),
                ..draft("Orders")
            },
            None,
            NOW,
        )
        .await
        .unwrap();
        let public = apps::create_app(
            &db,
            &hasher(),
            PUBLIC_URL,
            &owner,
            AppDraft {
                scopes,
                client_type: ClientType::Public,
                visibility: Visibility::Public,
                ..draft("Orders CLI")
            },
            None,
            NOW,
        )
        .await
        .unwrap();
        let user = signed_up(&db, "pat@example.com", NOW).await;
        let member = added(
            &db,
            &owner,
            "pat@example.com",
            &user.user_id,
            Role::Developer,
            NOW,
        )
        .await;
        Fixture {
            clock,
            oauth,
            client_id: confidential.app.client_id,
            secret: confidential.first_secret.unwrap().plaintext,
            public_id: public.app.client_id,
            person: SignedInPerson {
                user_id: member.user_id,
                tenant_id: member.tenant_id,
                auth_time: NOW - 5,
            },
            owner,
            db,
        }
    }

    pub(super) fn query(&self, client_id: &str, scope: &str, extra: &str) -> String {
        format!(
            "response_type=code&client_id={client_id}&redirect_uri={}&scope={}&state=s1&code_challenge={}&code_challenge_method=S256{extra}",
            encode(CALLBACK),
            encode(scope),
            pkce::s256(VERIFIER)
        )
    }

    /// Authorizes `query` as `person`, allowing on the consent page when asked; the code.
    pub(super) async fn code_for(&self, query: &str, person: &SignedInPerson) -> String {
        let mut outcome = self.oauth.authorize(None, query, Some(person)).await;
        if outcome == AuthorizeOutcome::Consent {
            outcome = self
                .oauth
                .decide_consent(query, person, true, None, None)
                .await;
        }
        let AuthorizeOutcome::Redirect(url) = outcome else {
            panic!("expected a redirect, got {outcome:?}");
        };
        param(&url, "code").unwrap_or_else(|| panic!("no code in {url}"))
    }

    pub(super) async fn post(&self, body: &str) -> Result<IssuedToken, TokenError> {
        let form = FormParams::parse(body.as_bytes()).unwrap();
        let request = TokenRequest {
            authorization: None,
            form: &form,
            ip: Some("10.0.0.9"),
            tenant: None,
        };
        self.oauth.token(request).await
    }

    pub(super) async fn exchange(&self, code: &str) -> Result<IssuedToken, TokenError> {
        self.post(&format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}&client_id={}&client_secret={}",
            encode(CALLBACK),
            self.client_id,
            self.secret
        ))
        .await
    }

    pub(super) async fn refresh(&self, token: &str) -> Result<IssuedToken, TokenError> {
        self.post(&format!(
            "grant_type=refresh_token&refresh_token={token}&client_id={}&client_secret={}",
            self.client_id, self.secret
        ))
        .await
    }

    /// A fresh sign-in of the confidential app: its tokens.
    pub(super) async fn signed_in(&self, scope: &str) -> IssuedToken {
        let code = self
            .code_for(
                &self.query(&self.client_id, scope, "&nonce=n-1"),
                &self.person,
            )
            .await;
        self.exchange(&code).await.unwrap()
    }
}

/// A query parameter of `url`, decoded.
pub(super) fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

pub(super) fn error_code(result: Result<IssuedToken, TokenError>) -> Option<ErrorCode> {
    match result {
        Err(TokenError::OAuth(e)) => Some(e.code),
        _ => None,
    }
}

pub(super) fn claims(token: &str) -> serde_json::Value {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let payload = URL_SAFE_NO_PAD
        .decode(token.split('.').nth(1).unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

#[tokio::test]
async fn a_person_signs_in_to_an_app_and_it_gets_their_tokens() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let query = f.query(
            &f.client_id,
            "openid email profile orders:read",
            "&nonce=n-1",
        );
        assert_eq!(
            f.oauth.authorize(None, &query, None).await,
            AuthorizeOutcome::SignIn,
            "nobody signed in: to the sign-in page"
        );
        assert_eq!(
            f.oauth.authorize(None, &query, Some(&f.person)).await,
            AuthorizeOutcome::Consent
        );
        let view = f.oauth.consent_view(&query, &f.person).await.unwrap();
        assert_eq!(view.app_name, "Orders");
        assert!(view.yours);
        let described = view
            .scopes
            .iter()
            .find(|s| s.name == "orders:read")
            .unwrap();
        assert_eq!(described.description, "Read your orders.");

        let AuthorizeOutcome::Redirect(url) = f
            .oauth
            .decide_consent(&query, &f.person, true, None, None)
            .await
        else {
            panic!("Allow sends the browser back");
        };
        assert!(url.starts_with(CALLBACK));
        assert_eq!(param(&url, "state").as_deref(), Some("s1"));
        assert_eq!(
            param(&url, "iss").unwrap(),
            format!("{PUBLIC_URL}/t/{}", f.owner.tenant_id)
        );

        let summaries = apps::list_app_summaries(&f.db, &f.owner, NOW)
            .await
            .unwrap();
        let orders = summaries
            .iter()
            .find(|s| s.app.client_id == f.client_id)
            .unwrap();
        assert_eq!(
            orders.authorised_by, 1,
            "the owner sees one person authorised it"
        );

        let issued = f.exchange(&param(&url, "code").unwrap()).await.unwrap();
        let access = claims(&issued.access_token);
        assert_eq!(access["sub"], f.person.user_id.as_str());
        assert_eq!(access["client_id"], f.client_id.as_str());
        assert_eq!(access["tenant"], f.owner.tenant_id.as_str());
        assert_eq!(issued.scope, "openid email profile orders:read");
        assert!(issued.refresh_token.as_deref().unwrap().starts_with("kpr_"));
        let id = claims(
            issued
                .id_token
                .as_deref()
                .expect("openid gives an ID token"),
        );
        assert_eq!(id["aud"], f.client_id.as_str());
        assert_eq!(id["nonce"], "n-1");
        assert_eq!(id["auth_time"], NOW - 5);
        assert_eq!(id["email"], "pat@example.com");
        let info = f.oauth.userinfo(None, &issued.access_token).await.unwrap();
        assert_eq!(info["email"], "pat@example.com");

        // Consent is remembered: the next sign-in goes straight back with a code.
        let again = f.oauth.authorize(None, &query, Some(&f.person)).await;
        assert!(matches!(again, AuthorizeOutcome::Redirect(ref u) if param(u, "code").is_some()));
        let asked = f.query(&f.client_id, "openid", "&prompt=consent");
        assert_eq!(
            f.oauth.authorize(None, &asked, Some(&f.person)).await,
            AuthorizeOutcome::Consent
        );
    })
    .await;
}

#[tokio::test]
async fn a_code_works_once_and_a_replay_revokes_what_it_gave() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let code = f
            .code_for(&f.query(&f.client_id, "orders:read", ""), &f.person)
            .await;
        let first = f.exchange(&code).await.unwrap();
        assert_eq!(
            error_code(f.exchange(&code).await),
            Some(ErrorCode::InvalidGrant)
        );
        assert_eq!(
            error_code(f.refresh(first.refresh_token.as_deref().unwrap()).await),
            Some(ErrorCode::InvalidGrant),
            "the refresh token the first use gave is dead"
        );
        let verified = f
            .oauth
            .verify(&first.access_token, f.oauth.now())
            .await
            .unwrap();
        assert!(verified.is_none(), "and so is its access token");
    })
    .await;
}

#[tokio::test]
async fn a_code_lives_sixty_seconds() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let query = f.query(&f.client_id, "orders:read", "");
        let code = f.code_for(&query, &f.person).await;
        f.clock.advance(59);
        assert!(f.exchange(&code).await.is_ok());
        let late = f.code_for(&query, &f.person).await;
        f.clock.advance(60);
        assert_eq!(
            error_code(f.exchange(&late).await),
            Some(ErrorCode::InvalidGrant)
        );
    })
    .await;
}

#[tokio::test]
async fn pkce_binds_the_code_and_public_clients_must_use_it() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let without = format!(
            "response_type=code&client_id={}&scope=orders:read&state=s",
            f.public_id
        );
        let AuthorizeOutcome::Redirect(url) = f.oauth.authorize(None, &without, Some(&f.person)).await else {
            panic!("a public client without PKCE is sent back an error");
        };
        assert_eq!(param(&url, "error").as_deref(), Some("invalid_request"));

        let code = f.code_for(&f.query(&f.public_id, "orders:read", ""), &f.person).await;
        let wrong = format!(
            "grant_type=authorization_code&code={code}&client_id={}&redirect_uri={}&code_verifier={}",
            f.public_id, encode(CALLBACK), "x".repeat(43)
        );
        assert_eq!(error_code(f.post(&wrong).await), Some(ErrorCode::InvalidGrant));

        // A confidential client that used no challenge may not send a verifier (downgrade).
        let plain_query = format!(
            "response_type=code&client_id={}&scope=orders:read&redirect_uri={}",
            f.client_id,
            encode(CALLBACK)
        );
        let code = f.code_for(&plain_query, &f.person).await;
        assert_eq!(error_code(f.exchange(&code).await), Some(ErrorCode::InvalidGrant));

        let code = f.code_for(&f.query(&f.public_id, "orders:read", ""), &f.person).await;
        let right = format!(
            "grant_type=authorization_code&code={code}&client_id={}&redirect_uri={}&code_verifier={VERIFIER}",
            f.public_id, encode(CALLBACK)
        );
        let issued = f.post(&right).await.unwrap();
        let refresh = format!(
            "grant_type=refresh_token&client_id={}&refresh_token={}",
            f.public_id,
            issued.refresh_token.unwrap()
        );
        assert!(f.post(&refresh).await.is_ok(), "a public client refreshes with its id alone");
    })
    .await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_family() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let first = f.signed_in("orders:read").await.refresh_token.unwrap();
        let second = f.refresh(&first).await.unwrap().refresh_token.unwrap();
        assert_ne!(first, second);
        let third = f.refresh(&second).await.unwrap().refresh_token.unwrap();
        assert_eq!(
            error_code(f.refresh(&first).await),
            Some(ErrorCode::InvalidGrant)
        );
        assert_eq!(
            error_code(f.refresh(&third).await),
            Some(ErrorCode::InvalidGrant),
            "the newest token of the family died with it"
        );
        let other = f.signed_in("orders:read").await.refresh_token.unwrap();
        assert!(
            f.refresh(&other).await.is_ok(),
            "another sign-in's family lives on"
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_yield_one_success() {
    for_each_migrated_engine(|db| async move {
        let f = Arc::new(Fixture::new(db).await);
        let token = f.signed_in("orders:read").await.refresh_token.unwrap();
        let attempts = (0..8).map(|_| {
            let (f, token) = (f.clone(), token.clone());
            tokio::spawn(async move { f.refresh(&token).await.is_ok() })
        });
        let results = futures::future::join_all(attempts).await;
        let wins = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
        assert_eq!(wins, 1);
    })
    .await;
}

#[tokio::test]
async fn refresh_tokens_expire_idle_and_absolutely() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let day = 24 * 3600;
        let idle = f.signed_in("orders:read").await.refresh_token.unwrap();
        f.clock.advance(30 * day);
        assert_eq!(
            error_code(f.refresh(&idle).await),
            Some(ErrorCode::InvalidGrant)
        );

        let mut token = f.signed_in("orders:read").await.refresh_token.unwrap();
        for _ in 0..3 {
            f.clock.advance(29 * day);
            token = f.refresh(&token).await.unwrap().refresh_token.unwrap();
        }
        f.clock.advance(3 * day);
        assert_eq!(
            error_code(f.refresh(&token).await),
            Some(ErrorCode::InvalidGrant),
            "90 days after the sign-in, however active"
        );
    })
    .await;
}

#[tokio::test]
async fn refresh_tokens_outlive_a_secret_refresh_and_die_with_the_consent_or_membership() {
    for_each_migrated_engine(|db| async move {
        let mut f = Fixture::new(db).await;
        let token = f.signed_in("orders:read").await.refresh_token.unwrap();
        let secret_id = apps::list_secrets(&f.db, &f.owner, &f.client_id, NOW)
            .await
            .unwrap()[0]
            .id
            .clone();
        let fresh = apps::refresh_secret(
            &f.db,
            &hasher(),
            &f.owner,
            &f.client_id,
            &secret_id,
            0,
            None,
            NOW,
        )
        .await
        .unwrap();
        f.secret = fresh.plaintext;
        let token = f
            .refresh(&token)
            .await
            .expect("seed 001: user tokens survive")
            .refresh_token
            .unwrap();

        connected_apps::revoke_app(&f.db, &f.person.user_id, &f.client_id, None, NOW)
            .await
            .unwrap();
        assert_eq!(
            error_code(f.refresh(&token).await),
            Some(ErrorCode::InvalidGrant)
        );
        let listed = connected_apps::connected_apps(&f.db, &f.person.user_id)
            .await
            .unwrap();
        assert!(listed.is_empty());

        let token = f.signed_in("orders:read").await.refresh_token.unwrap();
        change_member(
            &f.db,
            &f.owner,
            &f.person.user_id,
            MemberChange::Remove,
            None,
            NOW,
        )
        .await
        .unwrap();
        assert_eq!(
            error_code(f.refresh(&token).await),
            Some(ErrorCode::InvalidGrant),
            "leaving the tenant ends them"
        );
    })
    .await;
}

#[tokio::test]
async fn a_private_app_is_for_its_own_tenant_and_a_public_app_for_anyone() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let stranger = signed_up(&f.db, "stranger@other.example", NOW).await;
        let stranger = SignedInPerson {
            user_id: stranger.user_id,
            tenant_id: stranger.tenant_id,
            auth_time: NOW,
        };
        let private = f.query(&f.client_id, "orders:read", "");
        // A stranger to the app: told on a page, with the way back, not bounced at once.
        let AuthorizeOutcome::ReturnToApp(back) = f.oauth.authorize(None, &private, Some(&stranger)).await else {
            panic!("refused with a page");
        };
        assert_eq!(param(&back.url, "error").as_deref(), Some("access_denied"));
        assert!(f.oauth.consent_view(&private, &stranger).await.is_err());

        let public = f.query(&f.public_id, "orders:read", "");
        let code = f.code_for(&public, &stranger).await;
        let body = format!(
            "grant_type=authorization_code&code={code}&client_id={}&redirect_uri={}&code_verifier={VERIFIER}",
            f.public_id, encode(CALLBACK)
        );
        let issued = f.post(&body).await.unwrap();
        let access = claims(&issued.access_token);
        assert_eq!(access["tenant"], stranger.tenant_id.as_str(), "the person's tenant");
        assert_eq!(access["iss"], format!("{PUBLIC_URL}/t/{}", f.owner.tenant_id));
        assert!(f.oauth.verify(&issued.access_token, NOW).await.unwrap().is_some());
        assert!(
            f.oauth.management_principal(&issued.access_token).await.is_err(),
            "a person's token never opens the management API"
        );
    })
    .await;
}

#[tokio::test]
async fn errors_go_back_to_the_app_only_when_its_redirect_uri_is_known_good() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        for bad in [
            "https://app.example.com/callback/",
            "https://app.example.com/callback?x=1",
            "https://APP.example.com/callback",
            "https://app.example.com.evil.example/callback",
            "https://app.example.com/callback/..;/",
        ] {
            let query = format!(
                "response_type=code&client_id={}&redirect_uri={}&state=s",
                f.client_id,
                encode(bad)
            );
            let outcome = f.oauth.authorize(None, &query, Some(&f.person)).await;
            assert!(
                matches!(outcome, AuthorizeOutcome::ErrorPage(_)),
                "{bad}: {outcome:?}"
            );
        }
        let unknown = "response_type=code&client_id=kpc_0000000000000000000000&state=s";
        assert!(matches!(
            f.oauth.authorize(None, unknown, None).await,
            AuthorizeOutcome::ErrorPage(_)
        ));

        let bad_scope = f.query(&f.client_id, "orders:write", "");
        let AuthorizeOutcome::Redirect(url) =
            f.oauth.authorize(None, &bad_scope, Some(&f.person)).await
        else {
            panic!("a bad scope goes back to the app");
        };
        assert_eq!(param(&url, "error").as_deref(), Some("invalid_scope"));
        assert_eq!(param(&url, "state").as_deref(), Some("s1"));
        assert!(param(&url, "iss").is_some());

        let none = f.query(&f.client_id, "orders:read", "&prompt=none");
        let AuthorizeOutcome::ReturnToApp(back) = f.oauth.authorize(None, &none, None).await else {
            panic!("nobody signed in is not known to trust the app: a page");
        };
        assert_eq!(param(&back.url, "error").as_deref(), Some("login_required"));
        let AuthorizeOutcome::Redirect(url) = f.oauth.authorize(None, &none, Some(&f.person)).await
        else {
            panic!();
        };
        assert_eq!(param(&url, "error").as_deref(), Some("consent_required"));

        let query = f.query(&f.client_id, "orders:read", "");
        let AuthorizeOutcome::Redirect(url) = f
            .oauth
            .decide_consent(&query, &f.person, false, None, None)
            .await
        else {
            panic!();
        };
        assert_eq!(param(&url, "error").as_deref(), Some("access_denied"));
        assert_eq!(param(&url, "state").as_deref(), Some("s1"));
    })
    .await;
}
