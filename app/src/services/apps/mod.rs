//! Apps and the lifecycle of their secrets. Every change commits together with its audit
//! event, and a refresh replaces a secret atomically: never neither, never two successors.

mod activity;
mod drafts;
#[cfg(test)]
mod grant_tests;
#[cfg(test)]
mod grant_type_tests;
mod secrets;

pub use activity::app_activity;
pub use drafts::{AppChanges, AppDraft};
use drafts::{Valid, blame_the_change, draft_of, validate};
pub use secrets::{Expiry, add_secret, delete_secret, list_secrets, refresh_secret};
use secrets::{new_secret_row, secret_view};

use std::collections::{BTreeSet, HashMap};

use serde_json::json;

use super::{
    ServiceError,
    accounts::{Principal, PrincipalKind},
    catalogue::{self, check_added},
    roles,
};
use crate::{
    domain::{
        FieldError,
        app_rules::{DEFAULT_SECRET_LIFETIME_SECS, EXPIRY_WARNING_SECS, secret_works_at},
        credentials::{SecretHasher, generate_client_id},
        grant_types, issuer,
        membership::Role,
        paging::{Page, PageRequest},
        scopes::{check_not_reserved, check_scope_name},
    },
    model::apps::{AppSummary, AppView, ClientType, NewSecret, SecretView, Visibility},
    store::{
        Database, StoreError, Tx,
        apps::{self, AppRow},
        audit::{self, Actor, NewEvent},
        catalogue::Catalogue,
        secrets::{self as secret_store},
    },
};

pub struct CreatedApp {
    pub app: AppView,
    pub first_secret: Option<NewSecret>,
}

fn view(row: AppRow) -> Result<AppView, ServiceError> {
    let corrupt = |what: &str| ServiceError::Store(StoreError::Corrupt(what.to_string()));
    Ok(AppView {
        visibility: Visibility::parse(&row.visibility).ok_or_else(|| corrupt("visibility"))?,
        client_type: ClientType::parse(&row.client_type).ok_or_else(|| corrupt("client type"))?,
        scopes: split_list(&row.scopes),
        roles: split_list(&row.roles),
        audiences: split_list(&row.audiences),
        grant_types: grant_types::parse_list(&row.grant_types)
            .map_err(|_| corrupt("grant types"))?
            .into_iter()
            .map(|g| g.as_str().to_string())
            .collect(),
        disabled: row.disabled_at.is_some(),
        disabled_by_admin: row.disabled_at.is_some() && row.disabled_by_admin,
        client_id: row.client_id,
        name: row.name,
        description: row.description,
        tool: row.tool,
        callback_url: row.callback_url,
        token_lifetime_secs: row.token_lifetime_secs,
        owner_id: row.owner_id,
        created_at: row.created_at,
    })
}

fn split_list(value: &str) -> Vec<String> {
    value.split_whitespace().map(str::to_string).collect()
}

fn not_found() -> ServiceError {
    ServiceError::NotFound("No such app.".into())
}

/// Admins manage every app of their tenant; developers only their own, and not tool clients,
/// which act for the tenant (the tool clients of an admin who became a developer stay with
/// the admins). To anyone else an app does not exist, so probing ids reveals nothing.
/// `apps::list` and `secret_store::list_for_apps_of` filter by the same rule.
fn may_manage(by: &Principal, app: &AppRow) -> bool {
    by.role == Role::Admin || (!app.tool && app.owner_id.as_deref() == Some(by.user_id.as_str()))
}

/// Records an event about app `target` as part of `tx`.
async fn record(
    tx: &mut Tx,
    event: NewEvent<'_>,
    target: &str,
    detail: serde_json::Value,
    ip: Option<&str>,
) -> Result<(), ServiceError> {
    audit::record(tx, &event.target("app", target).detail(detail).ip(ip)).await?;
    Ok(())
}

/// Only admins give apps roles and audiences (seed 004: the Tenant Administrator assigns
/// tenant roles): each is a grant the tenant makes to an app (a role lands in its tokens'
/// `roles` claim, an audience lets it ask for tokens to another API), not something the
/// app's owner may claim for it. What an app has already been given may stay as it is, so a
/// developer can still save an app an admin gave roles.
fn check_grants(by: &Principal, current: &AppDraft, wanted: &AppDraft) -> Result<(), ServiceError> {
    if by.role == Role::Admin {
        return Ok(());
    }
    let same = |a: &[String], b: &[String]| {
        a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
    };
    if !same(&current.roles, &wanted.roles) {
        return Err(ServiceError::ForbiddenField(FieldError::new(
            "roles",
            "Only tenant admins give apps roles.",
        )));
    }
    if !same(&current.audiences, &wanted.audiences) {
        return Err(ServiceError::ForbiddenField(FieldError::new(
            "audiences",
            "Only tenant admins give apps audiences.",
        )));
    }
    Ok(())
}

