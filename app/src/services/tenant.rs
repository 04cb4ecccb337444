//! The tenant's own settings: name, default audience, scope catalogue.

use serde_json::json;

use super::{ServiceError, accounts::Principal};
use crate::{
    domain::{FieldError, scopes::check_scope_name},
    model::tenant::{ScopeView, TenantView},
    store::{Database, audit, scopes, tenants},
};

/// The audience of a tenant that has not chosen one: unique per tenant, under the issuer.
pub fn default_audience(issuer: &str, tenant_id: &str) -> String {
    format!("{issuer}/tenants/{tenant_id}")
}

pub async fn get_tenant(
    db: &Database,
    issuer: &str,
    by: &Principal,
) -> Result<TenantView, ServiceError> {
    let tenant = tenants::get(db, &by.tenant_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound("No such tenant.".into()))?;
    let audience_is_default = tenant.audience.is_none();
    Ok(TenantView {
        audience: tenant
            .audience
            .unwrap_or_else(|| default_audience(issuer, &tenant.id)),
        audience_is_default,
        id: tenant.id,
        name: tenant.name,
    })
}

/// Renames the tenant and sets its default audience (empty: back to the derived one).
#[allow(clippy::too_many_arguments)]
pub async fn update_tenant(
    db: &Database,
    issuer: &str,
    by: &Principal,
    name: &str,
    audience: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<TenantView, ServiceError> {
    by.require_admin()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "Tenant names are 1 to 100 characters.").into());
    }
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
    let audience = (!audience.is_empty() && audience != default_audience(issuer, &by.tenant_id))
        .then_some(audience);
    let mut tx = db.begin().await?;
    tenants::update(&mut tx, &by.tenant_id, name, audience).await?;
    let detail = json!({ "name": name, "audience": audience });
    let event = by
        .event("tenant.updated", now)
        .target("tenant", &by.tenant_id);
    audit::record(&mut tx, &event.detail(detail).ip(ip)).await?;
    tx.commit().await?;
    get_tenant(db, issuer, by).await
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
    if description.chars().count() > 200 {
        return Err(
            FieldError::new("description", "Descriptions are at most 200 characters.").into(),
        );
    }
    let mut tx = db.begin().await?;
    scopes::insert(&mut tx, &by.tenant_id, name, description.trim(), now)
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                ServiceError::Conflict(FieldError::new(
                    "name",
                    "This scope is already in the catalogue.",
                ))
            } else {
                e.into()
            }
        })?;
    let event = by.event("scope.created", now).target("scope", name).ip(ip);
    audit::record(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_scope(
    db: &Database,
    by: &Principal,
    name: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    by.require_admin()?;
    let mut tx = db.begin().await?;
    if !scopes::delete(&mut tx, &by.tenant_id, name).await? {
        return Err(ServiceError::NotFound("No such scope.".into()));
    }
    let event = by.event("scope.deleted", now).target("scope", name).ip(ip);
    audit::record(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::membership::Role, services::testkit::admin,
        store::testkit::for_each_migrated_engine,
    };

    #[tokio::test]
    async fn admins_curate_scopes_and_the_audience() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", 1).await;
            let issuer = "https://id.example.com";
            let t = get_tenant(&db, issuer, &ann).await.unwrap();
            assert_eq!(t.audience, format!("{issuer}/tenants/{}", ann.tenant_id));
            assert!(t.audience_is_default);

            let t = update_tenant(
                &db,
                issuer,
                &ann,
                "Acme",
                "https://api.acme.example",
                None,
                2,
            )
            .await
            .unwrap();
            assert_eq!(
                (t.name.as_str(), t.audience.as_str(), t.audience_is_default),
                ("Acme", "https://api.acme.example", false)
            );
            let t = update_tenant(&db, issuer, &ann, "Acme", "", None, 3)
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
                update_tenant(&db, issuer, &dev, "X", "", None, 6).await,
                Err(ServiceError::Forbidden(_))
            ));

            delete_scope(&db, &ann, "orders:read", None, 7)
                .await
                .unwrap();
            assert!(list_scopes(&db, &ann).await.unwrap().is_empty());
        })
        .await;
    }
}
