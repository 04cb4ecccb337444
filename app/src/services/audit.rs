//! Reading the audit log, and who may read which part of it.

use super::{ServiceError, accounts::Principal, apps};
use crate::{
    domain::paging::{Page, PageRequest},
    model::audit::AuditEventView,
    store::{
        Database,
        audit::{self, EventRow},
    },
};

/// A page of the audit log as `by` may read it, newest first.
///
/// Without `about_app`: the whole tenant's log, for admins only. With it: the events about
/// that app. An admin may read the history of an app of the tenant that has since been
/// deleted (that is when it matters most); anyone else only that of an app they manage now.
/// Another tenant's app does not exist either way, as everywhere else.
pub async fn list_events(
    db: &Database,
    by: &Principal,
    about_app: Option<&str>,
    page: PageRequest,
) -> Result<Page<AuditEventView>, ServiceError> {
    // The store reads the log newest first, so the head of it serves the page.
    let needed = i64::try_from(page.items_needed()).unwrap_or(i64::MAX);
    let rows = match about_app {
        None => {
            by.require_admin()?;
            audit::list_for_tenant(db, &by.tenant_id, needed).await?
        }
        Some(client_id) => {
            let admin = by.require_admin().is_ok();
            if !admin {
                apps::get_app(db, by, client_id).await?;
            }
            let rows = audit::list_for_target(db, &by.tenant_id, client_id, needed).await?;
            // No history at all: an admin learns whether the app exists, as from get_app.
            if admin && rows.is_empty() {
                apps::get_app(db, by, client_id).await?;
            }
            rows
        }
    };
    Ok(page.slice(rows).map(view))
}

fn view(row: EventRow) -> AuditEventView {
    AuditEventView {
        id: row.id,
        at: row.created_at,
        actor_type: row.actor_type,
        actor_id: row.actor_id,
        action: row.action,
        target_type: row.target_type,
        target_id: row.target_id,
        ip: row.ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::membership::Role,
        services::{
            apps::{create_app, delete_app},
            testkit::{NOW, PUBLIC_URL, added, admin, draft, hasher},
        },
        store::testkit::for_each_migrated_engine,
    };

    fn first_page() -> PageRequest {
        PageRequest::parse(None, None).unwrap()
    }

    fn actions(page: &Page<AuditEventView>) -> Vec<&str> {
        page.items.iter().map(|e| e.action.as_str()).collect()
    }

    #[tokio::test]
    async fn admins_read_the_tenants_log_and_others_only_apps_they_manage() {
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
            let anns = create_app(&db, &hasher(), PUBLIC_URL, &ann, draft("Ann's"), None, NOW)
                .await
                .unwrap()
                .app;
            let bobs = create_app(
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
            let elsewhere = create_app(
                &db,
                &hasher(),
                PUBLIC_URL,
                &bob,
                draft("Elsewhere"),
                None,
                NOW,
            )
            .await
            .unwrap()
            .app;

            let all = list_events(&db, &ann, None, first_page()).await.unwrap();
            let targets: Vec<_> = all
                .items
                .iter()
                .filter_map(|e| e.target_id.as_deref())
                .collect();
            assert!(targets.contains(&anns.client_id.as_str()));
            assert!(targets.contains(&bobs.client_id.as_str()));
            assert!(
                !targets.contains(&elsewhere.client_id.as_str()),
                "only the tenant's own log"
            );
            assert!(
                all.items.windows(2).all(|w| w[0].at >= w[1].at),
                "newest first"
            );
            assert!(matches!(
                list_events(&db, &bob_in_ann, None, first_page()).await,
                Err(ServiceError::Forbidden(_))
            ));

            let own = list_events(&db, &bob_in_ann, Some(&bobs.client_id), first_page())
                .await
                .unwrap();
            assert_eq!(actions(&own), ["secret.created", "app.created"]);
            assert!(
                own.items
                    .iter()
                    .all(|e| e.actor_id.as_deref() == Some(&bob.user_id))
            );
            assert!(matches!(
                list_events(&db, &bob_in_ann, Some(&anns.client_id), first_page()).await,
                Err(ServiceError::NotFound(_))
            ));

            delete_app(&db, &ann, &bobs.client_id, None, NOW + 2)
                .await
                .unwrap();
            let history = list_events(&db, &ann, Some(&bobs.client_id), first_page())
                .await
                .unwrap();
            assert_eq!(
                actions(&history),
                ["app.deleted", "secret.created", "app.created"],
                "an admin reads a deleted app's history"
            );
            assert!(
                matches!(
                    list_events(&db, &bob_in_ann, Some(&bobs.client_id), first_page()).await,
                    Err(ServiceError::NotFound(_))
                ),
                "its developer no longer manages it"
            );

            for unknown in ["kpc_never_an_app", elsewhere.client_id.as_str()] {
                assert!(
                    matches!(
                        list_events(&db, &ann, Some(unknown), first_page()).await,
                        Err(ServiceError::NotFound(_))
                    ),
                    "{unknown}"
                );
            }
        })
        .await;
    }

    #[tokio::test]
    async fn the_log_is_read_a_page_at_a_time() {
        for_each_migrated_engine(|db| async move {
            let ann = admin(&db, "ann@example.com", NOW).await;
            for (n, name) in ["A", "B", "C"].into_iter().enumerate() {
                create_app(
                    &db,
                    &hasher(),
                    PUBLIC_URL,
                    &ann,
                    draft(name),
                    None,
                    NOW + n as i64,
                )
                .await
                .unwrap();
            }
            let whole = list_events(&db, &ann, None, first_page()).await.unwrap();
            assert!(whole.items.len() >= 6 && whole.next_cursor.is_none());

            let (mut seen, mut cursor) = (Vec::new(), None::<String>);
            loop {
                let page = PageRequest::parse(Some(4), cursor.as_deref()).unwrap();
                let got = list_events(&db, &ann, None, page).await.unwrap();
                assert!(got.items.len() <= 4);
                seen.extend(got.items);
                match got.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen, whole.items, "pages cover the log once, in order");
        })
        .await;
    }
}
