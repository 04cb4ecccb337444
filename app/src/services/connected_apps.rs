//! Connected apps (SPEC §3a): the apps a person has authorised, and taking that back. Revoking
//! ends the app's refresh tokens for the person and forgets the consent, so the next sign-in
//! asks again.

use serde_json::json;

use super::ServiceError;
use crate::{
    model::consent::ConnectedAppView,
    store::{
        Database, apps,
        audit::{self, Actor, NewEvent},
        codes, consents, refresh_tokens,
    },
};

/// The apps `user_id` has authorised, most recent first.
pub async fn connected_apps(
    db: &Database,
    user_id: &str,
) -> Result<Vec<ConnectedAppView>, ServiceError> {
    // One consent per tenant the app acts in; the screen shows the app once, with every scope
    // it was allowed, and Revoke ends them all.
    let mut apps: Vec<ConnectedAppView> = Vec::new();
    for row in consents::list_for_user(db, user_id).await? {
        let scopes = row.scope.split_whitespace().map(str::to_string);
        match apps.iter_mut().find(|a| a.client_id == row.client_id) {
            Some(app) => {
                for scope in scopes {
                    if !app.scopes.contains(&scope) {
                        app.scopes.push(scope);
                    }
                }
            }
            None => apps.push(ConnectedAppView {
                client_id: row.client_id,
                app_name: row.app_name,
                tenant_name: row.tenant_name,
                scopes: scopes.collect(),
                granted_at: row.granted_at,
                last_used_at: row.last_used_at,
            }),
        }
    }
    Ok(apps)
}

/// Takes back what `user_id` allowed `client_id`: its refresh tokens for them die at once,
/// and the consent is forgotten. 404 when they never connected it.
pub async fn revoke_app(
    db: &Database,
    user_id: &str,
    client_id: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    let app = apps::find(db, client_id).await?;
    let mut tx = db.begin().await?;
    if !consents::delete(&mut tx, user_id, client_id).await? {
        return Err(ServiceError::NotFound(
            "You have not connected that app.".into(),
        ));
    }
    let ended = refresh_tokens::revoke_for(&mut tx, user_id, client_id).await?;
    codes::delete_unused_for(&mut tx, user_id, client_id).await?;
    let event = NewEvent::new(
        app.as_ref().map(|a| a.tenant_id.as_str()),
        Actor::User(user_id),
        "consent.revoked",
        now,
    )
    .target("app", client_id)
    .detail(json!({ "refresh_tokens_ended": ended }))
    .ip(ip);
    audit::record(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

/// How many people have authorised each app of `tenant_id`, by client id.
pub async fn authorised_counts(
    db: &Database,
    tenant_id: &str,
) -> Result<std::collections::HashMap<String, i64>, ServiceError> {
    Ok(consents::counts_for_tenant(db, tenant_id)
        .await?
        .into_iter()
        .collect())
}
