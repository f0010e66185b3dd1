//! RFC 7662 token introspection, for resource servers.

use std::time::Instant;

use aide::axum::ApiRouter;
use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::State;

use crate::http::AppState;
use crate::http::auth::IntrospectKey;
use crate::http::error::ApiError;
use crate::http::extract::ApiForm;
use crate::http::wire::introspection::{IntrospectionRequest, IntrospectionResponse};
use crate::usecase;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        "/oauth2/introspect",
        post_with(introspect, |op| {
            op.summary("Is this token still good? (RFC 7662; `introspect` or `admin` key)")
        }),
    )
}

async fn introspect(
    State(state): State<AppState>,
    _: IntrospectKey,
    ApiForm(form): ApiForm<IntrospectionRequest>,
) -> Result<Json<IntrospectionResponse>, ApiError> {
    let started = Instant::now();
    let found = usecase::introspect::introspect(&state.app, form.token.expose()).await?;
    state.metrics.observe_introspection(started);
    Ok(Json(found.into()))
}
