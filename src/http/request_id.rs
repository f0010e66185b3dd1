//! The request id (`x-request-id`, set by tower-http) is kept for the length of the
//! request, so an error body and an audit entry can name it without threading it through.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    static REQUEST_ID: Option<String>;
}

pub const HEADER: &str = "x-request-id";

/// Middleware: runs the rest of the request with its id in scope.
pub async fn scope(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    REQUEST_ID.scope(id, next.run(request)).await
}

/// The current request's id, if inside one.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok().flatten()
}
