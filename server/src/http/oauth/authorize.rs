//! `GET /oauth/authorize` and `GET {issuer}/oauth/authorize` (RFC 6749 §4.1.1): a thin
//! adapter over [`OAuthService::authorize`](app::services::oauth::OAuthService::authorize).
//! It sits behind the portal's session layer, since it must know who is signed in.

use axum::{
    extract::{Path, State},
    http::{StatusCode, Uri, header},
    response::{Html, IntoResponse, Response},
};
use tower_sessions::Session;

use app::{
    domain::authorize::{AuthorizeRequest, encode},
    services::oauth::authorize::AuthorizeOutcome,
    state::AppState,
};

pub async fn authorize(
    State(state): State<AppState>,
    session: Session,
    tenant: Option<Path<String>>,
    uri: Uri,
) -> Response {
    let query = uri.query().unwrap_or_default();
    let person = match app::auth::signed_in_person(&session, &state.db).await {
        Ok(person) => person,
        Err(_) => {
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side; try again.",
            );
        }
    };
    let tenant = tenant.map(|Path(t)| t);
    match state
        .oauth
        .authorize(tenant.as_deref(), query, person.as_ref())
        .await
    {
        AuthorizeOutcome::ErrorPage(message) => error_page(StatusCode::BAD_REQUEST, &message),
        AuthorizeOutcome::Redirect(url) => see_other(&url),
        AuthorizeOutcome::SignIn => {
            let back = format!(
                "{}?{}",
                uri.path(),
                AuthorizeRequest::query_without_login_prompt(query)
            );
            see_other(&format!("/signin?next={}", encode(&back)))
        }
        AuthorizeOutcome::Consent => see_other(&format!("/consent?{query}")),
    }
}

pub(crate) fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// The page shown instead of redirecting when the client or its redirect URI cannot be
/// trusted (RFC 6749 §4.1.2.1): the person learns what went wrong and is sent nowhere.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let message = escape(message);
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Cannot sign you in · Keyport</title>\
         <link rel=\"stylesheet\" href=\"/pkg/keyport.css\"></head>\
         <body><main class=\"main\"><section class=\"card auth\" role=\"alert\">\
         <h1>Cannot sign you in to this app</h1><p>{message}</p>\
         <p class=\"hint\">Tell the app's developer. You were not sent back to the app, \
         because this server cannot be sure where it would send you.</p>\
         <p><a href=\"/\">Go to Keyport</a></p></section></main></body></html>"
    );
    (status, Html(body)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
