//! Portal sessions: what a signed-in browser's session holds and how it becomes a
//! [`Principal`]. The role is read from the database on every request, so a role change or a
//! removal takes effect at once, on every instance.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use tower_sessions::Session;

use crate::{
    error::AppError,
    services::accounts::{self, Principal, SignedIn},
    store::{Database, unix_now},
};

const USER_ID: &str = "user_id";
const TENANT_ID: &str = "tenant_id";
const SIGNED_IN_AT: &str = "signed_in_at";

/// A session ends this long after sign-in however active it is (the idle limit is the cookie
/// layer's expiry).
pub const ABSOLUTE_LIFETIME_SECS: i64 = 7 * 24 * 3600;
pub const IDLE_LIFETIME_SECS: i64 = 12 * 3600;

fn session_error(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "session store failure");
    AppError::Internal
}

/// Starts a session for someone who just proved who they are. A new id defeats session
/// fixation: an id planted before sign-in is worthless after it.
pub async fn start(session: &Session, who: &SignedIn) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(USER_ID, &who.user_id)
        .await
        .map_err(session_error)?;
    session
        .insert(TENANT_ID, &who.tenant_id)
        .await
        .map_err(session_error)?;
    session
        .insert(SIGNED_IN_AT, unix_now())
        .await
        .map_err(session_error)?;
    Ok(())
}

/// Deletes the session on the server and tells the browser to drop the cookie.
pub async fn end(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_error)
}

pub async fn set_tenant(session: &Session, tenant_id: &str) -> Result<(), AppError> {
    session
        .insert(TENANT_ID, tenant_id)
        .await
        .map_err(session_error)
}

/// The signed-in principal, or `None` for an anonymous, expired or no-longer-member session.
pub async fn principal(session: &Session, db: &Database) -> Result<Option<Principal>, AppError> {
    let user_id: Option<String> = session.get(USER_ID).await.map_err(session_error)?;
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let signed_in_at: i64 = session
        .get(SIGNED_IN_AT)
        .await
        .map_err(session_error)?
        .unwrap_or(0);
    if unix_now() - signed_in_at > ABSOLUTE_LIFETIME_SECS {
        end(session).await?;
        return Ok(None);
    }
    let tenant_id: Option<String> = session.get(TENANT_ID).await.map_err(session_error)?;
    let Some(tenant_id) = tenant_id else {
        return Ok(None);
    };
    Ok(accounts::principal(db, &user_id, &tenant_id).await?)
}

/// The signed-in person as the authorization endpoint needs them (with when they signed in),
/// or `None` as for [`principal`].
pub async fn signed_in_person(
    session: &Session,
    db: &Database,
) -> Result<Option<crate::services::oauth::authorize::SignedInPerson>, AppError> {
    let Some(principal) = principal(session, db).await? else {
        return Ok(None);
    };
    let auth_time: i64 = session
        .get(SIGNED_IN_AT)
        .await
        .map_err(session_error)?
        .unwrap_or(0);
    Ok(Some(crate::services::oauth::authorize::SignedInPerson {
        user_id: principal.user_id,
        tenant_id: principal.tenant_id,
        auth_time,
    }))
}

/// The session of the request a server function is handling.
pub async fn request_session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer in front of server functions");
        AppError::Internal
    })
}

/// The signed-in principal of the current server-function request, or 401.
pub async fn require_principal(db: &Database) -> Result<Principal, AppError> {
    let session = request_session().await?;
    principal(&session, db)
        .await?
        .ok_or_else(AppError::unauthorized)
}

/// What a server function acting for a signed-in person needs.
pub struct SignedInRequest {
    pub state: crate::state::AppState,
    pub by: Principal,
    /// The client's address, for audit events.
    pub ip: Option<String>,
}

/// The state, the signed-in principal (or 401) and the client's address.
pub async fn signed_in() -> Result<SignedInRequest, AppError> {
    let state = crate::state::app_state()?;
    let by = require_principal(&state.db).await?;
    Ok(SignedInRequest {
        by,
        ip: client_ip().await,
        state,
    })
}

/// The address a request came from, as the server's front middleware resolved it: the peer,
/// or behind a trusted reverse proxy the client that proxy forwarded for
/// (`KEYPORT_TRUSTED_PROXIES`). Rate limits and audit events use this, never a header read
/// on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

/// The client's address, for audit events and throttling.
pub async fn client_ip() -> Option<String> {
    let parts = leptos_axum::extract::<http::request::Parts>().await.ok()?;
    client_address_of(&parts.extensions)
}

/// The resolved [`ClientAddress`] among a request's extensions; the peer's address when the
/// request did not pass the resolving middleware.
pub fn client_address_of(extensions: &http::Extensions) -> Option<String> {
    extensions
        .get::<ClientAddress>()
        .map(|ClientAddress(ip)| ip.to_string())
        .or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip().to_string())
        })
}
