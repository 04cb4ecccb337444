//! Settings → Members: admins manage who is in their tenant.

use leptos::prelude::*;

use crate::{domain::membership::Role, error::AppError, model::accounts::MemberView};

/// Parses a role from a form field, refusing anything else with a field error.
pub fn parse_role_field(value: &str) -> Result<Role, AppError> {
    Role::parse(value).ok_or_else(|| AppError::Invalid {
        field: Some("role".into()),
        message: "Choose admin or developer.".into(),
    })
}

#[server]
pub async fn list_members() -> Result<Vec<MemberView>, AppError> {
    let crate::auth::SignedInRequest {
        state,
        by: principal,
        ip: _,
    } = crate::auth::signed_in().await?;
    Ok(crate::services::accounts::list_members(&state.db, &principal).await?)
}

#[server]
pub async fn change_member_role(user_id: String, role: String) -> Result<(), AppError> {
    use crate::domain::membership::MemberChange;
    let crate::auth::SignedInRequest {
        state,
        by: principal,
        ip,
    } = crate::auth::signed_in().await?;
    let change = MemberChange::SetRole(parse_role_field(&role)?);
    let now = crate::store::unix_now();
    Ok(crate::services::accounts::change_member(
        &state.db,
        &principal,
        &user_id,
        change,
        ip.as_deref(),
        now,
    )
    .await?)
}

#[server]
pub async fn remove_member(user_id: String) -> Result<(), AppError> {
    use crate::domain::membership::MemberChange;
    let crate::auth::SignedInRequest {
        state,
        by: principal,
        ip,
    } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    let change = MemberChange::Remove;
    Ok(crate::services::accounts::change_member(
        &state.db,
        &principal,
        &user_id,
        change,
        ip.as_deref(),
        now,
    )
    .await?)
}
