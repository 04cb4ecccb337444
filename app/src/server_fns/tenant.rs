//! Settings → Tenant and Scopes (admins).

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::tenant::{ScopeView, TenantView},
};

#[server]
pub async fn get_tenant() -> Result<TenantView, AppError> {
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    Ok(crate::services::tenant::get_tenant(&state.db, &state.public_url, &by).await?)
}

#[server]
pub async fn update_tenant(name: String, audience: String) -> Result<TenantView, AppError> {
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    // The form holds both settings; an empty audience means the default one.
    let changes = crate::services::tenant::TenantChanges {
        name: Some(name),
        audience: Some(Some(audience)),
    };
    Ok(crate::services::tenant::update_tenant(
        &state.db,
        &state.public_url,
        &by,
        changes,
        ip.as_deref(),
        now,
    )
    .await?)
}

#[server]
pub async fn list_scopes() -> Result<Vec<ScopeView>, AppError> {
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    Ok(crate::services::tenant::list_scopes(&state.db, &by).await?)
}

#[server]
pub async fn add_scope(name: String, description: String) -> Result<(), AppError> {
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    Ok(
        crate::services::tenant::add_scope(&state.db, &by, &name, &description, ip.as_deref(), now)
            .await?,
    )
}

#[server]
pub async fn delete_scope(name: String) -> Result<(), AppError> {
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    Ok(crate::services::tenant::delete_scope(&state.db, &by, &name, ip.as_deref(), now).await?)
}
