//! Credential vending: an agent session gets the person's upstream access token for a
//! provider it holds scopes of.

use aide::axum::ApiRouter;
use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::State;

use crate::http::agent_token::AgentAccessToken;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::wire::credentials::{CredentialBody, VendRequest};
use crate::http::{AppState, request_id};
use crate::usecase;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        "/v1/credentials",
        post_with(vend, |op| {
            op.summary("Get the person's upstream access token for a provider")
                .description(
                    "Authenticated by the agent session's access token. Answered only while \
                     the session (its whole chain) is active and holds a scope of the \
                     provider, and while the person's connection works; a token about to \
                     expire is refreshed first. `503 provider_unavailable` comes with \
                     `Retry-After`.",
                )
        }),
    )
}

async fn vend(
    State(state): State<AppState>,
    AgentAccessToken(token): AgentAccessToken,
    ApiJson(request): ApiJson<VendRequest>,
) -> Result<Json<CredentialBody>, ApiError> {
    let credential = usecase::vend_credential::vend_credential(
        &state.app,
        token.expose(),
        &request.provider,
        request_id::current(),
    )
    .await?;
    Ok(Json(credential.into()))
}