/// Audiences under this server's public URL are the server's to hand out: a tenant may name
/// only its own derived one, or its apps' tokens could pass another tenant's checks (or the
/// management API's).
fn check_audiences(
    public_url: &str,
    tenant_id: &str,
    audiences: &[String],
) -> Result<(), ServiceError> {
    for audience in audiences {
        if let Some(reason) = issuer::reserved_audience_reason(public_url, tenant_id, audience) {
            return Err(FieldError::new("audiences", format!("{audience}: {reason}")).into());
        }
    }
    Ok(())
}

/// Registers an app owned by `by`; a confidential app gets its first secret, shown once.
pub async fn create_app(
    db: &Database,
    hasher: &SecretHasher,
    public_url: &str,
    by: &Principal,
    draft: AppDraft,
    ip: Option<&str>,
    now: i64,
) -> Result<CreatedApp, ServiceError> {
    if draft.tool && !by.role.can_create_tool_clients() {
        return Err(ServiceError::Forbidden(
            "Only tenant admins create tool clients: their tokens act for the whole tenant.".into(),
        ));
    }
    // A new app has been given nothing yet.
    check_grants(by, &AppDraft::new(""), &draft)?;
    // A tool client creates apps for the tenant: no owner, only admins manage them.
    let owner = (by.kind == PrincipalKind::User).then_some(by.user_id.as_str());
    check_audiences(public_url, &by.tenant_id, &draft.audiences)?;
    create(db, hasher, &by.tenant_id, owner, by.actor(), draft, ip, now).await
}

/// `keyport client create`: an app with no owner (only admins manage it), made by the system.
/// The operator's command line gives no audiences, so it needs no public URL to check them
/// against (and the token service drops reserved ones whatever is stored).
pub async fn create_app_for_tenant(
    db: &Database,
    hasher: &SecretHasher,
    tenant_id: &str,
    draft: AppDraft,
    now: i64,
) -> Result<CreatedApp, ServiceError> {
    create(db, hasher, tenant_id, None, Actor::System, draft, None, now).await
}

#[allow(clippy::too_many_arguments)]
async fn create(
    db: &Database,
    hasher: &SecretHasher,
    tenant_id: &str,
    owner: Option<&str>,
    actor: Actor<'_>,
    draft: AppDraft,
    ip: Option<&str>,
    now: i64,
) -> Result<CreatedApp, ServiceError> {
    let Valid {
        name,
        callback,
        grants,
    } = validate(&draft)?;
    // The command line names scopes and roles freely and adds them to the catalogues; people
    // and tool clients choose from them, as they do when changing an app.
    let adds_to_catalogue = matches!(actor, Actor::System);
    if adds_to_catalogue {
        for scope in &draft.scopes {
            check_scope_name(scope)
                .and_then(|()| check_not_reserved(scope))
                .map_err(|e| FieldError::new("scopes", e.message))?;
        }
    }
    let row = AppRow {
        client_id: generate_client_id(),
        tenant_id: tenant_id.to_string(),
        owner_id: owner.map(str::to_string),
        name: name.as_str().to_string(),
        description: draft.description.trim().to_string(),
        visibility: draft.visibility.as_str().to_string(),
        client_type: draft.client_type.as_str().to_string(),
        tool: draft.tool,
        callback_url: callback.map(|c| c.as_str().to_string()),
        scopes: draft.scopes.join(" "),
        roles: draft.roles.join(" "),
        token_lifetime_secs: draft.token_lifetime_secs,
        created_at: now,
        updated_at: now,
        disabled_at: None,
        audiences: draft.audiences.join(" "),
        disabled_by: None,
        disabled_by_admin: false,
        grant_types: grant_types::join(&grants),
    };
    let client_id = row.client_id.clone();
    let mut tx = db.begin().await?;
    if adds_to_catalogue {
        for scope in &draft.scopes {
            crate::store::catalogue::ensure(&mut tx, Catalogue::Scopes, tenant_id, scope, "", now)
                .await?;
        }
        roles::ensure_for_operator(&mut tx, tenant_id, &draft.roles, now).await?;
    } else {
        check_added(&mut tx, Catalogue::Scopes, tenant_id, &draft.scopes).await?;
        check_added(&mut tx, Catalogue::Roles, tenant_id, &draft.roles).await?;
    }
    apps::insert(&mut tx, &row).await?;
    let detail = json!({ "name": row.name });
    record(
        &mut tx,
        NewEvent::new(Some(tenant_id), actor, "app.created", now),
        &client_id,
        detail,
        ip,
    )
    .await?;
    let first_secret = if draft.client_type == ClientType::Confidential {
        let expires_at = Some(now + DEFAULT_SECRET_LIFETIME_SECS);
        let (secret, plaintext) =
            new_secret_row(hasher, &client_id, "First secret", expires_at, owner, now);
        secret_store::insert(&mut tx, &secret).await?;
        let detail = json!({ "secret_id": secret.id, "prefix": secret.prefix });
        record(
            &mut tx,
            NewEvent::new(Some(tenant_id), actor, "secret.created", now),
            &client_id,
            detail,
            ip,
        )
        .await?;
        Some(NewSecret {
            secret: secret_view(&secret, now),
            plaintext,
        })
    } else {
        None
    };
    tx.commit().await?;
    Ok(CreatedApp {
        app: view(row)?,
        first_secret,
    })
}

