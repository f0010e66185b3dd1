//! The Shared Signals push endpoint (RFC 8935): a transmitter POSTs a Security Event
//! Token; Leash answers 202 once it has acted on it, or 400 `{err, description}`.

use aide::axum::ApiRouter;
use aide::axum::routing::post_with;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;

use crate::domain::ssf::{SetErr, SetRefused};
use crate::http::error::ApiError;
use crate::http::{AppState, request_id};
use crate::usecase::receive_set::{self, Received};

pub const SSF_EVENTS_PATH: &str = "/ssf/events";

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        SSF_EVENTS_PATH,
        post_with(push, |op| {
            op.summary("Receive a Security Event Token pushed by a Shared Signals transmitter")
                .description(
                    "RFC 8935 push delivery: the body is the SET (`application/secevent+jwt`), \
                     signed by a configured transmitter. 202 once its events have been acted \
                     on (also for a token delivered before, events Leash does not act on and \
                     subjects it does not know); 400 `{err, description}` when refused.",
                )
                .response::<202, ()>()
                .response::<400, Json<SetErrorBody>>()
        }),
    )
}

/// Why a Security Event Token was refused (RFC 8935 §2.3).
#[derive(Debug, Serialize, JsonSchema)]
pub struct SetErrorBody {
    /// `invalid_request`, `invalid_key`, `invalid_issuer`, `invalid_audience` or
    /// `authentication_failed`.
    pub err: String,
    pub description: String,
}

fn refused(refused: SetRefused) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(SetErrorBody {
            err: refused.err.as_str().to_owned(),
            description: refused.description,
        }),
    )
        .into_response()
}

async fn push(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/secevent+jwt"))
    {
        return Ok(refused(SetRefused::new(
            SetErr::InvalidRequest,
            "the body must be application/secevent+jwt",
        )));
    }
    let Ok(token) = std::str::from_utf8(&body) else {
        return Ok(refused(SetRefused::new(
            SetErr::InvalidRequest,
            "not a JWT",
        )));
    };
    match receive_set::receive(&state.app, token.trim(), request_id::current()).await? {
        Received::Accepted => Ok(StatusCode::ACCEPTED.into_response()),
        Received::Refused(why) => Ok(refused(why)),
    }
}
