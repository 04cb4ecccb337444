//! The client-credentials grant (RFC 6749 §4.4): a confidential client trades its own
//! credentials for an access token. Its storage is the client cache ([`super::super::clients`]).

use std::time::Instant;

use super::TokenRequest;
use crate::{
    domain::{
        grant_types::GrantType,
        oauth::{ClientCredentials, FormParams, OAuthError},
    },
    services::{
        metrics::{AuthFailure, TokenGrant, TokenOutcome},
        oauth::{IssuedToken, OAuthService, TokenError},
    },
};

pub(super) async fn handle(
    service: &OAuthService,
    request: &TokenRequest<'_>,
    now: i64,
) -> Result<IssuedToken, TokenError> {
    let client = service.caller(request, now).await?;
    super::require_grant(&client, GrantType::ClientCredentials)?;
    service.issue_access_token(&client, request.form, now)
}

impl OAuthService {
    /// The JSON variant (seed 003): tenant, client id and secret in a JSON body; all the
    /// app's scopes, the tenant's default audience. Counted as the `json` grant.
    pub async fn token_for(
        &self,
        tenant_id: &str,
        client_id: &str,
        client_secret: &str,
        ip: Option<&str>,
    ) -> Result<IssuedToken, TokenError> {
        let started = Instant::now();
        let result = self
            .json_token(tenant_id, client_id, client_secret, ip)
            .await;
        self.metrics()
            .token_answered(TokenGrant::Json, TokenOutcome::of(&result), started);
        result
    }

