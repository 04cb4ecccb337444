//! The consent page's question and answer, and the Connected apps screen (SPEC §3a).

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::consent::{AuthorizeNotice, ConnectedAppView, ConsentStep},
};

/// The page `/oauth/authorize` shows instead of sending the browser on. The authorization
/// endpoint has decided it and hands it over with the request it renders; asked for any other
/// way (a navigation inside the portal), there is nothing to show but a way to start again.
#[server]
pub async fn get_authorize_notice() -> Result<AuthorizeNotice, AppError> {
    let decided = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<AuthorizeNotice>().cloned());
    Ok(decided.unwrap_or_else(|| AuthorizeNotice::Refused {
        message: "This sign-in link has to be opened again from the app that sent you.".into(),
    }))
}

/// What the consent page shows for the authorization request in `query`.
#[server]
pub async fn get_consent(query: String) -> Result<ConsentStep, AppError> {
    use crate::services::oauth::authorize::AuthorizeOutcome;
    let state = crate::state::app_state()?;
    let session = crate::auth::request_session().await?;
    let person = crate::auth::signed_in_person(&session, &state.db)
        .await?
        .ok_or_else(AppError::unauthorized)?;
    match state.oauth.consent_view(&query, &person).await {
        Ok(view) => Ok(ConsentStep::Ask(view)),
        Err(AuthorizeOutcome::ErrorPage(message)) => Err(AppError::BadRequest { message }),
        // Refused for this person (a private app, a scope it may not have): the page offers
        // the way back, with the error the app is owed.
        Err(AuthorizeOutcome::ReturnToApp(back)) => Ok(ConsentStep::Refused {
            app_name: back.app_name,
            host: back.host,
            message: back.error_description,
            back_to: back.url,
        }),
        Err(_) => Err(AppError::unauthorized()),
    }
}

/// Allow or Deny on the consent page: the browser goes on to the app with a code or
/// `access_denied`. `tenant` is the organisation the person chose for the app to act in.
#[server]
pub async fn decide_consent(
    query: String,
    decision: String,
    tenant: Option<String>,
) -> Result<(), AppError> {
    use crate::services::oauth::authorize::AuthorizeOutcome;
    let state = crate::state::app_state()?;
    let session = crate::auth::request_session().await?;
    let ip = crate::auth::client_ip().await;
    let Some(person) = crate::auth::signed_in_person(&session, &state.db).await? else {
        let back = format!("/consent?{query}");
        let next = crate::domain::authorize::encode(&back);
        leptos_axum::redirect(&format!("/signin?next={next}"));
        return Ok(());
    };
    let allow = match decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => {
            return Err(AppError::BadRequest {
                message: "Choose Allow or Deny.".into(),
            });
        }
    };
    match state
        .oauth
        .decide_consent(&query, &person, allow, tenant.as_deref(), ip.as_deref())
        .await
    {
        AuthorizeOutcome::Redirect(url) => {
            leptos_axum::redirect(&url);
            Ok(())
        }
        // Refused for someone not known to trust the app (a private app's outsider posting
        // an Allow they were never offered): back to the consent page, which says why and
        // names where the one link back goes.
        AuthorizeOutcome::ReturnToApp(_) => {
            leptos_axum::redirect(&format!("/consent?{query}"));
            Ok(())
        }
        AuthorizeOutcome::ErrorPage(message) => Err(AppError::BadRequest { message }),
        _ => Err(AppError::unauthorized()),
    }
}

#[server]
pub async fn connected_apps() -> Result<Vec<ConnectedAppView>, AppError> {
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    Ok(crate::services::connected_apps::connected_apps(&state.db, &by.user_id).await?)
}

#[server]
pub async fn revoke_connected_app(client_id: String) -> Result<(), AppError> {
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    let db = &state.db;
    crate::services::connected_apps::revoke_app(db, &by.user_id, &client_id, ip.as_deref(), now)
        .await?;
    leptos_axum::redirect("/connected");
    Ok(())
}
