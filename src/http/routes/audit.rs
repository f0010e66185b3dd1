//! The audit log, page by page, filtered by actor, target or action.

use aide::axum::ApiRouter;
use aide::axum::routing::get_with;
use axum::Json;
use axum::extract::State;

use crate::domain::audit::AuditFilter;
use crate::http::AppState;
use crate::http::auth::AdminKey;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::wire::audit::{AuditList, ListAuditQuery};
use crate::usecase;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        "/v1/audit",
        get_with(list_audit, |op| {
            op.summary("List audit entries after a cursor, oldest first, filtered by actor, target or action")
        }),
    )
}

async fn list_audit(
    State(state): State<AppState>,
    _: AdminKey,
    ApiQuery(query): ApiQuery<ListAuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let filter = AuditFilter {
        actor: query.actor.as_deref(),
        target: query.target.as_deref(),
        action: query.action.as_deref(),
    };
    let page =
        usecase::audit::list(&state.app, &filter, query.after.as_deref(), query.limit).await?;
    Ok(Json(page.into()))
}
