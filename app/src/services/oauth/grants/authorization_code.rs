//! The authorization-code grant (RFC 6749 §4.1.3 with PKCE, RFC 7636): an app trades the code
//! the authorization endpoint sent to its callback for a person's tokens. Its storage is
//! `store::codes`; the codes are made by [`crate::services::oauth::authorize`].

use super::{TokenRequest, invalid_grant, require_grant};
use crate::{
    domain::{
        credentials::{CODE_PREFIX, REFRESH_TOKEN_PREFIX, generate_opaque, is_well_formed_opaque},
        grant_types::GrantType,
        oauth::OAuthError,
        pkce,
    },
    services::oauth::{IssuedToken, OAuthService, TokenError, user_tokens::UserGrant},
    store::{
        codes::{self, Taken},
        refresh_tokens, revoked,
    },
};

async fn revoke_what_it_gave(
    service: &OAuthService,
    code: &codes::CodeRow,
    now: i64,
) -> Result<(), TokenError> {
    let db = &service.inner.db;
    refresh_tokens::revoke_family(db, &code.family_id, now).await?;
    let used_at = code.used_at.unwrap_or(now);
    // Access tokens live at most an hour (app_rules); the row may go once the token has.
    revoked::insert(db, &code.access_jti, &code.tenant_id, used_at + 3600, now).await?;
    Ok(())
}

pub(super) async fn handle(
    service: &OAuthService,
    request: &TokenRequest<'_>,
    now: i64,
) -> Result<IssuedToken, TokenError> {
    let client = service.identify(request, now).await?;
    require_grant(&client, GrantType::AuthorizationCode)?;
    let form = request.form;
    let code = form
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("The code parameter is missing."))?;
    if !is_well_formed_opaque(CODE_PREFIX, code) {
        return Err(invalid_grant("The code is not valid."));
    }
    let db = &service.inner.db;
    let hash = service.inner.hasher.hash(code);
    let row = match codes::take(db, &hash, &client.client_id, now).await? {
        Taken::Fresh(row) => row,
        Taken::Unknown => return Err(invalid_grant("The code is not valid.")),
        Taken::Replayed(used) => {
            // Someone holds a copy of a code that was exchanged: what it gave is revoked
            // (RFC 6749 §4.1.2).
            revoke_what_it_gave(service, &used, now).await?;
            tracing::warn!(client_id = %used.client_id, "an authorization code was replayed");
            return Err(invalid_grant(
                "The code was already used; the tokens it gave have been revoked.",
            ));
        }
    };
    if row.expires_at <= now {
        return Err(invalid_grant(
            "The code has expired; codes live 60 seconds.",
        ));
    }
    let redirect_matches = match form.get("redirect_uri") {
        Some(sent) => sent == row.redirect_uri,
        None => !row.redirect_sent,
    };
    if !redirect_matches {
        return Err(invalid_grant(
            "The redirect_uri does not match the one of the authorization request.",
        ));
    }
    match (&row.code_challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) if pkce::verifies(challenge, verifier) => {}
        (Some(_), Some(_)) => return Err(invalid_grant("The code_verifier does not match.")),
        (Some(_), None) => return Err(invalid_grant("The code_verifier is missing.")),
        (None, Some(_)) => {
            return Err(invalid_grant(
                "A code_verifier was sent for a code issued without a code_challenge.",
            ));
        }
        (None, None) if !client.confidential => {
            return Err(invalid_grant("A public client's code needs PKCE."));
        }
        (None, None) => {}
    }
    let refresh_token = if client.may_use(GrantType::RefreshToken) {
        let token = generate_opaque(REFRESH_TOKEN_PREFIX);
        let family = refresh_tokens::Family {
            family_id: row.family_id.clone(),
            user_id: row.user_id.clone(),
            tenant_id: row.tenant_id.clone(),
            scope: row.scope.clone(),
            auth_time: row.auth_time,
            family_expires_at: now + service.inner.refresh.absolute_secs,
        };
        refresh_tokens::start_family(
            db,
            &service.inner.hasher.hash(&token),
            &client.client_id,
            &family,
            &row.access_jti,
            now + service.inner.refresh.idle_secs,
            now,
        )
        .await?;
        // A replay that came while this was being issued revoked nothing yet: do it now.
        if codes::was_replayed(db, &hash).await? {
            revoke_what_it_gave(service, &row, now).await?;
            return Err(invalid_grant(
                "The code was used twice; its tokens have been revoked.",
            ));
        }
        Some(token)
    } else {
        None
    };
    let grant = UserGrant {
        user_id: &row.user_id,
        tenant_id: &row.tenant_id,
        scope: &row.scope,
        auth_time: row.auth_time,
        nonce: row.nonce.as_deref(),
        jti: Some(row.access_jti.clone()),
    };
    service
        .issue_user_tokens(&client, grant, refresh_token, now)
        .await
}
