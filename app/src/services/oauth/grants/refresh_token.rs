//! The refresh-token grant (RFC 6749 §6): a refresh token is spent and replaced on every use,
//! and presenting a spent one ends its whole family (RFC 9700 §4.14). Its storage is
//! `store::refresh_tokens`.

use super::{TokenRequest, invalid_grant, require_grant};
use crate::{
    domain::{
        authorize::OIDC_SCOPES,
        credentials::{REFRESH_TOKEN_PREFIX, generate_opaque, is_well_formed_opaque},
        grant_types::GrantType,
        oauth::{ErrorCode, OAuthError},
    },
    services::oauth::{IssuedToken, OAuthService, TokenError, user_tokens::UserGrant},
    store::{new_id, refresh_tokens},
};

/// How long refresh tokens live: unused (each use starts it again), and in all since the
/// sign-in that started the family. Settings (SPEC §3a).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshLifetimes {
    pub idle_secs: i64,
    pub absolute_secs: i64,
}

impl Default for RefreshLifetimes {
    fn default() -> Self {
        RefreshLifetimes {
            idle_secs: 30 * 24 * 3600,
            absolute_secs: 90 * 24 * 3600,
        }
    }
}

pub(super) async fn handle(
    service: &OAuthService,
    request: &TokenRequest<'_>,
    now: i64,
) -> Result<IssuedToken, TokenError> {
    let client = service.identify(request, now).await?;
    require_grant(&client, GrantType::RefreshToken)?;
    let presented = request
        .form
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("The refresh_token parameter is missing."))?;
    if !is_well_formed_opaque(REFRESH_TOKEN_PREFIX, presented) {
        return Err(invalid_grant("The refresh token is not valid."));
    }
    let db = &service.inner.db;
    let hasher = &service.inner.hasher;
    let presented = hasher.hash(presented);
    // RFC 6749 §6: a narrower scope for this access token (the family keeps its own), checked
    // before the token is spent, so a bad request costs the app nothing.
    let narrowed = match request.form.get("scope") {
        None => None,
        Some(asked) => {
            let state = refresh_tokens::state(db, &presented).await?;
            let granted = state.as_ref().map(|s| s.scope.as_str()).unwrap_or_default();
            let granted: Vec<&str> = granted.split_whitespace().collect();
            if let Some(extra) = asked.split_whitespace().find(|s| !granted.contains(s)) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    format!("The scope {extra} was not granted to this refresh token."),
                )
                .into());
            }
            Some(asked.split_whitespace().collect::<Vec<_>>().join(" "))
        }
    };
    let successor = generate_opaque(REFRESH_TOKEN_PREFIX);
    // Chosen now and stored with the successor, so that ending the family later ends this
    // access token too.
    let access_jti = new_id();
    let spent = refresh_tokens::rotate(
        db,
        &presented,
        &client.client_id,
        &hasher.hash(&successor),
        &access_jti,
        service.inner.refresh.idle_secs,
        now,
    )
    .await?;
    let Some(family) = spent else {
        if let Some(state) = refresh_tokens::state(db, &presented).await?
            && state.client_id == client.client_id
            && state.spent_at.is_some()
        {
            refresh_tokens::revoke_family(db, &state.family_id, now).await?;
            tracing::warn!(client_id = %client.client_id, "a spent refresh token was presented again");
            return Err(invalid_grant(
                "The refresh token was already used; every token of its sign-in has been revoked.",
            ));
        }
        return Err(invalid_grant(
            "The refresh token is not valid, has expired or was revoked.",
        ));
    };
    // What the sign-in granted, less what the app may no longer ask for: a scope removed
    // from the app since is not issued again.
    let granted = narrowed.unwrap_or_else(|| family.scope.clone());
    let scope = granted
        .split_whitespace()
        .filter(|s| {
            client.scopes.iter().any(|allowed| allowed == s)
                || OIDC_SCOPES.iter().any(|(name, _)| name == s)
        })
        .collect::<Vec<_>>()
        .join(" ");
    let grant = UserGrant {
        user_id: &family.user_id,
        tenant_id: &family.tenant_id,
        scope: &scope,
        auth_time: family.auth_time,
        nonce: None,
        jti: Some(access_jti),
    };
    service
        .issue_user_tokens(&client, grant, Some(successor), now)
        .await
}
