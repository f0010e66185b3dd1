//! Health, readiness, metrics and the OpenAPI document: unauthenticated, undocumented
//! in OpenAPI themselves.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::usecase;

pub fn router(openapi_json: Arc<String>) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(move || {
                let body = Arc::clone(&openapi_json);
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        body.as_str().to_owned(),
                    )
                }
            }),
        )
}

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    usecase::readiness::check(&state.app).await?;
    Ok("ready")
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match state.metrics.render() {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => ApiError::for_status(StatusCode::INTERNAL_SERVER_ERROR).into_response(),
    }
}
