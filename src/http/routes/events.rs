//! The events API: the outbox, page by page in the order it was written, or as a live
//! stream of Server-Sent Events for dashboards.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use aide::axum::ApiRouter;
use aide::axum::routing::get_with;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Sse;
use axum::response::sse::{Event, KeepAlive};
use futures_util::StreamExt as _;
use tokio::sync::OwnedSemaphorePermit;

use crate::domain::event::RecordedEvent;
use crate::domain::pagination::Cursor;
use crate::http::AppState;
use crate::http::answer::EventStream;
use crate::http::auth::AdminKey;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::wire::events::{EventBody, EventList, ListEventsQuery, StreamEventsQuery};
use crate::usecase;
use crate::usecase::App;

/// How long a caught-up stream waits before it looks for new events.
const STREAM_POLL: Duration = Duration::from_millis(250);
/// Events read per look.
const STREAM_PAGE: u32 = 200;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/events",
            get_with(list_events, |op| {
                op.summary("List events after a cursor, oldest first, optionally of some types")
            }),
        )
        .api_route(
            "/v1/events/stream",
            get_with(stream_events, |op| {
                op.summary("Follow events live as Server-Sent Events, from a cursor or the start")
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

/// Where a stream is: what it has read and not yet sent, and its cursor.
struct Follow {
    app: Arc<App>,
    after: Option<String>,
    types: Option<String>,
    ready: VecDeque<RecordedEvent>,
    /// Held while the stream lives: streams per instance are bounded.
    _permit: OwnedSemaphorePermit,
}

impl Follow {
    /// The next event, waiting for one to be written if need be; `None` ends the stream
    /// (a read failed; the client reconnects with its last event id).
    async fn next(mut self) -> Option<(Event, Self)> {
        while self.ready.is_empty() {
            let page = usecase::events::list(
                &self.app,
                self.after.as_deref(),
                self.types.as_deref(),
                Some(STREAM_PAGE),
            )
            .await;
            match page {
                Ok(page) if page.items.is_empty() => tokio::time::sleep(STREAM_POLL).await,
                Ok(page) => self.ready.extend(page.items),
                Err(error) => {
                    tracing::warn!(%error, "event stream ended: a read failed");
                    return None;
                }
            }
        }
        let event = self.ready.pop_front()?;
        let cursor = Cursor::after(&event.seq.to_string()).encode();
        self.after = Some(cursor.clone());
        let kind = event.event_type.clone();
        let body = serde_json::to_string(&EventBody::from(event)).ok()?;
        Some((Event::default().id(cursor).event(kind).data(body), self))
    }
}

async fn stream_events(
    State(state): State<AppState>,
    _: AdminKey,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<StreamEventsQuery>,
) -> Result<EventStream<EventBody>, ApiError> {
    let permit = Arc::clone(&state.event_streams)
        .try_acquire_owned()
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too_many_streams",
                "this instance serves as many event streams as it allows; retry later",
            )
        })?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(query.after);
    // A bad cursor or type is refused now, as a problem, not mid-stream.
    usecase::events::list(
        &state.app,
        after.as_deref(),
        query.types.as_deref(),
        Some(1),
    )
    .await?;
    let follow = Follow {
        app: Arc::clone(&state.app),
        after,
        types: query.types,
        ready: VecDeque::new(),
        _permit: permit,
    };
    let stream = futures_util::stream::unfold(follow, Follow::next).map(Ok::<_, Infallible>);
    Ok(EventStream::new(
        Sse::new(stream).keep_alive(KeepAlive::default()),
    ))
}
