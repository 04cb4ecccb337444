//! The lifecycle of an app's secrets: shown once when made, replaced atomically on a refresh
//! (never neither, never two successors), stopped at once or after a grace period.

use serde_json::json;

use super::*;
use crate::{
    domain::{
        FieldError,
        app_rules::{DEFAULT_SECRET_LIFETIME_SECS, SecretStatus, check_grace, check_secret_expiry},
        credentials::{SecretHasher, generate_secret},
    },
    model::apps::{ClientType, NewSecret, SecretView},
    services::{ServiceError, accounts::Principal},
    store::{
        Database,
        apps::AppRow,
        new_id,
        secrets::{self as secret_store, SecretRow},
    },
};

/// When a new secret expires: a year from now by default, a chosen time, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Default,
    At(i64),
    Never,
}

pub(super) fn secret_view(row: &SecretRow, now: i64) -> SecretView {
    SecretView {
        id: row.id.clone(),
        description: row.description.clone(),
        prefix: row.prefix.clone(),
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
        grace_until: row.grace_until,
        status: SecretStatus::at(row.revoked_at, row.grace_until, row.expires_at, now),
    }
}

pub(super) fn new_secret_row(
    hasher: &SecretHasher,
    client_id: &str,
    description: &str,
    expires_at: Option<i64>,
    created_by: Option<&str>,
    now: i64,
) -> (SecretRow, String) {
    let plain = generate_secret();
    let row = SecretRow {
        id: new_id(),
        client_id: client_id.to_string(),
        description: description.trim().to_string(),
        prefix: plain.display_prefix().to_string(),
        hash: hasher.hash(plain.expose()),
        created_at: now,
        created_by: created_by.map(str::to_string),
        expires_at,
        last_used_at: None,
        revoked_at: None,
        grace_until: None,
        replaced_by: None,
    };
    (row, plain.expose().to_string())
}

pub(super) fn resolve_expiry(expiry: Expiry, now: i64) -> Result<Option<i64>, ServiceError> {
    Ok(match expiry {
        Expiry::Default => Some(now + DEFAULT_SECRET_LIFETIME_SECS),
        Expiry::Never => None,
        Expiry::At(at) => check_secret_expiry(Some(at), now)?,
    })
}

pub async fn list_secrets(
    db: &Database,
    by: &Principal,
    client_id: &str,
    now: i64,
) -> Result<Vec<SecretView>, ServiceError> {
    get_app(db, by, client_id).await?;
    Ok(secret_store::list(db, client_id)
        .await?
        .iter()
        .map(|row| secret_view(row, now))
        .collect())
}

pub(super) fn require_confidential(app: &AppRow) -> Result<(), ServiceError> {
    if app.client_type == ClientType::Public.as_str() {
        return Err(ServiceError::Rule(
            "A public client has no secrets: it uses PKCE instead.".into(),
        ));
    }
    Ok(())
}

/// Adds a secret beside the existing ones (for a rotation by hand); shown once.
#[allow(clippy::too_many_arguments)]
pub async fn add_secret(
    db: &Database,
    hasher: &SecretHasher,
    by: &Principal,
    client_id: &str,
    description: &str,
    expiry: Expiry,
    ip: Option<&str>,
    now: i64,
) -> Result<NewSecret, ServiceError> {
    if description.chars().count() > 200 {
        return Err(
            FieldError::new("description", "Descriptions are at most 200 characters.").into(),
        );
    }
    crate::domain::text::check_line("description", "Secret descriptions", description.trim())?;
    let expires_at = resolve_expiry(expiry, now)?;
    let mut tx = db.begin().await?;
    let app = app_for_change(&mut tx, by, client_id).await?;
    require_confidential(&app)?;
    let (secret, plaintext) = new_secret_row(
        hasher,
        client_id,
        description,
        expires_at,
        Some(&by.user_id),
        now,
    );
    secret_store::insert(&mut tx, &secret).await?;
    record(
        &mut tx,
        by.event("secret.created", now),
        client_id,
        json!({ "secret_id": secret.id, "prefix": secret.prefix }),
        ip,
    )
    .await?;
    tx.commit().await?;
    Ok(NewSecret {
        secret: secret_view(&secret, now),
        plaintext,
    })
}

/// Replaces a secret by a new one with the same description and expiry policy. The old one
/// stops at once (`grace_secs` = 0) or keeps working for the grace period. Exactly one of two
/// concurrent refreshes of the same secret succeeds; the other gets a conflict.
#[allow(clippy::too_many_arguments)]
pub async fn refresh_secret(
    db: &Database,
    hasher: &SecretHasher,
    by: &Principal,
    client_id: &str,
    secret_id: &str,
    grace_secs: i64,
    ip: Option<&str>,
    now: i64,
) -> Result<NewSecret, ServiceError> {
    let grace = check_grace(grace_secs)?;
    let mut tx = db.begin().await?;
    app_for_change(&mut tx, by, client_id).await?;
    let Some(old) = secret_store::get_in(&mut tx, client_id, secret_id).await? else {
        return Err(ServiceError::NotFound("No such secret.".into()));
    };
    // Keep the old secret's lifetime policy: a secret that never expired stays that way.
    let expires_at = old.expires_at.map(|_| now + DEFAULT_SECRET_LIFETIME_SECS);
    let (secret, plaintext) = new_secret_row(
        hasher,
        client_id,
        &old.description,
        expires_at,
        Some(&by.user_id),
        now,
    );
    secret_store::insert(&mut tx, &secret).await?;
    let (revoked_at, grace_until) = if grace == 0 {
        (Some(now), None)
    } else {
        (None, Some(now + grace))
    };
    if !secret_store::retire(
        &mut tx,
        client_id,
        secret_id,
        &secret.id,
        revoked_at,
        grace_until,
    )
    .await?
    {
        return Err(ServiceError::Rule(
            "This secret was already refreshed or revoked. Reload to see its successor.".into(),
        ));
    }
    record(
        &mut tx,
        by.event("secret.refreshed", now),
        client_id,
        json!({ "secret_id": secret_id, "new_secret_id": secret.id, "grace_seconds": grace }),
        ip,
    )
    .await?;
    tx.commit().await?;
    Ok(NewSecret {
        secret: secret_view(&secret, now),
        plaintext,
    })
}

/// Deletes a secret; it stops working at once.
pub async fn delete_secret(
    db: &Database,
    by: &Principal,
    client_id: &str,
    secret_id: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    let mut tx = db.begin().await?;
    app_for_change(&mut tx, by, client_id).await?;
    if !secret_store::delete(&mut tx, client_id, secret_id).await? {
        return Err(ServiceError::NotFound("No such secret.".into()));
    }
    record(
        &mut tx,
        by.event("secret.deleted", now),
        client_id,
        json!({ "secret_id": secret_id }),
        ip,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
