//! The events API: the outbox, page by page, in the order it was written.

use aide::axum::ApiRouter;
use aide::axum::routing::get_with;
use axum::Json;
use axum::extract::State;

use crate::http::AppState;
use crate::http::auth::AdminKey;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::wire::events::{EventList, ListEventsQuery};
use crate::usecase;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        "/v1/events",
        get_with(list_events, |op| {
            op.summary("List events after a cursor, oldest first, optionally of some types")
        }),
    )
}

async fn list_events(
    State(state): State<AppState>,
    _: AdminKey,
    ApiQuery(query): ApiQuery<ListEventsQuery>,
) -> Result<Json<EventList>, ApiError> {
    let page = usecase::events::list(
        &state.app,
        query.after.as_deref(),
        query.types.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(page.into()))
}
