//! An app's Activity tab.

use std::collections::HashMap;

use super::*;
use crate::{
    model::apps::ActivityView,
    services::{ServiceError, accounts::Principal},
    store::{
        Database,
        apps::{self},
        audit::{self},
    },
};

/// An app's audit events, newest first, with who did each named as a person would name them:
/// a user by name and email, a client by its app's name.
pub async fn app_activity(
    db: &Database,
    by: &Principal,
    client_id: &str,
) -> Result<Vec<ActivityView>, ServiceError> {
    get_app(db, by, client_id).await?;
    let events = audit::list_for_target(db, &by.tenant_id, client_id, 100).await?;
    let mut names: HashMap<String, String> = HashMap::new();
    let mut activity = Vec::with_capacity(events.len());
    for e in events {
        let actor = match (e.actor_type.as_str(), e.actor_id) {
            ("user", Some(id)) => match names.get(&id) {
                Some(name) => name.clone(),
                None => {
                    let name = match crate::store::users::get(db, &id).await? {
                        Some(u) if u.display_name.is_empty() => u.email,
                        Some(u) => format!("{} <{}>", u.display_name, u.email),
                        None => "a deleted user".to_string(),
                    };
                    names.insert(id, name.clone());
                    name
                }
            },
            ("client", Some(id)) => match names.get(&id) {
                Some(name) => name.clone(),
                None => {
                    let name = match apps::get(db, &by.tenant_id, &id).await? {
                        Some(app) => format!("{} (client {id})", app.name),
                        None => format!("client {id}"),
                    };
                    names.insert(id, name.clone());
                    name
                }
            },
            ("anonymous", _) => "someone not signed in".to_string(),
            ("system", _) => "the command line".to_string(),
            (other, _) => other.to_string(),
        };
        activity.push(ActivityView {
            at: e.created_at,
            action: e.action,
            actor,
        });
    }
    Ok(activity)
}
