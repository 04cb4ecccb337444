//! Settings → Roles: the tenant's role catalogue.

use leptos::prelude::*;

use crate::{error::AppError, model::tenant::RoleView};

#[server]
pub async fn list_roles() -> Result<Vec<RoleView>, AppError> {
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    Ok(crate::services::roles::list_roles(&state.db, &by).await?)
}

#[server]
pub async fn add_role(name: String, description: String) -> Result<(), AppError> {
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    Ok(
        crate::services::roles::add_role(&state.db, &by, &name, &description, ip.as_deref(), now)
            .await?,
    )
}

#[server]
pub async fn delete_role(name: String) -> Result<(), AppError> {
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    Ok(crate::services::roles::delete_role(&state.db, &by, &name, ip.as_deref(), now).await?)
}
