//! `GET /oauth/authorize` and `GET {issuer}/oauth/authorize` (RFC 6749 §4.1.1): a thin
//! adapter over [`OAuthService::authorize`](app::services::oauth::OAuthService::authorize).
//! It sits behind the portal's session layer, since it must know who is signed in.

use std::{future::Future, pin::Pin, sync::Arc};

use axum::{
    Extension,
    body::Body,
    extract::{Path, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

use app::{
    domain::authorize::{AuthorizeRequest, encode},
    model::consent::AuthorizeNotice,
    services::oauth::authorize::AuthorizeOutcome,
    state::AppState,
};

type Render = dyn Fn(Request) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> + Send + Sync;

/// The portal's renderer, for the page shown when the endpoint sends nobody on: it is the
/// portal's own page (its stylesheet, header and footer), handed the notice with the request.
#[derive(Clone)]
pub struct NoticePage(Arc<Render>);

impl NoticePage {
    pub fn new(
        render: impl Fn(Request) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>>
        + Send
        + Sync
        + 'static,
    ) -> NoticePage {
        NoticePage(Arc::new(render))
    }

    async fn show(
        &self,
        mut request: Request,
        notice: AuthorizeNotice,
        status: StatusCode,
    ) -> Response {
        request.extensions_mut().insert(notice);
        let mut response = (self.0)(request).await;
        *response.status_mut() = status;
        response
    }
}

pub async fn authorize(
    State(state): State<AppState>,
    Extension(page): Extension<NoticePage>,
    session: Session,
    tenant: Option<Path<String>>,
    request: Request,
) -> Response {
    let uri = request.uri().clone();
    let query = uri.query().unwrap_or_default();
    let person = match app::auth::signed_in_person(&session, &state.db).await {
        Ok(person) => person,
        Err(_) => {
            let message = "Something went wrong on our side; try again.".to_string();
            let notice = AuthorizeNotice::Refused { message };
            return page
                .show(request, notice, StatusCode::INTERNAL_SERVER_ERROR)
                .await;
        }
    };
    let tenant = tenant.map(|Path(t)| t);
    match state
        .oauth
        .authorize(tenant.as_deref(), query, person.as_ref())
        .await
    {
        AuthorizeOutcome::ErrorPage(message) => {
            let notice = AuthorizeNotice::Refused { message };
            page.show(request, notice, StatusCode::BAD_REQUEST).await
        }
        AuthorizeOutcome::ReturnToApp(back) => {
            let notice = AuthorizeNotice::ReturnToApp {
                app_name: back.app_name,
                host: back.host,
                description: back.error_description,
                url: back.url,
            };
            page.show(request, notice, StatusCode::BAD_REQUEST).await
        }
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
