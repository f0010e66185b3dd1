//! Agents: register, list, get, change (name, ceiling), rotate the client secret,
//! disable and enable.

use aide::axum::ApiRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::domain::id::AgentId;
use crate::http::AppState;
use crate::http::answer::Created;
use crate::http::auth::AdminKey;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::wire::agents::{
    AgentBody, AgentCredentials, AgentList, RegisterAgentRequest, UpdateAgentRequest, UpdatedAgent,
};
use crate::http::wire::pagination::PageQuery;
use crate::http::wire::revocations::RevocationBody;
use crate::usecase;
use crate::usecase::register_agent::SessionLifetimeRequest;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/agents",
            post_with(register_agent, |op| {
                op.summary("Register an agent; its client secret is shown once")
            })
            .get_with(list_agents, |op| op.summary("List agents, newest first")),
        )
        .api_route(
            "/v1/agents/{agent_id}",
            get_with(get_agent, |op| op.summary("Get an agent")).patch_with(update_agent, |op| {
                op.summary("Rename an agent or change its ceiling; narrowing revokes what it no longer covers")
            }),
        )
        .api_route(
            "/v1/agents/{agent_id}/disable",
            post_with(disable_agent, |op| {
                op.summary("Disable an agent: every session it holds is revoked, with descendants")
            }),
        )
        .api_route(
            "/v1/agents/{agent_id}/enable",
            post_with(enable_agent, |op| {
                op.summary("Enable an agent again; nothing it held comes back")
            }),
        )
        .api_route(
            "/v1/agents/{agent_id}/rotate-secret",
            post_with(rotate_secret, |op| {
                op.summary("Replace the agent's client secret; the old one stops working")
            }),
        )
}

#[derive(Deserialize, JsonSchema)]
struct AgentPath {
    #[schemars(with = "AgentId")]
    agent_id: String,
}

impl AgentPath {
    fn id(&self) -> Result<AgentId, ApiError> {
        AgentId::parse(&self.agent_id).ok_or(ApiError::not_found("agent_not_found"))
    }
}

async fn register_agent(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    ApiJson(body): ApiJson<RegisterAgentRequest>,
) -> Result<Created<AgentCredentials>, ApiError> {
    let lifetime = SessionLifetimeRequest {
        ttl_seconds: body.session_ttl_seconds,
        idle_timeout_seconds: body.session_idle_timeout_seconds,
    };
    let (agent, secret) = usecase::register_agent::register_agent(
        &state.app,
        &actor,
        &body.name,
        &body.scopes.0,
        lifetime,
    )
    .await?;
    Ok(Created(AgentCredentials {
        client_id: agent.id.clone(),
        agent: agent.into(),
        client_secret: secret.into_exposed().into(),
    }))
}

async fn list_agents(
    State(state): State<AppState>,
    _: AdminKey,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<AgentList>, ApiError> {
    let page = usecase::agents::list(&state.app, query.cursor.as_deref(), query.limit).await?;
    Ok(Json(page.into()))
}

async fn get_agent(
    State(state): State<AppState>,
    _: AdminKey,
    Path(path): Path<AgentPath>,
) -> Result<Json<AgentBody>, ApiError> {
    Ok(Json(
        usecase::agents::get(&state.app, &path.id()?).await?.into(),
    ))
}

async fn rotate_secret(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<AgentPath>,
) -> Result<Json<AgentCredentials>, ApiError> {
    let (agent, secret) =
        usecase::rotate_agent_secret::rotate_agent_secret(&state.app, &actor, &path.id()?).await?;
    Ok(Json(AgentCredentials {
        client_id: agent.id.clone(),
        agent: agent.into(),
        client_secret: secret.into_exposed().into(),
    }))
}

async fn update_agent(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<AgentPath>,
    ApiJson(body): ApiJson<UpdateAgentRequest>,
) -> Result<Json<UpdatedAgent>, ApiError> {
    let (agent, revocation) = usecase::update_agent::update_agent(
        &state.app,
        &actor,
        &path.id()?,
        body.name.as_deref(),
        body.scopes.as_ref().map(|scopes| scopes.0.as_slice()),
    )
    .await?;
    Ok(Json(UpdatedAgent {
        agent: agent.into(),
        revocation: revocation.map(Into::into),
    }))
}

async fn disable_agent(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<AgentPath>,
) -> Result<Json<RevocationBody>, ApiError> {
    let revocation = usecase::disable_agent::disable_agent(&state.app, &actor, &path.id()?).await?;
    Ok(Json(revocation.into()))
}

async fn enable_agent(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<AgentPath>,
) -> Result<Json<AgentBody>, ApiError> {
    Ok(Json(
        usecase::enable_agent::enable_agent(&state.app, &actor, &path.id()?)
            .await?
            .into(),
    ))
}
