//! The tenant's role catalogue (seed 004's tenant roles): admins keep it, as they keep the
//! scope catalogue, and apps are given roles from it only, by admins only.

use serde_json::json;

use super::{
    ServiceError,
    accounts::Principal,
    catalogue::{add_entry, remove_entry},
};
use crate::{
    domain::{
        FieldError,
        roles::{ADMIN, check_role_name},
    },
    model::tenant::RoleView,
    store::{
        Database, Tx,
        audit::{self, Actor, NewEvent},
        catalogue::{self, Catalogue},
    },
};

const ADMIN_DESCRIPTION: &str = "On a tool client: may call the management API.";

/// Gives a new tenant's catalogue its built-in role, in the transaction that makes the tenant.
pub(super) async fn seed(tx: &mut Tx, tenant_id: &str, now: i64) -> Result<(), ServiceError> {
    catalogue::ensure(
        tx,
        Catalogue::Roles,
        tenant_id,
        ADMIN,
        ADMIN_DESCRIPTION,
        now,
    )
    .await?;
    Ok(())
}

/// Adds the roles the command line names (`keyport client create --role R`) that the
/// catalogue lacks, each with its audit event: the operator may give any role, and the
/// catalogue then says so, where admins see it and may remove it.
pub(super) async fn ensure_for_operator(
    tx: &mut Tx,
    tenant_id: &str,
    roles: &[String],
    now: i64,
) -> Result<(), ServiceError> {
    for role in roles {
        check_role_name(role).map_err(|e| FieldError::new("roles", e.message))?;
        if catalogue::ensure(tx, Catalogue::Roles, tenant_id, role, "", now).await? {
            let event = NewEvent::new(Some(tenant_id), Actor::System, "role.created", now)
                .target("role", role)
                .detail(json!({ "via": "keyport client create" }));
            audit::record(tx, &event).await?;
        }
    }
    Ok(())
}

/// Every member may read the catalogue; only admins change it.
pub async fn list_roles(db: &Database, by: &Principal) -> Result<Vec<RoleView>, ServiceError> {
    Ok(catalogue::list(db, Catalogue::Roles, &by.tenant_id)
        .await?
        .into_iter()
        .map(|r| RoleView {
            name: r.name,
            description: r.description,
        })
        .collect())
}

pub async fn add_role(
    db: &Database,
    by: &Principal,
    name: &str,
    description: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    by.require_admin()?;
    let name = name.trim();
    check_role_name(name)?;
    add_entry(db, by, Catalogue::Roles, name, description, ip, now).await
}

