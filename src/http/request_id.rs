//! The request id (`x-request-id`, set by tower-http) is kept for the length of the
//! request, so an error body and an audit entry can name it without threading it through.
//!
//! A caller's id is kept only when it is short and plain ([`is_acceptable`]): it is echoed
//! in answers and stored in the append-only audit log, so anything else is replaced by
//! one Leash generates.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    static REQUEST_ID: Option<String>;
}

pub const HEADER: &str = "x-request-id";

/// The longest request id a caller may choose.
pub const MAX_LEN: usize = 128;

/// One header value of at most [`MAX_LEN`] letters, digits and `-_.:`.
pub fn is_acceptable(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Middleware, outside the one that generates ids: drops a caller's id that is not
/// acceptable (or comes more than once), so a fresh one takes its place.
pub async fn drop_unacceptable(mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let mut given = headers.get_all(HEADER).iter();
    let keep = match (given.next(), given.next()) {
        (Some(one), None) => is_acceptable(one.as_bytes()),
        (None, _) => true,
        (Some(_), Some(_)) => false,
    };
    if !keep {
        request.headers_mut().remove(HEADER);
    }
    next.run(request).await
}

/// Middleware: runs the rest of the request with its id in scope.
pub async fn scope(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    REQUEST_ID.scope(id, next.run(request)).await
}

/// `work` in the current request's scope, for a task of its own.
pub fn carried<F: Future>(work: F) -> impl Future<Output = F::Output> {
    REQUEST_ID.scope(current(), work)
}

/// The current request's id, if inside one.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok().flatten()
}
