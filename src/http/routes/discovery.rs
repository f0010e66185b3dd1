//! RFC 8414 authorization server metadata: how OAuth tooling finds Leash's endpoints.

use aide::axum::ApiRouter;
use aide::axum::routing::get_with;
use axum::Json;
use axum::extract::State;

use crate::http::AppState;
use crate::http::wire::discovery::AuthorizationServerMetadata;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        "/.well-known/oauth-authorization-server",
        get_with(metadata, |op| {
            op.summary("Authorization server metadata (RFC 8414): the issuer and its endpoints")
        }),
    )
}

async fn metadata(State(state): State<AppState>) -> Json<AuthorizationServerMetadata> {
    Json(AuthorizationServerMetadata::at(
        &state.app.settings.public_url,
    ))
}
