//! How long a request may take. A read (`GET`, `HEAD`, `OPTIONS`) is answered 408 after
//! [`READ_TIMEOUT`]. An act (any other method) runs in a task of its own, so neither
//! its deadline nor a caller that goes away stops it half-way: its one transaction
//! either commits whole, with its events and audit, or was never begun. It may take up
//! to [`ACT_TIMEOUT`], long enough for one revocation of millions of sessions; past that
//! the caller is answered 408 and the act still finishes (its revocation record says
//! so). Reading a body is bounded apart ([`BODY_TIMEOUT`]), so a slow sender cannot
//! hold an act's connection for its whole deadline.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument as _;

use super::request_id;

/// How long a read may take before it is answered 408.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an act may take before its caller is answered 408 (the act goes on).
pub const ACT_TIMEOUT: Duration = Duration::from_secs(600);
/// How long receiving a request's body may take.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn enforce(request: Request, next: Next) -> Response {
    let reads = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if reads {
        return tokio::time::timeout(READ_TIMEOUT, next.run(request))
            .await
            .unwrap_or_else(|_| StatusCode::REQUEST_TIMEOUT.into_response());
    }
    let act = tokio::spawn(request_id::carried(next.run(request)).in_current_span());
    match tokio::time::timeout(ACT_TIMEOUT, act).await {
        Ok(Ok(response)) => response,
        Ok(Err(failed)) => {
            tracing::error!(cause = %failed, "an act's task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}