/// The Apps list: each app `by` may manage, with how many secrets work and when the first
/// of them expires.
pub async fn list_app_summaries(
    db: &Database,
    by: &Principal,
    now: i64,
) -> Result<Vec<AppSummary>, ServiceError> {
    let apps = list_apps(db, by).await?;
    let mut secrets_of: HashMap<String, Vec<SecretView>> = HashMap::new();
    for row in secret_store::list_for_apps_of(db, &by.tenant_id, managed_owner(by)).await? {
        secrets_of
            .entry(row.client_id.clone())
            .or_default()
            .push(secret_view(&row, now));
    }
    let authorised = crate::services::connected_apps::authorised_counts(db, &by.tenant_id).await?;
    Ok(apps
        .into_iter()
        .map(|app| {
            let secrets = secrets_of.remove(&app.client_id).unwrap_or_default();
            let active: Vec<&SecretView> = secrets
                .iter()
                .filter(|s| secret_works_at(s.revoked_at, s.grace_until, s.expires_at, now))
                .collect();
            let soonest_expiry = active.iter().filter_map(|s| s.expires_at).min();
            AppSummary {
                authorised_by: authorised.get(&app.client_id).copied().unwrap_or(0),
                active_secrets: active.len(),
                soonest_expiry,
                expiring_soon: soonest_expiry.is_some_and(|at| at - now < EXPIRY_WARNING_SECS),
                app,
            }
        })
        .collect())
}

/// Whose apps `by` manages: an admin all of the tenant's, anyone else their own (but not
/// tool clients: see [`may_manage`]).
fn managed_owner(by: &Principal) -> Option<&str> {
    (by.role != Role::Admin).then_some(by.user_id.as_str())
}

/// The apps `by` may manage, newest first.
pub async fn list_apps(db: &Database, by: &Principal) -> Result<Vec<AppView>, ServiceError> {
    apps::list(db, &by.tenant_id, managed_owner(by))
        .await?
        .into_iter()
        .map(view)
        .collect()
}

/// One page of [`list_apps`].
pub async fn list_apps_page(
    db: &Database,
    by: &Principal,
    page: PageRequest,
) -> Result<Page<AppView>, ServiceError> {
    Ok(page.slice(list_apps(db, by).await?))
}

pub async fn get_app(
    db: &Database,
    by: &Principal,
    client_id: &str,
) -> Result<AppView, ServiceError> {
    match apps::get(db, &by.tenant_id, client_id).await? {
        Some(app) if may_manage(by, &app) => view(app),
        _ => Err(not_found()),
    }
}

/// Loads an app for a change inside `tx`, or 404.
async fn app_for_change(
    tx: &mut Tx,
    by: &Principal,
    client_id: &str,
) -> Result<AppRow, ServiceError> {
    match apps::get_in(tx, &by.tenant_id, client_id).await? {
        Some(app) if may_manage(by, &app) => Ok(app),
        _ => Err(not_found()),
    }
}

/// Changes an app as `changes` says. The app is read, merged with the changes, checked and
/// written in one transaction with its audit event, holding the app's row meanwhile, so a
/// concurrent change of another field is neither lost nor undone.
pub async fn update_app(
    db: &Database,
    public_url: &str,
    by: &Principal,
    client_id: &str,
    changes: AppChanges,
    ip: Option<&str>,
    now: i64,
) -> Result<AppView, ServiceError> {
    let mut tx = db.begin().await?;
    // Who may change the app is settled before its row is held, so a member who may not
    // manage it cannot hold up those who may; the row is read again once held.
    app_for_change(&mut tx, by, client_id).await?;
    apps::lock(&mut tx, &by.tenant_id, client_id).await?;
    let mut row = app_for_change(&mut tx, by, client_id).await?;
    let current = draft_of(view(row.clone())?);
    let draft = changes.apply_to(current.clone());
    let Valid {
        name,
        callback,
        grants,
    } = validate(&draft).map_err(|e| blame_the_change(e, &current, &draft))?;
    check_grants(by, &current, &draft)?;
    // Only audiences being added: one stored before audiences were reserved (which tokens
    // never carry) must not make every later edit of the app fail.
    let new_audiences = catalogue::added(&current.audiences, &draft.audiences);
    check_audiences(public_url, &by.tenant_id, &new_audiences)?;
    let new_scopes = catalogue::added(&current.scopes, &draft.scopes);
    check_added(&mut tx, Catalogue::Scopes, &by.tenant_id, &new_scopes).await?;
    let new_roles = catalogue::added(&current.roles, &draft.roles);
    check_added(&mut tx, Catalogue::Roles, &by.tenant_id, &new_roles).await?;
    row.name = name.as_str().to_string();
    row.description = draft.description.trim().to_string();
    row.visibility = draft.visibility.as_str().to_string();
    row.callback_url = callback.map(|c| c.as_str().to_string());
    row.scopes = draft.scopes.join(" ");
    row.roles = draft.roles.join(" ");
    row.token_lifetime_secs = draft.token_lifetime_secs;
    row.audiences = draft.audiences.join(" ");
    row.grant_types = grant_types::join(&grants);
    row.updated_at = now;
    apps::update(&mut tx, &row).await?;
    record(
        &mut tx,
        by.event("app.updated", now),
        client_id,
        json!({ "name": row.name }),
        ip,
    )
    .await?;
    tx.commit().await?;
    view(row)
}

