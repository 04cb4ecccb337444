//! The rules a tenant's catalogues (scopes, roles) share: an app is given only names from
//! them, and a name stays while apps still have it, so tokens never carry a name the tenant
//! no longer lists and a later edit of those apps does not fail on it.

use super::{ServiceError, accounts::Principal};
use crate::{
    domain::FieldError,
    store::{
        Database, Tx, audit,
        catalogue::{self, Catalogue},
    },
};

/// How many apps a refusal names before it only counts the rest.
const NAMED_APPS: usize = 3;

fn label(catalogue: Catalogue) -> (&'static str, &'static str) {
    match catalogue {
        Catalogue::Scopes => ("scopes", "scope"),
        Catalogue::Roles => ("roles", "role"),
    }
}

/// Adds `name` (already checked against its catalogue's naming rule) with `description`, as
/// admin `by`, with its audit event (`scope.created`, `role.created`).
pub(super) async fn add_entry(
    db: &Database,
    by: &Principal,
    catalogue: Catalogue,
    name: &str,
    description: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    by.require_admin()?;
    if description.chars().count() > 200 {
        return Err(
            FieldError::new("description", "Descriptions are at most 200 characters.").into(),
        );
    }
    crate::domain::text::check_line("description", "Descriptions", description.trim())?;
    let (_, what) = label(catalogue);
    let mut tx = db.begin().await?;
    let tenant = &by.tenant_id;
    catalogue::insert(&mut tx, catalogue, tenant, name, description.trim(), now)
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                let message = format!("This {what} is already in the catalogue.");
                ServiceError::Conflict(FieldError::new("name", message))
            } else {
                e.into()
            }
        })?;
    let action = format!("{what}.created");
    let event = by.event(&action, now).target(what, name).ip(ip);
    audit::record(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes `name` as admin `by`, with its audit event; 404 for an unknown name, 409 naming
/// the apps that still have it.
pub(super) async fn remove_entry(
    db: &Database,
    by: &Principal,
    catalogue: Catalogue,
    name: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    by.require_admin()?;
    let (_, what) = label(catalogue);
    let mut tx = db.begin().await?;
    if !catalogue::delete(&mut tx, catalogue, &by.tenant_id, name).await? {
        return Err(ServiceError::NotFound(format!("No such {what}.")));
    }
    refuse_if_used(&mut tx, catalogue, &by.tenant_id, name).await?;
    let action = format!("{what}.deleted");
    let event = by.event(&action, now).target(what, name).ip(ip);
    audit::record(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses (409) the deletion of `name` while apps still have it, naming them. Called after
/// the entry's DELETE in the same transaction (see `store::catalogue::delete`).
pub(super) async fn refuse_if_used(
    tx: &mut Tx,
    catalogue: Catalogue,
    tenant_id: &str,
    name: &str,
) -> Result<(), ServiceError> {
    let apps = catalogue::apps_using(tx, catalogue, tenant_id, name).await?;
    if apps.is_empty() {
        return Ok(());
    }
    let (field, what) = label(catalogue);
    let mut named = apps
        .iter()
        .take(NAMED_APPS)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if apps.len() > NAMED_APPS {
        named.push_str(&format!(" and {} more", apps.len() - NAMED_APPS));
    }
    let count = match apps.len() {
        1 => "1 app".to_string(),
        n => format!("{n} apps"),
    };
    Err(ServiceError::Rule(format!(
        "The {what} {name} is still given to {count} ({named}): remove it from their {field} first."
    )))
}

/// Checks that each of `added` (names an app is being given that it did not have) is in the
/// tenant's catalogue, holding those entries until `tx` ends so none is deleted meanwhile.
/// Only additions are checked: an app keeps what it has, so editing its other fields never
/// fails on a name given before the catalogue was kept.
pub(super) async fn check_added(
    tx: &mut Tx,
    catalogue: Catalogue,
    tenant_id: &str,
    added: &[String],
) -> Result<(), ServiceError> {
    if let Some(missing) = catalogue::hold(tx, catalogue, tenant_id, added).await? {
        let (field, what) = label(catalogue);
        let section = if catalogue == Catalogue::Scopes {
            "Scopes"
        } else {
            "Roles"
        };
        return Err(FieldError::new(
            field,
            format!("{missing} is not in the tenant's {what} catalogue (Settings → {section})."),
        )
        .into());
    }
    Ok(())
}

/// The names in `wanted` that are not in `current`.
pub(super) fn added(current: &[String], wanted: &[String]) -> Vec<String> {
    wanted
        .iter()
        .filter(|w| !current.contains(w))
        .cloned()
        .collect()
}
