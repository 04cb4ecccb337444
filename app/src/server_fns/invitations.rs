//! Invitations: admins invite and cancel (Settings → Members); the invited person, signed in
//! with the invited email, accepts or declines (the Apps page).

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::invitations::{InvitationForYou, InvitationView},
};

#[server]
pub async fn invite_member(email: String, role: String) -> Result<(), AppError> {
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let role = super::members::parse_role_field(&role)?;
    let now = crate::store::unix_now();
    let db = &state.db;
    Ok(crate::services::invitations::invite(db, &by, &email, role, ip.as_deref(), now).await?)
}

#[server]
pub async fn list_invitations() -> Result<Vec<InvitationView>, AppError> {
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    Ok(crate::services::invitations::list_for_tenant(&state.db, &by, now).await?)
}

#[server]
pub async fn cancel_invitation(id: String) -> Result<(), AppError> {
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    Ok(crate::services::invitations::cancel(&state.db, &by, &id, ip.as_deref(), now).await?)
}

/// The invitations for the signed-in person's email.
#[server]
pub async fn my_invitations() -> Result<Vec<InvitationForYou>, AppError> {
    let crate::auth::SignedInRequest { state, by, ip: _ } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    Ok(crate::services::invitations::list_for_user(&state.db, &by.user_id, now).await?)
}

/// Accepts an invitation for the signed-in person's email. They stay in the tenant they are
/// in; the header's switcher now offers the new one.
#[server]
pub async fn accept_invitation(id: String) -> Result<(), AppError> {
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    let user = &by.user_id;
    crate::services::invitations::accept(&state.db, user, &id, ip.as_deref(), now).await?;
    Ok(())
}

#[server]
pub async fn decline_invitation(id: String) -> Result<(), AppError> {
    let crate::auth::SignedInRequest { state, by, ip } = crate::auth::signed_in().await?;
    let now = crate::store::unix_now();
    let user = &by.user_id;
    Ok(crate::services::invitations::decline(&state.db, user, &id, ip.as_deref(), now).await?)
}
