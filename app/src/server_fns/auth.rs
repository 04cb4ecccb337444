//! Signing up, in and out, and who the portal is showing itself to.

use leptos::prelude::*;

use crate::{error::AppError, model::accounts::PortalContext};

#[server]
pub async fn get_portal_context() -> Result<PortalContext, AppError> {
    let state = crate::state::app_state()?;
    let session = crate::auth::request_session().await?;
    let principal = crate::auth::principal(&session, &state.db).await?;
    let viewer = match principal {
        Some(p) => crate::services::accounts::viewer(&state.db, &p).await?,
        None => None,
    };
    let first_run = viewer.is_none()
        && crate::store::users::count(&state.db)
            .await
            .map_err(crate::services::ServiceError::from)?
            == 0;
    Ok(PortalContext { viewer, first_run })
}

#[server]
pub async fn sign_up(email: String, name: String, password: String) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let ip = crate::auth::client_ip().await;
    let form = crate::services::accounts::SignUp {
        email: &email,
        name: &name,
        password: &password,
        ip: ip.as_deref(),
    };
    let who = crate::services::accounts::sign_up(
        &state.db,
        &state.attempts,
        form,
        crate::store::unix_now(),
    )
    .await?;
    crate::auth::start(&crate::auth::request_session().await?, &who).await?;
    leptos_axum::redirect("/apps");
    Ok(())
}

/// Signs in, then goes to `next` when it is a path on this server (the authorization
/// endpoint sends people here with it), else to the Apps page.
#[server]
pub async fn sign_in(
    email: String,
    password: String,
    #[server(default)] next: Option<String>,
) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let ip = crate::auth::client_ip().await;
    let now = crate::store::unix_now();
    let metrics = state.oauth.metrics();
    let who = crate::services::accounts::sign_in(
        &state.db,
        metrics,
        &state.attempts,
        &email,
        &password,
        ip.as_deref(),
        now,
    )
    .await?;
    crate::auth::start(&crate::auth::request_session().await?, &who).await?;
    let next = next
        .as_deref()
        .and_then(crate::domain::return_path::safe_return_path);
    leptos_axum::redirect(next.unwrap_or("/apps"));
    Ok(())
}

#[server]
pub async fn sign_out() -> Result<(), AppError> {
    crate::auth::end(&crate::auth::request_session().await?).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server]
pub async fn switch_tenant(tenant_id: String) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let session = crate::auth::request_session().await?;
    let current = crate::auth::principal(&session, &state.db)
        .await?
        .ok_or_else(AppError::unauthorized)?;
    crate::services::accounts::principal(&state.db, &current.user_id, &tenant_id)
        .await?
        .ok_or_else(|| AppError::not_found("You are not a member of that tenant."))?;
    crate::auth::set_tenant(&session, &tenant_id).await?;
    leptos_axum::redirect("/apps");
    Ok(())
}