/// Removes a role no app has (409 naming the apps otherwise).
pub async fn delete_role(
    db: &Database,
    by: &Principal,
    name: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    by.require_admin()?;
    // `admin` stays: the management API looks for it on tool clients, `keyport client create
    // --tool --role admin` and the docs name it, and without it in the catalogue no admin
    // could give it again from the portal or the API, which would leave a tenant unable to
    // make the tool client that manages it.
    if name == ADMIN {
        return Err(ServiceError::Rule(
            "The admin role is built in (on a tool client it opens the management API) and cannot be removed.".into(),
        ));
    }
    remove_entry(db, by, Catalogue::Roles, name, ip, now).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::membership::Role,
        services::{
            apps::{AppChanges, AppDraft, create_app, create_app_for_tenant, update_app},
            testkit::{NOW, PUBLIC_URL, admin, draft, hasher},
        },
        store::{audit, testkit::for_each_migrated_engine},
    };

    fn names(list: Vec<RoleView>) -> Vec<String> {
        list.into_iter().map(|r| r.name).collect()
    }

    #[tokio::test]
    async fn admins_keep_the_catalogue_which_starts_with_admin() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            assert_eq!(names(list_roles(&db, &ann).await.unwrap()), ["admin"]);

            add_role(&db, &ann, " billing:reader ", "Reads invoices", None, NOW)
                .await
                .unwrap();
            let listed = list_roles(&db, &ann).await.unwrap();
            assert_eq!(
                listed[1],
                RoleView {
                    name: "billing:reader".into(),
                    description: "Reads invoices".into()
                }
            );
            let dup = add_role(&db, &ann, "billing:reader", "", None, NOW)
                .await
                .unwrap_err();
            assert!(matches!(dup, ServiceError::Conflict(ref f) if f.field == "name"));
            let bad = add_role(&db, &ann, "two words", "", None, NOW)
                .await
                .unwrap_err();
            assert!(matches!(bad, ServiceError::Invalid(ref f) if f.field == "name"));

            let dev = Principal {
                role: Role::Developer,
                ..ann.clone()
            };
            assert!(matches!(
                add_role(&db, &dev, "x", "", None, NOW).await,
                Err(ServiceError::Forbidden(_))
            ));
            assert!(matches!(
                delete_role(&db, &dev, "billing:reader", None, NOW).await,
                Err(ServiceError::Forbidden(_))
            ));
            assert_eq!(
                names(list_roles(&db, &dev).await.unwrap()).len(),
                2,
                "members may read it"
            );

            let builtin = delete_role(&db, &ann, "admin", None, NOW)
                .await
                .unwrap_err();
            assert!(matches!(builtin, ServiceError::Rule(_)), "{builtin:?}");
            assert!(matches!(
                delete_role(&db, &ann, "nobody", None, NOW).await,
                Err(ServiceError::NotFound(_))
            ));
            delete_role(&db, &ann, "billing:reader", Some("192.0.2.1"), NOW + 1)
                .await
                .unwrap();
            assert_eq!(names(list_roles(&db, &ann).await.unwrap()), ["admin"]);
            let logged = audit::list_for_target(&db, &ann.tenant_id, "billing:reader", 10)
                .await
                .unwrap();
            let actions: Vec<_> = logged.iter().map(|e| e.action.as_str()).collect();
            assert_eq!(actions, ["role.deleted", "role.created"]);

            // Another tenant's catalogue is its own.
            let bob = admin(&db, "bob@example.com", NOW).await;
            add_role(&db, &bob, "billing:reader", "", None, NOW)
                .await
                .unwrap();
            assert_eq!(names(list_roles(&db, &ann).await.unwrap()), ["admin"]);
        })
        .await;
    }

    #[tokio::test]
    async fn a_role_apps_have_cannot_be_deleted_and_the_refusal_names_them() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            add_role(&db, &ann, "reader", "", None, NOW).await.unwrap();
            let mut ids = Vec::new();
            for (at, name) in (NOW..).zip(["Billing", "Mobile", "Orders", "Shipping", "Stock"]) {
                let with_role = AppDraft {
                    roles: vec!["reader".into()],
                    ..draft(name)
                };
                let app = create_app(&db, &hasher(), PUBLIC_URL, &ann, with_role, None, at)
                    .await
                    .unwrap();
                ids.push(app.app.client_id);
            }
            let refused = delete_role(&db, &ann, "reader", None, NOW)
                .await
                .unwrap_err();
            let ServiceError::Rule(message) = refused else {
                panic!("expected a 409, got {refused:?}");
            };
            assert_eq!(
                message,
                "The role reader is still given to 5 apps (Billing, Mobile, Orders and 2 more): \
                 remove it from their roles first."
            );
            assert_eq!(
                names(list_roles(&db, &ann).await.unwrap()),
                ["admin", "reader"],
                "the refused deletion is rolled back"
            );

            let none = AppChanges {
                roles: Some(Vec::new()),
                ..AppChanges::default()
            };
            for id in &ids[1..] {
                update_app(&db, PUBLIC_URL, &ann, id, none.clone(), None, NOW)
                    .await
                    .unwrap();
            }
            let one = delete_role(&db, &ann, "reader", None, NOW)
                .await
                .unwrap_err();
            assert!(one.to_string().contains("to 1 app (Billing)"), "{one}");
            update_app(&db, PUBLIC_URL, &ann, &ids[0], none, None, NOW)
                .await
                .unwrap();
            delete_role(&db, &ann, "reader", None, NOW).await.unwrap();
        })
        .await;
    }

    #[tokio::test]
    async fn the_command_line_adds_the_roles_it_names_with_an_event() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            let bot = AppDraft {
                tool: true,
                roles: vec!["admin".into(), "deployer".into()],
                ..AppDraft::new("Deploy bot")
            };
            let made = create_app_for_tenant(&db, &hasher(), &ann.tenant_id, bot.clone(), NOW)
                .await
                .unwrap();
            assert_eq!(made.app.roles, ["admin", "deployer"]);
            assert_eq!(
                names(list_roles(&db, &ann).await.unwrap()),
                ["admin", "deployer"]
            );
            create_app_for_tenant(&db, &hasher(), &ann.tenant_id, bot, NOW + 1)
                .await
                .unwrap();
            let logged = audit::list_for_target(&db, &ann.tenant_id, "deployer", 10)
                .await
                .unwrap();
            assert_eq!(logged.len(), 1, "one event, when it joined the catalogue");
            assert_eq!(
                (logged[0].action.as_str(), logged[0].actor_type.as_str()),
                ("role.created", "system")
            );

            let bad = AppDraft {
                roles: vec!["no\"quotes".into()],
                ..AppDraft::new("Bad")
            };
            let err = create_app_for_tenant(&db, &hasher(), &ann.tenant_id, bad, NOW)
                .await
                .err()
                .unwrap();
            assert!(matches!(err, ServiceError::Invalid(ref f) if f.field == "roles"));
        })
        .await;
    }
}
