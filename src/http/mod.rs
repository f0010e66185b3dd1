//! The HTTP surface: the only place that knows status codes. `router(state)` is a plain
//! constructor used by `main` and by tests alike.

mod agent_token;
mod answer;
mod auth;
mod deadline;
pub mod error;
mod extract;
pub mod metrics;
mod nullable;
mod oauth;
mod pages;
mod request_id;
mod routes;
mod session_credentials;
pub mod wire;

use std::sync::Arc;

use aide::axum::ApiRouter;
use aide::openapi::{Info, OpenApi, SecurityScheme};
use axum::Router;
use axum::extract::Request;
use axum::http::header::{AUTHORIZATION, CONNECTION, CONTENT_TYPE, COOKIE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::usecase::App;
use error::{ApiError, PROBLEM_CONTENT_TYPE};
use metrics::Metrics;

/// The largest request body accepted.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// Live event streams one instance serves at once; each looks for new events four
/// times a second.
pub const MAX_EVENT_STREAMS: usize = 32;
/// Where upstream providers send the person back after an authorization, below Leash's
/// public URL: the redirect URI registered at every provider.
pub const OAUTH_CALLBACK_PATH: &str = "/v1/oauth/callback";

/// What every handler is given. Cloned for every request, so it holds pointers only.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub metrics: Arc<Metrics>,
    /// Permits for live event streams.
    pub event_streams: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(app: App) -> Self {
        Self {
            metrics: Arc::new(Metrics::new(&app.counters)),
            app: Arc::new(app),
            event_streams: Arc::new(tokio::sync::Semaphore::new(MAX_EVENT_STREAMS)),
        }
    }
}

fn api_routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .merge(routes::api_keys::router())
        .merge(routes::users::router())
        .merge(routes::user_sessions::router())
        .merge(routes::agents::router())
        .merge(routes::grants::router())
        .merge(routes::agent_sessions::router())
        .merge(routes::events::router())
        .merge(routes::webhook_endpoints::router())
        .merge(routes::audit::router())
        .merge(routes::introspection::router())
        .merge(routes::oauth::router())
        .merge(routes::discovery::router())
        .merge(routes::connections::router())
        .merge(routes::credentials::router())
        .merge(routes::revocations::router())
        .merge(routes::risk::router())
        .merge(routes::ssf::router())
        .merge(routes::me::router())
}

/// The routes and their OpenAPI document, as served. aide's generator is configured
/// before the routes are built: setting it afterwards replaces it, and with it every
/// schema the routes registered, leaving the document's references dangling.
fn finish() -> (Router<AppState>, serde_json::Value) {
    aide::generate::infer_responses(true);
    aide::generate::extract_schemas(true);
    let routes = api_routes();
    let mut api = OpenApi {
        info: Info {
            title: "Leash".to_owned(),
            description: Some("A credential broker for AI agents.".to_owned()),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            ..Info::default()
        },
        ..OpenApi::default()
    };
    let router = routes.finish_api(&mut api);
    let components = api.components.get_or_insert_with(Default::default);
    for (name, format, description) in [
        (
            auth::SECURITY_SCHEME,
            "leash_ak_…",
            "An API key; each endpoint names the roles it accepts.",
        ),
        (
            agent_token::SECURITY_SCHEME,
            "leash_at_…",
            "An agent session's access token.",
        ),
        (
            session_credentials::BEARER_SCHEME,
            "leash_ust_…",
            "A person's user session token.",
        ),
    ] {
        components.security_schemes.insert(
            name.to_owned(),
            aide::openapi::ReferenceOr::Item(SecurityScheme::Http {
                scheme: "bearer".to_owned(),
                bearer_format: Some(format.to_owned()),
                description: Some(description.to_owned()),
                extensions: Default::default(),
            }),
        );
    }
    let mut document = serde_json::to_value(&api).unwrap_or_default();
    nullable::spell_out(&mut document);
    (router, document)
}

/// The OpenAPI document of every `/v1` and `/oauth2` endpoint.
pub fn openapi() -> serde_json::Value {
    finish().1
}

pub fn router(state: AppState) -> Router {
    let (api, document) = finish();
    let document = Arc::new(serde_json::to_string_pretty(&document).unwrap_or_default());
    let request_id = HeaderName::from_static(request_id::HEADER);
    let track = middleware::from_fn_with_state(Arc::clone(&state.metrics), metrics::track);
    // The API answers every error as problem+json; the self-service page, outside that
    // layer, answers HTML pages of its own.
    let bounded = |router: Router<AppState>| {
        router
            .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
            .layer(RequestBodyTimeoutLayer::new(deadline::BODY_TIMEOUT))
            .layer(middleware::from_fn(deadline::enforce))
    };
    let api = bounded(
        api.merge(routes::operations::router(document))
            .route_layer(track.clone())
            .fallback(|| async { ApiError::for_status(StatusCode::NOT_FOUND) }),
    )
    .layer(middleware::from_fn(error_answers));
    bounded(pages::router().route_layer(track))
        .merge(api)
        .with_state(state)
        // Innermost first: each layer wraps everything above it.
        .layer(middleware::from_fn(request_id::scope))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetSensitiveRequestHeadersLayer::new([
            AUTHORIZATION,
            COOKIE,
        ]))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(middleware::from_fn(request_id::drop_unacceptable))
}

/// The span of one request: its method and path, never its query (a provider's callback
/// carries the authorization code and state there).
fn request_span(request: &Request) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
    )
}

/// Finishes every error answer:
///
/// - one that a layer or axum itself produced (405, 408, 413, …) becomes problem+json,
///   so every failure has the same shape (JSON bodies are ours already: the OAuth
///   endpoints answer RFC 6749 error bodies; so are the pages the OAuth callback shows
///   a person's browser);
/// - one to a request that carried a body says `Connection: close`. An error may come
///   before the body was read (an oversized body refused with 413, any body behind a
///   refused API key); hyper then closes the connection after answering, since what is
///   left unread would be taken for the next request, but says nothing, and a client
///   that keeps the connection for its next request (Python's requests, schemathesis)
///   finds it closed without an answer. Telling read from unread bodies would mean
///   wrapping every request's body, introspection's included, at a cost measured at a
///   tenth of a cached introspection; a client that sent a bad request reconnects
///   instead.
async fn error_answers(request: Request, next: Next) -> Response {
    let carried_a_body = !http_body::Body::is_end_stream(request.body());
    let mut response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_ours = response.headers().get(CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(PROBLEM_CONTENT_TYPE.as_bytes())
            || v.as_bytes().starts_with(b"application/json")
            || v.as_bytes().starts_with(b"text/html")
    });
    if !is_ours {
        response = ApiError::for_status(status).into_response();
    }
    if carried_a_body {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
