//! Who may give apps roles and audiences, where roles come from, and who may switch an app
//! back on (#13); beside `mod.rs`'s tests, which that file has no room left for.

use super::*;
use crate::{
    domain::membership::Role,
    services::{
        roles::add_role,
        testkit::{NOW, PUBLIC_URL, added, admin, draft, hasher},
    },
    store::testkit::for_each_migrated_engine,
};

/// Ann, admin of her tenant, and Bob, a developer in it.
async fn ann_and_bob(db: &Database) -> (Principal, Principal) {
    let ann = admin(db, "ann@example.com", NOW).await;
    let bob = admin(db, "bob@example.com", NOW).await;
    let bob_in_ann = added(
        db,
        &ann,
        "bob@example.com",
        &bob.user_id,
        Role::Developer,
        NOW,
    )
    .await;
    (ann, bob_in_ann)
}

fn forbidden_field<T>(result: Result<T, ServiceError>) -> &'static str {
    match result {
        Err(ServiceError::ForbiddenField(f)) => f.field,
        Err(other) => panic!("expected a refusal naming a field, got {other:?}"),
        Ok(_) => panic!("expected a refusal naming a field, got a success"),
    }
}

#[tokio::test]
async fn an_apps_roles_come_from_the_tenants_catalogue() {
    for_each_migrated_engine(|db| async move {
        let ann = admin(&db, "ann@example.com", NOW).await;
        let ghost = AppDraft {
            roles: vec!["billing:superuser".into()],
            ..draft("Billing")
        };
        let err = create_app(&db, &hasher(), PUBLIC_URL, &ann, ghost.clone(), None, NOW)
            .await
            .err()
            .unwrap();
        assert!(
            matches!(err, ServiceError::Invalid(ref f) if f.field == "roles"
                && f.message.contains("billing:superuser")
                && f.message.contains("Settings → Roles")),
            "{err:?}"
        );
        let plain = create_app(
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
        let give = AppChanges {
            roles: Some(vec!["billing:superuser".into()]),
            ..AppChanges::default()
        };
        let err = update_app(
            &db,
            PUBLIC_URL,
            &ann,
            &plain.client_id,
            give.clone(),
            None,
            NOW,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ServiceError::Invalid(ref f) if f.field == "roles"));

        add_role(&db, &ann, "billing:superuser", "", None, NOW)
            .await
            .unwrap();
        create_app(&db, &hasher(), PUBLIC_URL, &ann, ghost, None, NOW)
            .await
            .unwrap();
        let given = update_app(&db, PUBLIC_URL, &ann, &plain.client_id, give, None, NOW)
            .await
            .unwrap();
        assert_eq!(given.roles, ["billing:superuser"]);
        // The built-in role is always there.
        let tool = AppDraft {
            tool: true,
            roles: vec!["admin".into()],
            ..draft("Deploy bot")
        };
        create_app(&db, &hasher(), PUBLIC_URL, &ann, tool, None, NOW)
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn developers_cannot_give_roles_or_audiences_and_admins_can() {
    for_each_migrated_engine(|db| async move {
        let (ann, bob) = ann_and_bob(&db).await;
        add_role(&db, &ann, "reader", "", None, NOW).await.unwrap();
        let with_role = AppDraft {
            roles: vec!["reader".into()],
            ..draft("Bob's")
        };
        let with_audience = AppDraft {
            audiences: vec!["https://payments.example.com".into()],
            ..draft("Bob's")
        };
        let h = hasher();
        let create = |d: AppDraft| create_app(&db, &h, PUBLIC_URL, &bob, d, None, NOW);
        assert_eq!(forbidden_field(create(with_role.clone()).await), "roles");
        assert_eq!(
            forbidden_field(create(with_audience.clone()).await),
            "audiences"
        );
        assert!(
            list_apps(&db, &bob).await.unwrap().is_empty(),
            "nothing half-created"
        );

        let own = create(draft("Bob's")).await.unwrap().app;
        let give_role = AppChanges {
            roles: Some(vec!["reader".into()]),
            ..AppChanges::default()
        };
        let give_audience = AppChanges {
            audiences: Some(vec!["https://payments.example.com".into()]),
            ..AppChanges::default()
        };
        let update =
            |c: AppChanges| update_app(&db, PUBLIC_URL, &bob, &own.client_id, c, None, NOW);
        assert_eq!(forbidden_field(update(give_role.clone()).await), "roles");
        assert_eq!(
            forbidden_field(update(give_audience.clone()).await),
            "audiences"
        );
        assert_eq!(get_app(&db, &bob, &own.client_id).await.unwrap(), own);

        // An admin gives them, at creation or later.
        create_app(&db, &hasher(), PUBLIC_URL, &ann, with_role, None, NOW)
            .await
            .unwrap();
        create_app(&db, &hasher(), PUBLIC_URL, &ann, with_audience, None, NOW)
            .await
            .unwrap();
        update_app(&db, PUBLIC_URL, &ann, &own.client_id, give_role, None, NOW)
            .await
            .unwrap();
        let given = update_app(
            &db,
            PUBLIC_URL,
            &ann,
            &own.client_id,
            give_audience,
            None,
            NOW,
        )
        .await
        .unwrap();
        assert_eq!(
            (given.roles.as_slice(), given.audiences.as_slice()),
            (
                &["reader".to_string()][..],
                &["https://payments.example.com".to_string()][..]
            )
        );

        // Nor may the developer take them away.
        let take = AppChanges {
            roles: Some(Vec::new()),
            ..AppChanges::default()
        };
        assert_eq!(forbidden_field(update(take).await), "roles");
    })
    .await;
}

#[tokio::test]
async fn a_developer_still_edits_the_other_fields_of_an_app_an_admin_gave_roles() {
    for_each_migrated_engine(|db| async move {
        let (ann, bob) = ann_and_bob(&db).await;
        add_role(&db, &ann, "reader", "", None, NOW).await.unwrap();
        add_role(&db, &ann, "writer", "", None, NOW).await.unwrap();
        let own = create_app(&db, &hasher(), PUBLIC_URL, &bob, draft("Bob's"), None, NOW)
            .await
            .unwrap()
            .app;
        let grant = AppChanges {
            roles: Some(vec!["reader".into(), "writer".into()]),
            audiences: Some(vec!["https://payments.example.com".into()]),
            ..AppChanges::default()
        };
        update_app(&db, PUBLIC_URL, &ann, &own.client_id, grant, None, NOW)
            .await
            .unwrap();

        // As the portal's form sends it: every field, roles and audiences as they were (here
        // in another order, which is no change).
        let edit = AppChanges {
            name: Some("Bob's v2".into()),
            description: Some("Renamed".into()),
            roles: Some(vec!["writer".into(), "reader".into()]),
            audiences: Some(vec!["https://payments.example.com".into()]),
            token_lifetime_secs: Some(600),
            ..AppChanges::default()
        };
        let saved = update_app(&db, PUBLIC_URL, &bob, &own.client_id, edit, None, NOW + 1)
            .await
            .unwrap();
        assert_eq!(
            (saved.name.as_str(), saved.token_lifetime_secs),
            ("Bob's v2", 600)
        );
        assert_eq!(saved.audiences, ["https://payments.example.com"]);
        let rename = AppChanges {
            name: Some("Bob's v3".into()),
            ..AppChanges::default()
        };
        update_app(&db, PUBLIC_URL, &bob, &own.client_id, rename, None, NOW + 2)
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn an_app_an_admin_switched_off_stays_off_until_an_admin_switches_it_on() {
    for_each_migrated_engine(|db| async move {
        let (ann, bob) = ann_and_bob(&db).await;
        let id = create_app(&db, &hasher(), PUBLIC_URL, &bob, draft("Bob's"), None, NOW)
            .await
            .unwrap()
            .app
            .client_id;
        let switch = |by: &Principal, off: bool| {
            let by = by.clone();
            let (db, id) = (db.clone(), id.clone());
            async move { set_app_disabled(&db, &by, &id, off, None, NOW).await }
        };

        // A developer undoes their own switch-off.
        let off = switch(&bob, true).await.unwrap();
        assert!(off.disabled && !off.disabled_by_admin);
        assert!(!switch(&bob, false).await.unwrap().disabled);

        // Not an admin's.
        let off = switch(&ann, true).await.unwrap();
        assert!(off.disabled && off.disabled_by_admin);
        let err = switch(&bob, false).await.unwrap_err();
        assert!(matches!(err, ServiceError::Forbidden(_)), "{err:?}");
        assert!(get_app(&db, &bob, &id).await.unwrap().disabled);
        // Switching it off again does not make it the developer's switch-off.
        assert!(switch(&bob, true).await.unwrap().disabled_by_admin);
        assert!(matches!(
            switch(&bob, false).await,
            Err(ServiceError::Forbidden(_))
        ));
        let on = switch(&ann, false).await.unwrap();
        assert!(!on.disabled && !on.disabled_by_admin);

        // An admin switching off what a developer switched off takes it over.
        switch(&bob, true).await.unwrap();
        assert!(switch(&ann, true).await.unwrap().disabled_by_admin);
        assert!(matches!(
            switch(&bob, false).await,
            Err(ServiceError::Forbidden(_))
        ));
        // So does a tool client, which acts for the tenant as an admin.
        switch(&ann, false).await.unwrap();
        let bot = Principal::tool_client("kpc_bot", &ann.tenant_id);
        assert!(switch(&bot, true).await.unwrap().disabled_by_admin);
        assert!(matches!(
            switch(&bob, false).await,
            Err(ServiceError::Forbidden(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn a_role_deleted_while_an_app_is_given_it_ends_up_on_both_or_neither() {
    use crate::services::roles::{delete_role, list_roles};
    for_each_migrated_engine(|db| async move {
        let ann = admin(&db, "ann@example.com", NOW).await;
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
        // Several rounds: the first may open the pool's connections slowly enough that the
        // two do not overlap.
        for round in 0..5 {
            let role = format!("reader{round}");
            add_role(&db, &ann, &role, "", None, NOW).await.unwrap();
            let give = AppChanges {
                roles: Some(vec![role.clone()]),
                ..AppChanges::default()
            };
            let (given, deleted) = futures::join!(
                update_app(&db, PUBLIC_URL, &ann, &id, give, None, NOW),
                delete_role(&db, &ann, &role, None, NOW),
            );
            assert!(
                given.is_ok() != deleted.is_ok(),
                "round {round}: exactly one wins"
            );
            let on_app = get_app(&db, &ann, &id).await.unwrap().roles.contains(&role);
            let listed = list_roles(&db, &ann)
                .await
                .unwrap()
                .iter()
                .any(|r| r.name == role);
            assert_eq!(
                on_app, listed,
                "round {round}: an app never keeps an unlisted role"
            );
            let none = AppChanges {
                roles: Some(Vec::new()),
                ..AppChanges::default()
            };
            update_app(&db, PUBLIC_URL, &ann, &id, none, None, NOW)
                .await
                .unwrap();
        }
    })
    .await;
}