    async fn json_token(
        &self,
        tenant_id: &str,
        client_id: &str,
        client_secret: &str,
        ip: Option<&str>,
    ) -> Result<IssuedToken, TokenError> {
        let credentials = ClientCredentials {
            client_id: client_id.to_string(),
            client_secret: Some(client_secret.to_string()),
            via_basic: false,
        };
        let now = self.now();
        let client = self.authenticate(&credentials, ip, now).await?;
        if client.tenant_id != tenant_id {
            let refused = OAuthError::invalid_client(false);
            return Err(self.auth_refused(AuthFailure::WrongIssuer, refused).into());
        }
        super::require_grant(&client, GrantType::ClientCredentials)?;
        self.issue_access_token(&client, &FormParams::default(), now)
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use crate::{
        domain::{
            jwt::Alg,
            oauth::{ErrorCode, FormParams},
        },
        services::{
            accounts::Principal,
            apps::{self, AppDraft, Expiry},
            keys::rotate_keys,
            metrics::{AuthFailure, Limit, TokenGrant, TokenOutcome},
            oauth::{
                FAILURE_WINDOW_SECS, FAILURES_PER_CLIENT_AND_ADDRESS, IssuedToken, ManualClock,
                OAuthService, TokenError, TokenRequest,
            },
            testkit::{NOW, PUBLIC_URL, admin, draft, hasher, master_key},
        },
        store::{Database, testkit::for_each_migrated_engine},
    };
    const IP: &str = "10.0.0.7";

    /// A service whose time only moves when the test says, and one confidential client.
    struct Fixture {
        db: Database,
        clock: ManualClock,
        oauth: OAuthService,
        by: Principal,
        client_id: String,
        secret: String,
    }

    impl Fixture {
        async fn new(db: Database) -> Fixture {
            let clock = ManualClock::at(NOW);
            let oauth = OAuthService::start(
                db.clone(),
                hasher(),
                master_key(),
                "https://id.example.com".into(),
                Alg::Es256,
                Duration::from_secs(3600),
                Arc::new(clock.clone()),
                Default::default(),
            )
            .await
            .unwrap();
            let by = admin(&db, "ann@example.com", NOW).await;
            let draft = AppDraft {
                callback_url: None,
                token_lifetime_secs: 600,
                ..draft("Orders")
            };
            let created = apps::create_app(&db, &hasher(), PUBLIC_URL, &by, draft, None, NOW)
                .await
                .unwrap();
            Fixture {
                db,
                clock,
                oauth,
                by,
                client_id: created.app.client_id,
                secret: created.first_secret.unwrap().plaintext,
            }
        }

        async fn token_with(&self, secret: &str) -> Result<IssuedToken, TokenError> {
            let body = format!(
                "grant_type=client_credentials&client_id={}&client_secret={secret}",
                self.client_id
            );
            self.request(&body, None).await
        }

        /// A token request with this form body, at `tenant`'s issuer when given.
        async fn request(
            &self,
            body: &str,
            tenant: Option<&str>,
        ) -> Result<IssuedToken, TokenError> {
            let form = FormParams::parse(body.as_bytes()).unwrap();
            let request = TokenRequest {
                authorization: None,
                form: &form,
                ip: Some(IP),
                tenant,
            };
            self.oauth.token(request).await
        }

        async fn token(&self) -> Result<IssuedToken, TokenError> {
            self.token_with(&self.secret).await
        }
    }

    /// The `kid` in a JWT's header.
    fn kid(token: &str) -> String {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let header = URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap();
        let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
        header["kid"].as_str().unwrap().to_string()
    }

    fn invalid_client(result: Result<IssuedToken, TokenError>) -> bool {
        matches!(result, Err(TokenError::OAuth(e)) if e.code == ErrorCode::InvalidClient)
    }

    #[tokio::test]
    async fn a_token_lives_its_lifetime_by_the_service_clock() {
        for_each_migrated_engine(|db| async move {
            let f = Fixture::new(db).await;
            let issued = f.token().await.unwrap();
            assert_eq!(issued.expires_in, 600);
            let claims = f.oauth.verify(&issued.access_token, NOW).await.unwrap();
            let claims = claims.expect("valid when issued");
            assert_eq!((claims.iat, claims.exp), (NOW, NOW + 600));

            f.clock.advance(599);
            let still = f.oauth.verify(&issued.access_token, f.oauth.now()).await;
            assert!(still.unwrap().is_some(), "valid one second before expiry");
            f.clock.advance(1);
            let after = f.oauth.verify(&issued.access_token, f.oauth.now()).await;
            assert!(after.unwrap().is_none(), "expired at exp");
        })
        .await;
    }

    #[tokio::test]
    async fn a_secret_stops_working_when_its_expiry_passes() {
        for_each_migrated_engine(|db| async move {
            let f = Fixture::new(db).await;
            let short = apps::add_secret(
                &f.db,
                &hasher(),
                &f.by,
                &f.client_id,
                "short-lived",
                Expiry::At(NOW + 120),
                None,
                NOW,
            )
            .await
            .unwrap();
            f.clock.advance(119);
            assert!(f.token_with(&short.plaintext).await.is_ok());
            f.clock.advance(1);
            assert!(invalid_client(f.token_with(&short.plaintext).await));
            assert!(f.token().await.is_ok(), "the other secret still works");
        })
        .await;
    }

    #[tokio::test]
    async fn only_failures_are_throttled_and_the_right_secret_always_gets_in() {
        for_each_migrated_engine(|db| async move {
            let f = Fixture::new(db).await;
            for _ in 0..FAILURES_PER_CLIENT_AND_ADDRESS {
                assert!(invalid_client(f.token_with("wrong").await));
            }
            f.clock.advance(FAILURE_WINDOW_SECS - 1);
            assert!(
                matches!(
                    f.token_with("wrong").await,
                    Err(TokenError::Throttled { retry_after: 1 })
                ),
                "a wrong secret waits out the window"
            );
            assert!(
                f.token().await.is_ok(),
                "the right secret from the same address is never throttled"
            );
            f.clock.advance(1);
            assert!(invalid_client(f.token_with("wrong").await));
        })
        .await;
    }

    /// Another instance revokes every secret of `client_id`: the shared counter moves, and
    /// nothing was committed by this process.
    async fn revoked_elsewhere(db: &Database, client_id: &str) {
        crate::store::on_pool!(db, pool => {
            sqlx::query("UPDATE client_secrets SET revoked_at = $1 WHERE client_id = $2")
                .bind(NOW - 1)
                .bind(client_id)
                .execute(pool)
                .await
                .unwrap();
            sqlx::query("UPDATE change_counter SET generation = generation + 1 WHERE id = 1")
                .execute(pool)
                .await
                .unwrap();
        });
    }

    #[tokio::test]
    async fn an_instance_left_on_a_replaced_master_key_keeps_serving_and_following_changes() {
        use crate::{domain::sealing::MasterKey, services::sealing::rewrap};
        for_each_migrated_engine(|db| async move {
            let f = Fixture::new(db).await;
            let new = MasterKey::from_bytes([50u8; 32]);
            rewrap(&f.db, &master_key(), &new, NOW).await.unwrap();
            let refused = f.oauth.follow_changes().await.unwrap_err().to_string();
            assert!(
                refused.contains(new.id()) && refused.contains(master_key().id()),
                "says which master key the keys need: {refused}"
            );
            assert!(f.token().await.is_ok(), "signs with the keys it holds");

            revoked_elsewhere(&f.db, &f.client_id).await;
            assert!(f.oauth.follow_changes().await.is_err());
            assert!(
                invalid_client(f.token().await),
                "a secret revoked by another instance stops working here too"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn failed_authentications_are_counted_by_reason_and_refusals_as_throttled() {
        for_each_migrated_engine(|db| async move {
            let f = Fixture::new(db).await;
            let grant = "grant_type=client_credentials";
            f.token().await.unwrap();
            let unknown = format!("{grant}&client_id=kpc_{}&client_secret=x", "0".repeat(22));
            let attempts = [
                (
                    AuthFailure::BadSecret,
                    format!("{grant}&client_id={}&client_secret=no", f.client_id),
                ),
                (AuthFailure::UnknownClient, unknown),
                (
                    AuthFailure::Malformed,
                    format!("{grant}&client_id=nope&client_secret=x"),
                ),
                (AuthFailure::Missing, grant.to_string()),
                (
                    AuthFailure::Missing,
                    format!("{grant}&client_id={}", f.client_id),
                ),
            ];
            for (_, body) in &attempts {
                assert!(invalid_client(f.request(body, None).await), "{body}");
            }
            let right = format!(
                "{grant}&client_id={}&client_secret={}",
                f.client_id, f.secret
            );
            let elsewhere = f.request(&right, Some("another-tenant")).await;
            assert!(invalid_client(elsewhere));

            let m = f.oauth.metrics();
            for (reason, expected) in [
                (AuthFailure::BadSecret, 1),
                (AuthFailure::UnknownClient, 1),
                (AuthFailure::Malformed, 1),
                (AuthFailure::Missing, 2),
                (AuthFailure::WrongIssuer, 1),
                (AuthFailure::Disabled, 0),
            ] {
                assert_eq!(m.auth_failure_count(reason), expected, "{reason:?}");
            }
            let cc = TokenGrant::ClientCredentials;
            let invalid = TokenOutcome::Refused(ErrorCode::InvalidClient);
            assert_eq!(m.token_count(cc, TokenOutcome::Issued), 1);
            assert_eq!(m.token_count(cc, invalid), 6);

            // Two failures above named this client (a wrong secret, none); more reach the
            // limit, and the next is refused, counted as throttled and not as a failure.
            for _ in 2..FAILURES_PER_CLIENT_AND_ADDRESS {
                assert!(invalid_client(f.token_with("wrong").await));
            }
            let refused = f.token_with("wrong").await;
            assert!(matches!(refused, Err(TokenError::Throttled { .. })));
            assert_eq!(
                m.auth_failure_count(AuthFailure::BadSecret),
                u64::from(FAILURES_PER_CLIENT_AND_ADDRESS) - 1
            );
            assert_eq!(m.throttled_count(Limit::ClientAuthentication), 1);
            assert_eq!(m.token_count(cc, TokenOutcome::Throttled), 1);
        })
        .await;
    }

    #[tokio::test]
    async fn a_rotated_key_signs_from_its_start_by_the_service_clock() {
        for_each_migrated_engine(|db| async move {
            let f = Fixture::new(db).await;
            let old = kid(&f.token().await.unwrap().access_token);
            let rotation = rotate_keys(&f.db, &master_key(), None, 30, NOW)
                .await
                .unwrap();
            f.oauth.reload_keys().await.unwrap();
            assert!(
                f.oauth.jwks().contains(&rotation.new_kid),
                "published at once"
            );

            f.clock.advance(29);
            assert_eq!(kid(&f.token().await.unwrap().access_token), old);
            f.clock.advance(1);
            let new = f.token().await.unwrap().access_token;
            assert_eq!(kid(&new), rotation.new_kid);
            let before = f.oauth.verify(&new, f.oauth.now()).await.unwrap();
            assert!(before.is_some(), "the new key's tokens verify");
        })
        .await;
    }
}
