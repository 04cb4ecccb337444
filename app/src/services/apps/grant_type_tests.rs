//! Which grants an app may use (SPEC §3a): the defaults a new app gets, the lists people
//! choose, and the changes that would leave the app with a grant that cannot work.

use super::*;
use crate::services::testkit::{NOW, PUBLIC_URL, added, admin, draft, hasher};
use crate::store::testkit::for_each_migrated_engine;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn invalid_field<T>(result: Result<T, ServiceError>) -> (&'static str, String) {
    match result {
        Err(ServiceError::Invalid(f)) => (f.field, f.message),
        Err(other) => panic!("expected a field error, got {other:?}"),
        Ok(_) => panic!("expected a field error, got a success"),
    }
}

const CODE_FLOW: [&str; 3] = ["client_credentials", "authorization_code", "refresh_token"];
const DEVICE: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[tokio::test]
async fn new_apps_get_the_grants_of_their_kind_unless_they_name_theirs() {
    for_each_migrated_engine(|db| async move {
        let ann = admin(&db, "ann@example.com", NOW).await;
        let create = |draft: AppDraft| {
            let (db, ann) = (db.clone(), ann.clone());
            async move {
                create_app(&db, &hasher(), PUBLIC_URL, &ann, draft, None, NOW)
                    .await
                    .unwrap()
                    .app
            }
        };
        let no_callback = create(AppDraft::new("Batch")).await;
        assert_eq!(no_callback.grant_types, ["client_credentials"]);
        let with_callback = create(draft("Web")).await;
        assert_eq!(with_callback.grant_types, CODE_FLOW);
        let public = create(AppDraft {
            client_type: ClientType::Public,
            ..draft("Mobile")
        })
        .await;
        assert_eq!(
            public.grant_types,
            ["authorization_code", "refresh_token", DEVICE]
        );
        // Named ones are kept in the one order, once each; an app may have none.
        let chosen = create(AppDraft {
            grant_types: Some(names(&[
                "refresh_token",
                "authorization_code",
                "refresh_token",
            ])),
            ..draft("Portal")
        })
        .await;
        assert_eq!(chosen.grant_types, ["authorization_code", "refresh_token"]);
        let none = create(AppDraft {
            grant_types: Some(Vec::new()),
            ..draft("Parked")
        })
        .await;
        assert!(none.grant_types.is_empty());
        for app in [&no_callback, &with_callback, &public, &chosen, &none] {
            assert_eq!(
                &get_app(&db, &ann, &app.client_id).await.unwrap(),
                app,
                "stored as shown"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn grants_that_cannot_work_are_refused_beside_the_grant_types() {
    for_each_migrated_engine(|db| async move {
        let ann = admin(&db, "ann@example.com", NOW).await;
        let cases = [
            // A public client has no secret to authenticate client credentials with.
            AppDraft {
                client_type: ClientType::Public,
                grant_types: Some(names(&["client_credentials"])),
                ..draft("Mobile")
            },
            // The code flow has nowhere to send its codes.
            AppDraft {
                grant_types: Some(names(&["authorization_code"])),
                ..AppDraft::new("Batch")
            },
            // Refresh tokens come only from a grant that signs a person in.
            AppDraft {
                grant_types: Some(names(&["client_credentials", "refresh_token"])),
                ..draft("Web")
            },
            AppDraft {
                grant_types: Some(names(&["password"])),
                ..draft("Legacy")
            },
            AppDraft {
                grant_types: Some(names(&["client_credentials authorization_code"])),
                ..draft("Squashed")
            },
        ];
        for d in cases {
            let name = d.name.clone();
            let (field, message) =
                invalid_field(create_app(&db, &hasher(), PUBLIC_URL, &ann, d, None, NOW).await);
            assert_eq!(field, "grant_types", "{name}: {message}");
        }
        let (_, message) = invalid_field(
            create_app(
                &db,
                &hasher(),
                PUBLIC_URL,
                &ann,
                AppDraft {
                    grant_types: Some(names(&["password"])),
                    ..draft("Legacy")
                },
                None,
                NOW,
            )
            .await,
        );
        assert!(
            message.contains("\"password\"") && message.contains("client_credentials"),
            "names the wrong one and the right ones: {message}"
        );
        assert!(
            list_apps(&db, &ann).await.unwrap().is_empty(),
            "nothing half-created"
        );
    })
    .await;
}

#[tokio::test]
async fn a_change_sets_the_grants_and_never_drops_the_code_flow_behind_ones_back() {
    for_each_migrated_engine(|db| async move {
        let ann = admin(&db, "ann@example.com", NOW).await;
        let bob = admin(&db, "bob@example.com", NOW).await;
        // Grants are the app's own settings, not something the tenant gives it: its
        // developer changes them.
        let bob = added(
            &db,
            &ann,
            "bob@example.com",
            &bob.user_id,
            crate::domain::membership::Role::Developer,
            NOW,
        )
        .await;
        let app = create_app(&db, &hasher(), PUBLIC_URL, &bob, draft("Web"), None, NOW)
            .await
            .unwrap()
            .app;
        let id = app.client_id.clone();
        let change = |changes: AppChanges, at: i64| {
            let (db, bob, id) = (db.clone(), bob.clone(), id.clone());
            async move { update_app(&db, PUBLIC_URL, &bob, &id, changes, None, at).await }
        };

        let narrowed = change(
            AppChanges {
                grant_types: Some(names(&["client_credentials"])),
                ..AppChanges::default()
            },
            NOW + 1,
        )
        .await
        .unwrap();
        assert_eq!(narrowed.grant_types, ["client_credentials"]);
        assert_eq!(
            narrowed,
            AppView {
                grant_types: narrowed.grant_types.clone(),
                ..app.clone()
            },
            "nothing else changes"
        );
        let widened = change(
            AppChanges {
                grant_types: Some(names(&[
                    "refresh_token",
                    "client_credentials",
                    DEVICE,
                    "authorization_code",
                ])),
                ..AppChanges::default()
            },
            NOW + 2,
        )
        .await
        .unwrap();
        assert_eq!(
            widened.grant_types,
            [
                "client_credentials",
                "authorization_code",
                "refresh_token",
                DEVICE
            ]
        );

        // Removing the callback URL the code flow needs is refused beside the URL, whether
        // the change leaves the grants out (the API) or sends them unchanged (the portal's
        // forms carry every field), and the app stays as it was.
        let events_before = audit::list_for_target(&db, &ann.tenant_id, &id, 100)
            .await
            .unwrap()
            .len();
        for grant_types in [
            None,
            Some(names(&[
                DEVICE,
                "authorization_code",
                "client_credentials",
                "refresh_token",
            ])),
        ] {
            let (field, message) = invalid_field(
                change(
                    AppChanges {
                        callback_url: Some(None),
                        grant_types,
                        ..AppChanges::default()
                    },
                    NOW + 3,
                )
                .await,
            );
            assert_eq!(field, "callback_url");
            assert!(message.contains("authorization code"), "{message}");
        }
        // Asking for the code flow without the URL is a mistake in the grants.
        let (field, _) = invalid_field(
            change(
                AppChanges {
                    callback_url: Some(None),
                    grant_types: Some(names(&["client_credentials", "authorization_code"])),
                    ..AppChanges::default()
                },
                NOW + 3,
            )
            .await,
        );
        assert_eq!(field, "grant_types");
        assert_eq!(get_app(&db, &bob, &id).await.unwrap(), widened);
        assert_eq!(
            audit::list_for_target(&db, &ann.tenant_id, &id, 100)
                .await
                .unwrap()
                .len(),
            events_before,
            "no event for a change that did not happen"
        );

        // Taking the code flow off with the URL works: the grants left need none.
        let unhooked = change(
            AppChanges {
                callback_url: Some(None),
                grant_types: Some(names(&["client_credentials"])),
                ..AppChanges::default()
            },
            NOW + 4,
        )
        .await
        .unwrap();
        assert_eq!(
            (unhooked.callback_url, unhooked.grant_types),
            (None, names(&["client_credentials"]))
        );
        // A URL added later adds no grant by itself.
        let hooked = change(
            AppChanges {
                callback_url: Some(Some("https://app.example.com/callback".into())),
                ..AppChanges::default()
            },
            NOW + 5,
        )
        .await
        .unwrap();
        assert_eq!(hooked.grant_types, ["client_credentials"]);
    })
    .await;
}
