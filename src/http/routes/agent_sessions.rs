//! Agent sessions, for the host application: mint one for a signed-in user, list a
//! user's, get one, revoke one (with its descendants).

use aide::axum::ApiRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::Deserialize;

use super::users::UserPath;
use crate::domain::id::AgentSessionId;
use crate::http::AppState;
use crate::http::answer::Created;
use crate::http::auth::AdminKey;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery, OptionalJson};
use crate::http::wire::agent_sessions::{
    AgentSessionBody, AgentSessionList, MintAgentSessionRequest, MintedAgentSession,
};
use crate::http::wire::revocations::{RevocationBody, RevokeRequest};
use crate::http::wire::user_sessions::ListUserSessionsQuery;
use crate::usecase;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/users/{user_id}/agent-sessions",
            post_with(mint_agent_session, |op| {
                op.summary(
                    "Mint an agent session for a signed-in user (same rules as the token \
                     exchange); the tokens are shown once",
                )
                .description(
                    "A user session signed in from an address now blocked is 403 \
                     `ip_blocked`. When a pre-issuance hook is configured, it is asked \
                     before the session is issued: its denial is 403 `issuance_denied` \
                     with its reason, and no usable answer under `fail_closed` is 503 \
                     `issuance_hook_unavailable` with `Retry-After`.",
                )
            })
            .get_with(list_agent_sessions, |op| {
                op.summary("List a user's agent sessions, newest first")
            }),
        )
        .api_route(
            "/v1/agent-sessions/{agent_session_id}",
            get_with(get_agent_session, |op| op.summary("Get an agent session")),
        )
        .api_route(
            "/v1/agent-sessions/{agent_session_id}/revoke",
            post_with(revoke_agent_session, |op| {
                op.summary("Revoke an agent session and its descendants")
            }),
        )
}

#[derive(Deserialize, JsonSchema)]
struct AgentSessionPath {
    #[schemars(with = "AgentSessionId")]
    agent_session_id: String,
}

impl AgentSessionPath {
    fn id(&self) -> Result<AgentSessionId, ApiError> {
        AgentSessionId::parse(&self.agent_session_id)
            .ok_or(ApiError::not_found("agent_session_not_found"))
    }
}

async fn mint_agent_session(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<UserPath>,
    ApiJson(body): ApiJson<MintAgentSessionRequest>,
) -> Result<Created<MintedAgentSession>, ApiError> {
    let issued = usecase::delegate_to_agent::mint_for_user(
        &state.app,
        &actor,
        &path.id()?,
        &body.agent_id,
        &body.scopes.0,
        &body.user_session_id,
    )
    .await?;
    Ok(Created(MintedAgentSession::new(
        issued,
        state.app.clock.now(),
    )))
}

async fn list_agent_sessions(
    State(state): State<AppState>,
    _: AdminKey,
    Path(path): Path<UserPath>,
    ApiQuery(query): ApiQuery<ListUserSessionsQuery>,
) -> Result<Json<AgentSessionList>, ApiError> {
    let page = usecase::agent_sessions::list(
        &state.app,
        &path.id()?,
        query.status.unwrap_or_default().into(),
        query.cursor.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(AgentSessionList::new(page, state.app.clock.now())))
}

async fn get_agent_session(
    State(state): State<AppState>,
    _: AdminKey,
    Path(path): Path<AgentSessionPath>,
) -> Result<Json<AgentSessionBody>, ApiError> {
    let session = usecase::agent_sessions::get(&state.app, &path.id()?).await?;
    Ok(Json(AgentSessionBody::new(
        session,
        None,
        state.app.clock.now(),
    )))
}

async fn revoke_agent_session(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<AgentSessionPath>,
    OptionalJson(body): OptionalJson<RevokeRequest>,
) -> Result<Json<RevocationBody>, ApiError> {
    let revocation = usecase::revoke_agent_session::revoke_agent_session(
        &state.app,
        &actor,
        &path.id()?,
        body.reason.as_deref(),
    )
    .await?;
    Ok(Json(revocation.into()))
}
