//! The tenant's own settings: name, default audience, scope catalogue.

use serde_json::json;

use super::{
    ServiceError,
    accounts::Principal,
    catalogue::{add_entry, remove_entry},
};
use crate::{
    domain::{
        FieldError, issuer,
        scopes::{check_not_reserved, check_scope_name},
    },
    model::tenant::{ScopeView, TenantView},
    store::{
        Database, audit,
        catalogue::Catalogue,
        scopes,
        tenants::{self, TenantRow},
    },
};

pub use crate::domain::issuer::derived_audience as default_audience;

/// What a change of the tenant's settings changes; a field left `None` keeps its value.
#[derive(Debug, Clone, Default)]
pub struct TenantChanges {
    pub name: Option<String>,
    /// `Some(None)`, or empty: back to the derived default audience.
    pub audience: Option<Option<String>>,
}

fn not_found() -> ServiceError {
    ServiceError::NotFound("No such tenant.".into())
}

fn view(public_url: &str, tenant: TenantRow) -> TenantView {
    // The audience tokens carry: a reserved one stored before the rule is not used.
    let chosen = tenant
        .audience
        .filter(|a| issuer::may_use_audience(public_url, &tenant.id, a));
    TenantView {
        audience_is_default: chosen.is_none(),
        audience: chosen.unwrap_or_else(|| default_audience(public_url, &tenant.id)),
        issuer: issuer::tenant_issuer(public_url, &tenant.id),
        discovery_url: issuer::discovery_url(public_url, &tenant.id),
        id: tenant.id,
        name: tenant.name,
    }
}

pub async fn get_tenant(
    db: &Database,
    public_url: &str,
    by: &Principal,
) -> Result<TenantView, ServiceError> {
    let tenant = tenants::get(db, &by.tenant_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(view(public_url, tenant))
}

/// Renames the tenant and sets its default audience (empty: back to the derived one), as
/// `changes` says. The settings are read, merged, checked and written in one transaction
/// with the audit event, holding the tenant's row meanwhile, so a concurrent change of the
/// other setting is not undone.
pub async fn update_tenant(
    db: &Database,
    public_url: &str,
    by: &Principal,
    changes: TenantChanges,
    ip: Option<&str>,
    now: i64,
) -> Result<TenantView, ServiceError> {
    by.require_admin()?;
    let mut tx = db.begin().await?;
    tenants::lock(&mut tx, &by.tenant_id).await?;
    let current = tenants::get_in(&mut tx, &by.tenant_id)
        .await?
        .ok_or_else(not_found)?;
    let name = changes.name.unwrap_or_else(|| current.name.clone());
    let audience = changes
        .audience
        .unwrap_or_else(|| current.audience.clone())
        .unwrap_or_default();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "Tenant names are 1 to 100 characters.").into());
    }
    crate::domain::text::check_line("name", "Tenant names", name)?;
    let audience = audience.trim();
    if audience.chars().count() > 500
        || audience
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(FieldError::new(
            "audience",
            "An audience is one identifier without spaces, usually your API's URL.",
        )
        .into());
    }
    if let Some(reason) = issuer::reserved_audience_reason(public_url, &by.tenant_id, audience) {
        return Err(FieldError::new("audience", reason).into());
    }
    let audience = (!audience.is_empty()
        && audience != default_audience(public_url, &by.tenant_id))
    .then_some(audience);
    tenants::update(&mut tx, &by.tenant_id, name, audience).await?;
    let detail = json!({ "name": name, "audience": audience });
    let event = by
        .event("tenant.updated", now)
        .target("tenant", &by.tenant_id);
    audit::record(&mut tx, &event.detail(detail).ip(ip)).await?;
    tx.commit().await?;
    Ok(view(
        public_url,
        TenantRow {
            name: name.to_string(),
            audience: audience.map(str::to_string),
            ..current
        },
    ))
}

pub async fn list_scopes(db: &Database, by: &Principal) -> Result<Vec<ScopeView>, ServiceError> {
    Ok(scopes::list(db, &by.tenant_id)
        .await?
        .into_iter()
        .map(|s| ScopeView {
            name: s.name,
            description: s.description,
        })
        .collect())
}

pub async fn add_scope(
    db: &Database,
    by: &Principal,
    name: &str,
    description: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    by.require_admin()?;
    let name = name.trim();
    check_scope_name(name)?;
    check_not_reserved(name)?;
    add_entry(db, by, Catalogue::Scopes, name, description, ip, now).await
}

