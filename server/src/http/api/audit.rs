//! `/audit`: the audit log, a page at a time.

use axum::{Json, Router, extract::State, routing::get};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use app::{domain::paging::PageRequest, services::apps as service, state::AppState, store::audit};

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
    let by = &caller.principal;
    // Read enough rows to serve the page; the store keeps newest first.
    let wanted = i64::try_from(page.items_needed()).unwrap_or(i64::MAX);
    let rows = match q.app.as_deref().filter(|a| !a.is_empty()) {
        Some(client_id) => {
            // Admins may read the history of a deleted app of their tenant too; others only
            // of apps they manage now. Another tenant's app is 404 either way.
            let rows = audit::list_for_target(&state.db, &by.tenant_id, client_id, wanted)
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            if rows.is_empty() || by.require_admin().is_err() {
                service::get_app(&state.db, by, client_id).await?;
            }
            Ok(rows)
        }
        None => {
            by.require_admin()?;
            audit::list_for_tenant(&state.db, &by.tenant_id, wanted).await
        }
    }
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let rows = page.slice(rows);
    Ok(Json(AuditPage {
        next_cursor: rows.next_cursor,
        items: rows
            .items
            .into_iter()
            .map(|e| AuditEvent {
                id: e.id,
                at: rfc3339(e.created_at),
                actor_type: e.actor_type,
                actor_id: e.actor_id,
                action: e.action,
                target_type: e.target_type,
                target_id: e.target_id,
                ip: e.ip,
            })
            .collect(),
    }))
}
