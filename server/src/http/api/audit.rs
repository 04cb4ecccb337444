//! `/audit`: the audit log, a page at a time.

use axum::{Json, Router, extract::State, routing::get};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use app::{
    domain::paging::PageRequest, model::audit::AuditEventView, services::audit as service,
    state::AppState,
};

use super::{
    ErrorResponses,
    extractors::{ApiQuery, Caller},
    wire::rfc3339,
};
use crate::http::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list_audit))
}

#[derive(OpenApi)]
#[openapi(paths(list_audit))]
pub struct Doc;

#[derive(Debug, Serialize, ToSchema)]
struct AuditEvent {
    id: String,
    at: String,
    actor_type: String,
    actor_id: Option<String>,
    action: String,
    target_type: Option<String>,
    target_id: Option<String>,
    ip: Option<String>,
}

impl From<AuditEventView> for AuditEvent {
    fn from(e: AuditEventView) -> Self {
        AuditEvent {
            id: e.id,
            at: rfc3339(e.at),
            actor_type: e.actor_type,
            actor_id: e.actor_id,
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            ip: e.ip,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct AuditPage {
    items: Vec<AuditEvent>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Only events about this app.
    app: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Audit events, newest first; admins see the tenant's, anyone an app they manage.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditPage), ErrorResponses))]
async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    // `?app=` with no value filters nothing.
    let about_app = q.app.as_deref().filter(|a| !a.is_empty());
    let events = service::list_events(&state.db, &caller.principal, about_app, page).await?;
    Ok(Json(AuditPage {
        items: events.items.into_iter().map(AuditEvent::from).collect(),
        next_cursor: events.next_cursor,
    }))
}
