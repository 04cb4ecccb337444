//! Apps and their secrets, as the portal asks for them. Plaintext secrets appear only in
//! [`NewSecret`], the answer to creating or refreshing one.
// A server function takes one argument per form field; the edit form has nine.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::apps::{ActivityView, AppSummary, AppView, CreatedAppView, NewSecret, SecretView},
};

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::{
        model::apps::{ClientType, Visibility},
        services::apps as service,
        store::unix_now,
    };
}

#[cfg(feature = "ssr")]
/// Parses the portal form's yes/no checkbox (`on` when ticked, absent otherwise).
fn ticked(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| v == "on" || v == "true")
}

#[cfg(feature = "ssr")]
fn parse_choice<T>(
    value: &str,
    parse: fn(&str) -> Option<T>,
    field: &str,
    message: &str,
) -> Result<T, AppError> {
    parse(value).ok_or_else(|| AppError::Invalid {
        field: Some(field.into()),
        message: message.into(),
    })
}

#[cfg(feature = "ssr")]
fn parse_number(value: &str, field: &str) -> Result<i64, AppError> {
    value.trim().parse().map_err(|_| AppError::Invalid {
        field: Some(field.into()),
        message: "Enter a whole number.".into(),
    })
}

#[server]
pub async fn list_apps() -> Result<Vec<AppSummary>, AppError> {
    use ssr::*;
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    Ok(service::list_app_summaries(&state.db, &by, unix_now()).await?)
}

#[server]
pub async fn get_app(client_id: String) -> Result<AppView, AppError> {
    use ssr::*;
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    Ok(service::get_app(&state.db, &by, &client_id).await?)
}

#[server]
pub async fn create_app(
    name: String,
    visibility: String,
    client_type: String,
    tool: Option<String>,
    callback_url: String,
) -> Result<CreatedAppView, AppError> {
    use ssr::*;
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let draft = service::AppDraft {
        visibility: parse_choice(
            &visibility,
            Visibility::parse,
            "visibility",
            "Choose private or public.",
        )?,
        client_type: parse_choice(
            &client_type,
            ClientType::parse,
            "client_type",
            "Choose confidential or public.",
        )?,
        tool: ticked(&tool),
        callback_url: Some(callback_url),
        ..service::AppDraft::new(name)
    };
    let created = service::create_app(
        &state.db,
        &state.hasher,
        &state.public_url,
        &by,
        draft,
        ip.as_deref(),
        unix_now(),
    )
    .await?;
    crate::handover::hand_over(
        &created.app.client_id,
        created.first_secret.as_ref().map(|s| s.plaintext.as_str()),
        state.is_https(),
    );
    Ok(CreatedAppView {
        app: created.app,
        first_secret: created.first_secret,
    })
}

#[server]
pub async fn update_app(
    client_id: String,
    name: String,
    description: String,
    visibility: String,
    callback_url: String,
    scopes: String,
    roles: String,
    audiences: String,
    token_lifetime_secs: String,
    // `grant_types[]`, one entry per ticked box after an empty one (`pages::app_oauth`).
    grant_types: Vec<String>,
) -> Result<AppView, AppError> {
    use ssr::*;
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    // The form holds every field, so each one is set.
    let changes = service::AppChanges {
        name: Some(name),
        description: Some(description),
        visibility: Some(parse_choice(
            &visibility,
            Visibility::parse,
            "visibility",
            "Choose private or public.",
        )?),
        callback_url: Some(Some(callback_url)),
        scopes: Some(scopes.split_whitespace().map(str::to_string).collect()),
        roles: Some(roles.split_whitespace().map(str::to_string).collect()),
        audiences: Some(audiences.split_whitespace().map(str::to_string).collect()),
        token_lifetime_secs: Some(parse_number(&token_lifetime_secs, "token_lifetime_secs")?),
        grant_types: Some(grant_types.into_iter().filter(|g| !g.is_empty()).collect()),
    };
    Ok(service::update_app(
        &state.db,
        &state.public_url,
        &by,
        &client_id,
        changes,
        ip.as_deref(),
        unix_now(),
    )
    .await?)
}

#[server]
pub async fn delete_app(client_id: String) -> Result<(), AppError> {
    use ssr::*;
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    service::delete_app(&state.db, &by, &client_id, ip.as_deref(), unix_now()).await?;
    leptos_axum::redirect("/apps");
    Ok(())
}

/// Switches an app off (`disabled` = "true") or back on.
#[server]
pub async fn set_app_disabled(client_id: String, disabled: String) -> Result<AppView, AppError> {
    use ssr::*;
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let disabled = disabled == "true";
    Ok(service::set_app_disabled(
        &state.db,
        &by,
        &client_id,
        disabled,
        ip.as_deref(),
        unix_now(),
    )
    .await?)
}

#[server]
pub async fn list_secrets(client_id: String) -> Result<Vec<SecretView>, AppError> {
    use ssr::*;
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    Ok(service::list_secrets(&state.db, &by, &client_id, unix_now()).await?)
}

/// `expiry` is `default` (a year), `never`, or a date `YYYY-MM-DD` (end of that day, UTC).
#[server]
pub async fn add_secret(
    client_id: String,
    description: String,
    expiry: String,
    expires_on: Option<String>,
) -> Result<NewSecret, AppError> {
    use ssr::*;
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let expiry = match expiry.as_str() {
        "never" => service::Expiry::Never,
        "date" => service::Expiry::At(crate::domain::app_rules::parse_date_end_of_day(
            expires_on.as_deref().unwrap_or_default(),
        )?),
        _ => service::Expiry::Default,
    };
    let added = service::add_secret(
        &state.db,
        &state.hasher,
        &by,
        &client_id,
        &description,
        expiry,
        ip.as_deref(),
        unix_now(),
    )
    .await?;
    crate::handover::hand_over(&client_id, Some(&added.plaintext), state.is_https());
    Ok(added)
}

#[server]
pub async fn refresh_secret(
    client_id: String,
    secret_id: String,
    grace_seconds: String,
) -> Result<NewSecret, AppError> {
    use ssr::*;
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let grace = parse_number(&grace_seconds, "grace_seconds")?;
    let refreshed = service::refresh_secret(
        &state.db,
        &state.hasher,
        &by,
        &client_id,
        &secret_id,
        grace,
        ip.as_deref(),
        unix_now(),
    )
    .await?;
    crate::handover::hand_over(&client_id, Some(&refreshed.plaintext), state.is_https());
    Ok(refreshed)
}

#[server]
pub async fn delete_secret(client_id: String, secret_id: String) -> Result<(), AppError> {
    use ssr::*;
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    service::delete_secret(
        &state.db,
        &by,
        &client_id,
        &secret_id,
        ip.as_deref(),
        unix_now(),
    )
    .await?;
    crate::handover::back_to_app(&client_id);
    Ok(())
}

/// The secret a plain form post on this app just created, shown once (see [`crate::handover`]).
#[server]
pub async fn take_new_secret(client_id: String) -> Result<Option<String>, AppError> {
    use ssr::*;
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    service::get_app(&state.db, &by, &client_id).await?;
    Ok(crate::handover::take(&client_id, state.is_https()))
}

/// One line per event of an app's Activity tab.
#[server]
pub async fn list_app_activity(client_id: String) -> Result<Vec<ActivityView>, AppError> {
    use ssr::*;
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    Ok(service::app_activity(&state.db, &by, &client_id).await?)
}