/// Deletes an app; its secrets stop working at once.
pub async fn delete_app(
    db: &Database,
    by: &Principal,
    client_id: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    let mut tx = db.begin().await?;
    let row = app_for_change(&mut tx, by, client_id).await?;
    apps::delete(&mut tx, client_id).await?;
    record(
        &mut tx,
        by.event("app.deleted", now),
        client_id,
        json!({ "name": row.name }),
        ip,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Switches an app off (its credentials get `invalid_client`, nothing is deleted) or back on.
/// An app an admin switched off stays off until an admin switches it on: its developer may
/// undo only their own switch-off, or an admin's decision would last only until they noticed.
pub async fn set_app_disabled(
    db: &Database,
    by: &Principal,
    client_id: &str,
    disabled: bool,
    ip: Option<&str>,
    now: i64,
) -> Result<AppView, ServiceError> {
    let mut tx = db.begin().await?;
    app_for_change(&mut tx, by, client_id).await?;
    apps::lock(&mut tx, &by.tenant_id, client_id).await?;
    let mut row = app_for_change(&mut tx, by, client_id).await?;
    let by_admin = by.role == Role::Admin;
    let was_disabled = row.disabled_at.is_some();
    if disabled {
        // Switching off again keeps the first time and who, unless an admin now takes over a
        // developer's switch-off, which then needs an admin to undo.
        if !was_disabled || (by_admin && !row.disabled_by_admin) {
            row.disabled_at = Some(row.disabled_at.unwrap_or(now));
            row.disabled_by = Some(by.user_id.clone());
            row.disabled_by_admin = by_admin;
        }
    } else {
        if was_disabled && row.disabled_by_admin && !by_admin {
            return Err(ServiceError::Forbidden(
                "An admin switched this app off: only a tenant admin can switch it back on.".into(),
            ));
        }
        row.disabled_at = None;
        row.disabled_by = None;
        row.disabled_by_admin = false;
    }
    apps::set_disabled(&mut tx, &row).await?;
    let action = if disabled {
        "app.disabled"
    } else {
        "app.enabled"
    };
    record(&mut tx, by.event(action, now), client_id, json!({}), ip).await?;
    tx.commit().await?;
    view(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::app_rules::DEFAULT_TOKEN_LIFETIME_SECS,
        services::{
            accounts::{self, principal},
            testkit::{NOW, PUBLIC_URL, added, admin, draft, hasher},
        },
        store::testkit::for_each_migrated_engine,
    };

    #[tokio::test]
    async fn an_app_given_only_a_name_gets_the_defaults() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let created = create_app(
                &db,
                &hasher(),
                PUBLIC_URL,
                &ann,
                AppDraft::new("Billing"),
                None,
                NOW,
            )
            .await
            .unwrap();
            let app = created.app;
            assert_eq!(
                (app.visibility, app.client_type, app.tool),
                (Visibility::Private, ClientType::Confidential, false)
            );
            assert_eq!(app.callback_url, None);
            assert_eq!(app.token_lifetime_secs, DEFAULT_TOKEN_LIFETIME_SECS);
            assert!(app.scopes.is_empty() && app.roles.is_empty() && app.audiences.is_empty());
            assert!(
                created.first_secret.is_some(),
                "a confidential app's first secret"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn a_change_keeps_what_it_does_not_name_and_commits_with_its_event() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            roles::add_role(&db, &ann, "reader", "", None, NOW)
                .await
                .unwrap();
            let made = AppDraft {
                description: "Invoices".into(),
                roles: vec!["reader".into()],
                audiences: vec!["https://api.example.com".into()],
                token_lifetime_secs: 900,
                ..draft("Billing")
            };
            let before = create_app(&db, &hasher(), PUBLIC_URL, &ann, made, None, NOW)
                .await
                .unwrap()
                .app;
            let id = before.client_id.clone();
            // Without its callback URL the app keeps only the grant that needs none.
            let changes = AppChanges {
                name: Some("Billing v2".into()),
                callback_url: Some(None),
                grant_types: Some(vec!["client_credentials".into()]),
                ..AppChanges::default()
            };
            let after = update_app(
                &db,
                PUBLIC_URL,
                &ann,
                &id,
                changes,
                Some("192.0.2.1"),
                NOW + 5,
            )
            .await
            .unwrap();
            assert_eq!(
                after,
                AppView {
                    name: "Billing v2".into(),
                    callback_url: None,
                    grant_types: vec!["client_credentials".into()],
                    ..before.clone()
                },
                "only the named fields change"
            );
            assert_eq!(get_app(&db, &ann, &id).await.unwrap(), after);
            let logged = audit::list_for_target(&db, &ann.tenant_id, &id, 100)
                .await
                .unwrap();
            assert_eq!(logged.len(), 3);
            let event = &logged[0];
            assert_eq!(
                (event.action.as_str(), event.created_at, event.ip.as_deref()),
                ("app.updated", NOW + 5, Some("192.0.2.1"))
            );
            assert_eq!(event.actor_id.as_deref(), Some(ann.user_id.as_str()));
            assert_eq!(event.detail.as_deref(), Some(r#"{"name":"Billing v2"}"#));

            // A change that breaks a rule leaves the app and the log as they were.
            let invalid = AppChanges {
                description: Some("changed".into()),
                token_lifetime_secs: Some(59),
                ..AppChanges::default()
            };
            let err = update_app(&db, PUBLIC_URL, &ann, &id, invalid, None, NOW + 6)
                .await
                .unwrap_err();
            assert!(
                matches!(err, ServiceError::Invalid(ref f) if f.field == "token_lifetime_secs")
            );
            assert_eq!(get_app(&db, &ann, &id).await.unwrap(), after);
            let logged = audit::list_for_target(&db, &ann.tenant_id, &id, 100)
                .await
                .unwrap();
            assert_eq!(logged.len(), 3, "no event for a change that did not happen");

            // The stored client type is the one checked: a public client keeps needing a URL.
            let public = AppDraft {
                client_type: ClientType::Public,
                ..draft("Mobile")
            };
            let public = create_app(&db, &hasher(), PUBLIC_URL, &ann, public, None, NOW)
                .await
                .unwrap()
                .app;
            let no_url = AppChanges {
                callback_url: Some(None),
                ..AppChanges::default()
            };
            let err = update_app(
                &db,
                PUBLIC_URL,
                &ann,
                &public.client_id,
                no_url,
                None,
                NOW + 7,
            )
            .await
            .unwrap_err();
            assert!(matches!(err, ServiceError::Invalid(ref f) if f.field == "callback_url"));

            let other = admin(&db, "bob@example.com", NOW).await;
            assert!(matches!(
                update_app(
                    &db,
                    PUBLIC_URL,
                    &other,
                    &id,
                    AppChanges::default(),
                    None,
                    NOW + 8
                )
                .await,
                Err(ServiceError::NotFound(_))
            ));
        })
        .await;
    }

    #[tokio::test]
    async fn concurrent_changes_of_different_fields_all_stay() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            roles::add_role(&db, &ann, "reader", "", None, NOW)
                .await
                .unwrap();
            let id = create_app(
                &db,
                &hasher(),
                PUBLIC_URL,
                &ann,
                draft("Billing"),
                None,
                NOW,
            )
            .await
            .unwrap()
            .app
            .client_id;
            let changes = [
                AppChanges {
                    description: Some("Invoices".into()),
                    ..AppChanges::default()
                },
                AppChanges {
                    roles: Some(vec!["reader".into()]),
                    ..AppChanges::default()
                },
                AppChanges {
                    audiences: Some(vec!["https://api.example.com".into()]),
                    ..AppChanges::default()
                },
                AppChanges {
                    token_lifetime_secs: Some(600),
                    ..AppChanges::default()
                },
                AppChanges {
                    visibility: Some(Visibility::Public),
                    ..AppChanges::default()
                },
            ];
            let attempts = changes
                .into_iter()
                .map(|c| update_app(&db, PUBLIC_URL, &ann, &id, c, None, NOW + 1));
            for result in futures::future::join_all(attempts).await {
                result.unwrap();
            }
            let app = get_app(&db, &ann, &id).await.unwrap();
            assert_eq!(
                (
                    app.description.as_str(),
                    app.roles,
                    app.audiences,
                    app.token_lifetime_secs,
                    app.visibility
                ),
                (
                    "Invoices",
                    vec!["reader".to_string()],
                    vec!["https://api.example.com".to_string()],
                    600,
                    Visibility::Public
                )
            );
        })
        .await;
    }

    #[tokio::test]
    async fn activity_names_people_and_clients() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let created = create_app(
                &db,
                &hasher(),
                PUBLIC_URL,
                &ann,
                draft("Billing"),
                None,
                NOW,
            )
            .await
            .unwrap();
            let tool = create_app(
                &db,
                &hasher(),
                PUBLIC_URL,
                &ann,
                draft("Deploy bot"),
                None,
                NOW,
            )
            .await
            .unwrap();
            let bot = Principal::tool_client(&tool.app.client_id, &ann.tenant_id);
            let first = created.first_secret.unwrap().secret.id;
            delete_secret(&db, &bot, &created.app.client_id, &first, None, NOW + 1)
                .await
                .unwrap();
            let activity = app_activity(&db, &ann, &created.app.client_id)
                .await
                .unwrap();
            let lines: Vec<(&str, &str)> = activity
                .iter()
                .map(|a| (a.action.as_str(), a.actor.as_str()))
                .collect();
            let bot_name = format!("Deploy bot (client {})", tool.app.client_id);
            assert_eq!(lines[0], ("secret.deleted", bot_name.as_str()));
            assert!(
                lines[1..]
                    .iter()
                    .all(|(_, who)| who.ends_with("<ann@example.com>")),
                "{lines:?}"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn creating_a_confidential_app_shows_its_first_secret_once_and_stores_only_a_hash() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let created = create_app(
                &db,
                &hasher(),
                PUBLIC_URL,
                &ann,
                draft("Billing"),
                None,
                NOW,
            )
            .await
            .unwrap();
            let first = created
                .first_secret
                .expect("a confidential app gets a secret");
            assert!(crate::domain::credentials::is_well_formed_secret(
                &first.plaintext
            ));
            assert!(crate::domain::credentials::is_well_formed_client_id(
                &created.app.client_id
            ));
            assert_eq!(
                first.secret.expires_at,
                Some(NOW + DEFAULT_SECRET_LIFETIME_SECS)
            );

            let stored = secret_store::list(&db, &created.app.client_id)
                .await
                .unwrap();
            assert_eq!(stored.len(), 1);
            assert_ne!(stored[0].hash, first.plaintext);
            assert!(!stored[0].hash.contains(&first.plaintext[4..20]));
            assert!(hasher().verify(&first.plaintext, &stored[0].hash));

            let actions: Vec<_> = audit::list_for_tenant(&db, &ann.tenant_id, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.action, e.detail))
                .collect();
            assert_eq!(actions[0].0, "secret.created");
            assert_eq!(actions[1].0, "app.created");
            assert!(
                actions
                    .iter()
                    .all(|(_, d)| !d.as_deref().unwrap_or_default().contains(&first.plaintext)),
                "no plaintext in the audit log"
            );

            let mut public = draft("Mobile");
            public.client_type = ClientType::Public;
            assert!(
                create_app(&db, &hasher(), PUBLIC_URL, &ann, public, None, NOW)
                    .await
                    .unwrap()
                    .first_secret
                    .is_none()
            );
        })
        .await;
    }

    #[tokio::test]
    async fn invalid_drafts_name_the_field() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let cases: Vec<(AppDraft, &str)> = vec![
                (
                    AppDraft {
                        name: " ".into(),
                        ..draft("x")
                    },
                    "name",
                ),
                (
                    AppDraft {
                        callback_url: Some("javascript:alert(1)".into()),
                        ..draft("x")
                    },
                    "callback_url",
                ),
                (
                    AppDraft {
                        token_lifetime_secs: 59,
                        ..draft("x")
                    },
                    "token_lifetime_secs",
                ),
                (
                    AppDraft {
                        client_type: ClientType::Public,
                        tool: true,
                        ..draft("x")
                    },
                    "tool",
                ),
                (
                    AppDraft {
                        scopes: vec!["a b".into()],
                        ..draft("x")
                    },
                    "scopes",
                ),
            ];
            for (d, field) in cases {
                let err = create_app(&db, &hasher(), PUBLIC_URL, &ann, d, None, NOW)
                    .await
                    .err()
                    .expect(field);
                assert!(
                    matches!(err, ServiceError::Invalid(ref f) if f.field == field),
                    "{field}: {err:?}"
                );
            }
            assert!(
                list_apps(&db, &ann).await.unwrap().is_empty(),
                "nothing half-created"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn refresh_replaces_atomically_with_or_without_grace() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let app = create_app(
                &db,
                &hasher(),
                PUBLIC_URL,
                &ann,
                draft("Billing"),
                None,
                NOW,
            )
            .await
            .unwrap();
            let first = app.first_secret.unwrap();
            let id = app.app.client_id;

            let second = refresh_secret(
                &db,
                &hasher(),
                &ann,
                &id,
                &first.secret.id,
                0,
                None,
                NOW + 10,
            )
            .await
            .unwrap();
            let rows = secret_store::list(&db, &id).await.unwrap();
            let old = rows.iter().find(|r| r.id == first.secret.id).unwrap();
            assert_eq!(old.revoked_at, Some(NOW + 10));
            assert_eq!(old.replaced_by.as_deref(), Some(second.secret.id.as_str()));
            assert_eq!(old.grace_until, None);

            let third = refresh_secret(
                &db,
                &hasher(),
                &ann,
                &id,
                &second.secret.id,
                3600,
                None,
                NOW + 20,
            )
            .await
            .unwrap();
            let rows = secret_store::list(&db, &id).await.unwrap();
            let graced = rows.iter().find(|r| r.id == second.secret.id).unwrap();
            assert_eq!(graced.grace_until, Some(NOW + 20 + 3600));
            assert_eq!(graced.revoked_at, None);
            assert_ne!(third.plaintext, second.plaintext);

            let again = refresh_secret(
                &db,
                &hasher(),
                &ann,
                &id,
                &first.secret.id,
                0,
                None,
                NOW + 30,
            )
            .await
            .err()
            .unwrap();
            assert!(
                matches!(again, ServiceError::Rule(_)),
                "a replaced secret cannot be refreshed again"
            );
            let too_long = refresh_secret(
                &db,
                &hasher(),
                &ann,
                &id,
                &third.secret.id,
                8 * 24 * 3600,
                None,
                NOW,
            )
            .await
            .err()
            .unwrap();
            assert!(matches!(too_long, ServiceError::Invalid(ref f) if f.field == "grace_seconds"));
            assert_eq!(
                secret_store::list(&db, &id).await.unwrap().len(),
                3,
                "failed refreshes leave nothing behind"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn concurrent_refreshes_of_one_secret_leave_exactly_one_successor() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let app = create_app(
                &db,
                &hasher(),
                PUBLIC_URL,
                &ann,
                draft("Billing"),
                None,
                NOW,
            )
            .await
            .unwrap();
            let (id, secret_id) = (app.app.client_id, app.first_secret.unwrap().secret.id);
            let h = hasher();
            let attempts =
                (0..4).map(|i| refresh_secret(&db, &h, &ann, &id, &secret_id, 0, None, NOW + i));
            let results = futures::future::join_all(attempts).await;
            assert_eq!(
                results.iter().filter(|r| r.is_ok()).count(),
                1,
                "{results:?}"
            );
            let rows = secret_store::list(&db, &id).await.unwrap();
            assert_eq!(rows.len(), 2, "the old secret and one successor");
            let winner = results.into_iter().find_map(Result::ok).unwrap();
            let old = rows.iter().find(|r| r.id == secret_id).unwrap();
            assert_eq!(old.replaced_by.as_deref(), Some(winner.secret.id.as_str()));
        })
        .await;
    }

    #[tokio::test]
    async fn developers_manage_only_their_own_apps_and_other_tenants_apps_do_not_exist() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let bob = admin(&db, "bob@example.com", NOW).await;
            let bob_in_ann = added(
                &db,
                &ann,
                "bob@example.com",
                &bob.user_id,
                Role::Developer,
                NOW,
            )
            .await;

            let anns_app = create_app(&db, &hasher(), PUBLIC_URL, &ann, draft("Ann's"), None, NOW)
                .await
                .unwrap()
                .app;
            let bobs_app = create_app(
                &db,
                &hasher(),
                PUBLIC_URL,
                &bob_in_ann,
                draft("Bob's"),
                None,
                NOW + 1,
            )
            .await
            .unwrap()
            .app;

            // A tool client acts for the tenant: a developer may not create one.
            let tool = AppDraft {
                tool: true,
                roles: vec!["admin".into()],
                ..draft("Deploy bot")
            };
            assert!(matches!(
                create_app(
                    &db,
                    &hasher(),
                    PUBLIC_URL,
                    &bob_in_ann,
                    tool.clone(),
                    None,
                    NOW + 1
                )
                .await,
                Err(ServiceError::Forbidden(_))
            ));
            let admins_tool = create_app(&db, &hasher(), PUBLIC_URL, &ann, tool, None, NOW)
                .await
                .unwrap()
                .app;
            // Nor may one who created it as an admin, once a developer, manage it any more.
            let cat = admin(&db, "cat@example.com", NOW).await;
            let cat_in_ann =
                added(&db, &ann, "cat@example.com", &cat.user_id, Role::Admin, NOW).await;
            let cats_tool = AppDraft {
                tool: true,
                ..draft("Cat's bot")
            };
            let cats_tool = create_app(
                &db,
                &hasher(),
                PUBLIC_URL,
                &cat_in_ann,
                cats_tool,
                None,
                NOW,
            )
            .await
            .unwrap()
            .app;
            accounts::change_member(
                &db,
                &ann,
                &cat.user_id,
                crate::domain::membership::MemberChange::SetRole(Role::Developer),
                None,
                NOW,
            )
            .await
            .unwrap();
            let cat_now = principal(&db, &cat.user_id, &ann.tenant_id)
                .await
                .unwrap()
                .unwrap();
            assert!(matches!(
                get_app(&db, &cat_now, &cats_tool.client_id).await,
                Err(ServiceError::NotFound(_))
            ));
            assert!(list_apps(&db, &cat_now).await.unwrap().is_empty());
            assert!(
                list_app_summaries(&db, &cat_now, NOW)
                    .await
                    .unwrap()
                    .is_empty()
            );
            for tool in [&admins_tool, &cats_tool] {
                delete_app(&db, &ann, &tool.client_id, None, NOW)
                    .await
                    .unwrap();
            }

            let bob_sees: Vec<_> = list_apps(&db, &bob_in_ann)
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.name)
                .collect();
            assert_eq!(bob_sees, ["Bob's"]);
            let ann_sees: Vec<_> = list_apps(&db, &ann)
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.name)
                .collect();
            assert_eq!(
                ann_sees,
                ["Bob's", "Ann's"],
                "admins see every app, newest first"
            );

            // The list's secret counts and soonest expiry belong to each app.
            let soon = NOW + 3600;
            add_secret(
                &db,
                &hasher(),
                &bob_in_ann,
                &bobs_app.client_id,
                "",
                Expiry::At(soon),
                None,
                NOW + 2,
            )
            .await
            .unwrap();
            let summary = |apps: Vec<AppSummary>| -> Vec<(String, usize, Option<i64>)> {
                apps.into_iter()
                    .map(|s| (s.app.name, s.active_secrets, s.soonest_expiry))
                    .collect()
            };
            let default_expiry = Some(NOW + DEFAULT_SECRET_LIFETIME_SECS);
            assert_eq!(
                summary(list_app_summaries(&db, &bob_in_ann, NOW + 3).await.unwrap()),
                [("Bob's".to_string(), 2, Some(soon))]
            );
            assert_eq!(
                summary(list_app_summaries(&db, &ann, NOW + 3).await.unwrap()),
                [
                    ("Bob's".to_string(), 2, Some(soon)),
                    ("Ann's".to_string(), 1, default_expiry)
                ]
            );
            assert_eq!(
                summary(list_app_summaries(&db, &ann, soon).await.unwrap())[0],
                (
                    "Bob's".to_string(),
                    1,
                    Some(NOW + 1 + DEFAULT_SECRET_LIFETIME_SECS)
                ),
                "an expired secret is not counted"
            );

            assert!(matches!(
                get_app(&db, &bob_in_ann, &anns_app.client_id).await,
                Err(ServiceError::NotFound(_))
            ));
            assert!(matches!(
                delete_app(&db, &bob_in_ann, &anns_app.client_id, None, NOW).await,
                Err(ServiceError::NotFound(_))
            ));
            // Bob's own tenant cannot see Ann's tenant's apps at all.
            assert!(matches!(
                get_app(&db, &bob, &bobs_app.client_id).await,
                Err(ServiceError::NotFound(_))
            ));
            assert!(list_apps(&db, &bob).await.unwrap().is_empty());

            delete_app(&db, &ann, &bobs_app.client_id, None, NOW + 2)
                .await
                .unwrap();
            assert!(
                secret_store::list(&db, &bobs_app.client_id)
                    .await
                    .unwrap()
                    .is_empty(),
                "secrets go with the app"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn added_secrets_honour_expiry_choices_and_deleted_ones_are_gone() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let app = create_app(
                &db,
                &hasher(),
                PUBLIC_URL,
                &ann,
                draft("Billing"),
                None,
                NOW,
            )
            .await
            .unwrap()
            .app;
            let never = add_secret(
                &db,
                &hasher(),
                &ann,
                &app.client_id,
                "CI",
                Expiry::Never,
                None,
                NOW,
            )
            .await
            .unwrap();
            assert_eq!(never.secret.expires_at, None);
            let dated = add_secret(
                &db,
                &hasher(),
                &ann,
                &app.client_id,
                "",
                Expiry::At(NOW + 60),
                None,
                NOW,
            )
            .await
            .unwrap();
            assert_eq!(dated.secret.expires_at, Some(NOW + 60));
            let past = add_secret(
                &db,
                &hasher(),
                &ann,
                &app.client_id,
                "",
                Expiry::At(NOW - 1),
                None,
                NOW,
            )
            .await
            .err()
            .unwrap();
            assert!(matches!(past, ServiceError::Invalid(ref f) if f.field == "expires_at"));

            let refreshed = refresh_secret(
                &db,
                &hasher(),
                &ann,
                &app.client_id,
                &never.secret.id,
                0,
                None,
                NOW + 1,
            )
            .await
            .unwrap();
            assert_eq!(
                refreshed.secret.expires_at, None,
                "a never-expiring secret's successor never expires"
            );
            assert_eq!(refreshed.secret.description, "CI");

            delete_secret(&db, &ann, &app.client_id, &dated.secret.id, None, NOW + 2)
                .await
                .unwrap();
            let left = list_secrets(&db, &ann, &app.client_id, NOW).await.unwrap();
            assert!(left.iter().all(|s| s.id != dated.secret.id));
            assert!(matches!(
                delete_secret(&db, &ann, &app.client_id, &dated.secret.id, None, NOW + 3).await,
                Err(ServiceError::NotFound(_))
            ));
        })
        .await;
    }
}