/// Removes a scope no app is allowed (409 naming the apps otherwise: tokens would keep
/// carrying it, and every later edit of those apps would fail on it).
pub async fn delete_scope(
    db: &Database,
    by: &Principal,
    name: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    remove_entry(db, by, Catalogue::Scopes, name, ip, now).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::membership::Role,
        services::testkit::{NOW, admin},
        store::testkit::for_each_migrated_engine,
    };

    const ISSUER: &str = "https://id.example.com";

    /// A change of both settings, as the portal's form makes.
    fn both(name: &str, audience: &str) -> TenantChanges {
        TenantChanges {
            name: Some(name.into()),
            audience: Some(Some(audience.into())),
        }
    }

    #[tokio::test]
    async fn admins_curate_scopes_and_the_audience() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", 1).await;
            let issuer = "https://id.example.com";
            let t = get_tenant(&db, issuer, &ann).await.unwrap();
            assert_eq!(t.audience, format!("{issuer}/tenants/{}", ann.tenant_id));
            assert!(t.audience_is_default);
            let own_issuer = format!("{issuer}/t/{}", ann.tenant_id);
            assert_eq!(t.issuer, own_issuer);
            assert_eq!(
                t.discovery_url,
                format!("{own_issuer}/.well-known/openid-configuration")
            );

            let t = update_tenant(
                &db,
                issuer,
                &ann,
                both("Acme", "https://api.acme.example"),
                None,
                2,
            )
            .await
            .unwrap();
            assert_eq!(
                (t.name.as_str(), t.audience.as_str(), t.audience_is_default),
                ("Acme", "https://api.acme.example", false)
            );
            let t = update_tenant(&db, issuer, &ann, both("Acme", ""), None, 3)
                .await
                .unwrap();
            assert!(t.audience_is_default);

            add_scope(&db, &ann, "orders:read", "Read orders", None, 4)
                .await
                .unwrap();
            let dup = add_scope(&db, &ann, "orders:read", "", None, 5)
                .await
                .unwrap_err();
            assert!(matches!(dup, ServiceError::Conflict(_)));
            let bad = add_scope(&db, &ann, "two words", "", None, 5)
                .await
                .unwrap_err();
            assert!(matches!(bad, ServiceError::Invalid(ref f) if f.field == "name"));
            assert_eq!(list_scopes(&db, &ann).await.unwrap().len(), 1);

            let dev = Principal {
                role: Role::Developer,
                ..ann.clone()
            };
            assert!(matches!(
                add_scope(&db, &dev, "x", "", None, 6).await,
                Err(ServiceError::Forbidden(_))
            ));
            assert!(matches!(
                update_tenant(&db, issuer, &dev, both("X", ""), None, 6).await,
                Err(ServiceError::Forbidden(_))
            ));

            delete_scope(&db, &ann, "orders:read", None, 7)
                .await
                .unwrap();
            assert!(list_scopes(&db, &ann).await.unwrap().is_empty());
        })
        .await;
    }

    #[tokio::test]
    async fn a_scope_apps_are_allowed_cannot_be_deleted_and_an_unused_one_can() {
        use crate::services::{
            apps::{AppChanges, AppDraft, create_app, update_app},
            testkit::{PUBLIC_URL, draft, hasher},
        };
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            for scope in ["orders:read", "orders:write"] {
                add_scope(&db, &ann, scope, "", None, NOW).await.unwrap();
            }
            let billing = AppDraft {
                scopes: vec!["orders:read".into()],
                ..draft("Billing")
            };
            let billing = create_app(&db, &hasher(), PUBLIC_URL, &ann, billing, None, NOW)
                .await
                .unwrap()
                .app;

            let refused = delete_scope(&db, &ann, "orders:read", None, NOW + 1)
                .await
                .unwrap_err();
            assert!(matches!(refused, ServiceError::Rule(_)), "{refused:?}");
            assert_eq!(
                refused.to_string(),
                "The scope orders:read is still given to 1 app (Billing): remove it from their \
                 scopes first."
            );
            assert_eq!(
                list_scopes(&db, &ann).await.unwrap().len(),
                2,
                "still there"
            );
            let logged = audit::list_for_target(&db, &ann.tenant_id, "orders:read", 10)
                .await
                .unwrap();
            assert_eq!(logged.len(), 1, "no event for a refused deletion");

            delete_scope(&db, &ann, "orders:write", None, NOW + 1)
                .await
                .unwrap();
            // So the app stays editable, and once it no longer has the scope it can go.
            let none = AppChanges {
                name: Some("Billing v2".into()),
                scopes: Some(Vec::new()),
                ..AppChanges::default()
            };
            update_app(
                &db,
                PUBLIC_URL,
                &ann,
                &billing.client_id,
                none,
                None,
                NOW + 2,
            )
            .await
            .unwrap();
            delete_scope(&db, &ann, "orders:read", None, NOW + 3)
                .await
                .unwrap();
            assert!(list_scopes(&db, &ann).await.unwrap().is_empty());
        })
        .await;
    }

    #[tokio::test]
    async fn a_change_keeps_the_setting_it_does_not_name_and_commits_with_its_event() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let audience = TenantChanges {
                audience: Some(Some("https://api.acme.example".into())),
                ..TenantChanges::default()
            };
            let before = update_tenant(&db, ISSUER, &ann, audience, None, NOW)
                .await
                .unwrap();

            let rename = TenantChanges {
                name: Some(" Acme ".into()),
                ..TenantChanges::default()
            };
            let renamed = update_tenant(&db, ISSUER, &ann, rename, Some("192.0.2.1"), NOW + 1)
                .await
                .unwrap();
            assert_eq!(
                renamed,
                TenantView {
                    name: "Acme".into(),
                    ..before.clone()
                },
                "the chosen audience stays"
            );
            assert_eq!(get_tenant(&db, ISSUER, &ann).await.unwrap(), renamed);
            let logged = audit::list_for_target(&db, &ann.tenant_id, &ann.tenant_id, 10)
                .await
                .unwrap();
            assert_eq!(logged.len(), 2);
            assert_eq!(
                (
                    logged[0].action.as_str(),
                    logged[0].created_at,
                    logged[0].ip.as_deref()
                ),
                ("tenant.updated", NOW + 1, Some("192.0.2.1"))
            );
            assert_eq!(
                logged[0].detail.as_deref(),
                Some(r#"{"audience":"https://api.acme.example","name":"Acme"}"#)
            );

            let back = TenantChanges {
                audience: Some(None),
                ..TenantChanges::default()
            };
            let t = update_tenant(&db, ISSUER, &ann, back, None, NOW + 2)
                .await
                .unwrap();
            assert_eq!((t.name.as_str(), t.audience_is_default), ("Acme", true));
            assert_eq!(t.audience, default_audience(ISSUER, &ann.tenant_id));

            let blank = TenantChanges {
                name: Some("  ".into()),
                audience: Some(Some("https://elsewhere.example".into())),
            };
            let err = update_tenant(&db, ISSUER, &ann, blank, None, NOW + 3)
                .await
                .unwrap_err();
            assert!(matches!(err, ServiceError::Invalid(ref f) if f.field == "name"));
            assert_eq!(get_tenant(&db, ISSUER, &ann).await.unwrap(), t);
            let logged = audit::list_for_target(&db, &ann.tenant_id, &ann.tenant_id, 10)
                .await
                .unwrap();
            assert_eq!(logged.len(), 3, "no event for a refused change");
        })
        .await;
    }

    #[tokio::test]
    async fn concurrent_changes_of_the_name_and_the_audience_both_stay() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            // Several rounds: the first may open the pool's connections slowly enough that
            // the two changes do not overlap.
            for round in 0..5 {
                let name = format!("Acme {round}");
                let audience = format!("https://api{round}.acme.example");
                let rename = TenantChanges {
                    name: Some(name.clone()),
                    ..TenantChanges::default()
                };
                let new_audience = TenantChanges {
                    audience: Some(Some(audience.clone())),
                    ..TenantChanges::default()
                };
                let (a, b) = futures::join!(
                    update_tenant(&db, ISSUER, &ann, rename, None, NOW),
                    update_tenant(&db, ISSUER, &ann, new_audience, None, NOW),
                );
                a.unwrap();
                b.unwrap();
                let t = get_tenant(&db, ISSUER, &ann).await.unwrap();
                assert_eq!((t.name, t.audience), (name, audience), "round {round}");
            }
        })
        .await;
    }
}
