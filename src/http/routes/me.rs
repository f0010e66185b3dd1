//! `/v1/me`: the self-service page's acts as JSON, for host applications that render
//! their own UI. The person is their user session, its token as Bearer (never the
//! cookie: a cookie would let another site's page post here). Every act takes
//! `dry_run=true` to answer what it would end, changing nothing.

use aide::axum::ApiRouter;
use aide::axum::routing::{get_with, patch_with, post_with};
use aide::transform::TransformOperation;
use aide::{OperationInput, generate::GenContext, openapi::Operation};
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::id::{AgentSessionId, ConnectionId, GrantId, UserSessionId};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::pages::words::{self, Names};
use crate::http::request_id;
use crate::http::session_credentials::{self, SessionCredentials};
use crate::http::wire::agent_sessions::AgentSessionList;
use crate::http::wire::connections::ConnectionList;
use crate::http::wire::grants::GrantList;
use crate::http::wire::pagination::PageQuery;
use crate::http::wire::revocations::{PreviewBody, RevocationBody};
use crate::http::wire::user_sessions::{ListUserSessionsQuery, UserSessionList};
use crate::usecase;
use crate::usecase::self_service::{self, Act, Person};

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/me/sessions",
            get_with(sessions, |op| {
                me(op, "Your user sessions (devices), newest first")
            }),
        )
        .api_route(
            "/v1/me/sessions/{session_id}/revoke",
            post_with(revoke_session, |op| {
                me(op, "Sign one of your devices out, with its agent sessions")
            }),
        )
        .api_route(
            "/v1/me/sign-out-others",
            post_with(sign_out_others, |op| {
                me(
                    op,
                    "Sign out every device but this one, and every agent session",
                )
            }),
        )
        .api_route(
            "/v1/me/agent-sessions",
            get_with(agent_sessions, |op| {
                me(op, "The agent sessions acting for you")
            }),
        )
        .api_route(
            "/v1/me/agent-sessions/{agent_session_id}/revoke",
            post_with(revoke_agent_session, |op| {
                me(
                    op,
                    "End an agent session acting for you, and its sub-delegations",
                )
            }),
        )
        .api_route(
            "/v1/me/grants",
            get_with(grants, |op| me(op, "What you allowed agents to do")),
        )
        .api_route(
            "/v1/me/grants/{grant_id}",
            patch_with(narrow_grant, |op| {
                me(
                    op,
                    "Change the scopes you allow an agent; narrowing ends its sessions that \
                     hold a scope no longer allowed",
                )
            }),
        )
        .api_route(
            "/v1/me/grants/{grant_id}/revoke",
            post_with(revoke_grant, |op| {
                me(
                    op,
                    "Withdraw what you allowed an agent, ending its sessions",
                )
            }),
        )
        .api_route(
            "/v1/me/connections",
            get_with(connections, |op| me(op, "Your connected integrations")),
        )
        .api_route(
            "/v1/me/connections/{connection_id}/disconnect",
            post_with(disconnect, |op| {
                me(
                    op,
                    "Disconnect an integration, ending every agent session using it",
                )
            }),
        )
        .api_route(
            "/v1/me/activity",
            get_with(activity, |op| {
                me(op, "Your recent security activity, in words")
            }),
        )
}

fn me<'a>(op: TransformOperation<'a>, summary: &str) -> TransformOperation<'a> {
    op.summary(summary).description(
        "Authenticated by the person's user session token as Bearer. An id that is not \
         theirs is 404. An act with `dry_run=true` changes nothing and answers \
         `would_revoke`.",
    )
}

/// The person whose user session token is the Bearer.
pub struct Me(Person);

impl FromRequestParts<AppState> for Me {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credentials = SessionCredentials::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        let Some(token) = credentials.bearer else {
            return Err(usecase::UsecaseError::UserSessionRequired.into());
        };
        Ok(Self(
            self_service::person(&state.app, token.expose(), request_id::current()).await?,
        ))
    }
}

impl OperationInput for Me {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        let requirement: aide::openapi::SecurityRequirement =
            [(session_credentials::BEARER_SCHEME.to_owned(), Vec::new())]
                .into_iter()
                .collect();
        if !operation.security.contains(&requirement) {
            operation.security.push(requirement);
        }
    }
}

/// `dry_run=true`: answer what the act would end, changing nothing.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DryRunQuery {
    dry_run: Option<bool>,
}

/// What an act did, or on a dry run would do.
#[derive(Debug, Serialize, JsonSchema)]
struct ActAnswer {
    /// The act's revocation (absent on a dry run, and when nothing had to end).
    #[serde(skip_serializing_if = "Option::is_none")]
    revocation: Option<RevocationBody>,
    /// A dry run's answer: what the act would end.
    #[serde(skip_serializing_if = "Option::is_none")]
    would_revoke: Option<PreviewBody>,
}

async fn answer(
    state: &AppState,
    person: &Person,
    act: Act,
    dry_run: Option<bool>,
) -> Result<Json<ActAnswer>, ApiError> {
    let app = &state.app;
    if dry_run == Some(true) {
        let preview = self_service::preview(app, person, &act).await?;
        return Ok(Json(ActAnswer {
            revocation: None,
            would_revoke: Some(preview.into()),
        }));
    }
    let revocation = self_service::perform(app, person, &act).await?;
    Ok(Json(ActAnswer {
        revocation: revocation.map(Into::into),
        would_revoke: None,
    }))
}

async fn sessions(
    State(state): State<AppState>,
    Me(person): Me,
    ApiQuery(query): ApiQuery<ListUserSessionsQuery>,
) -> Result<Json<UserSessionList>, ApiError> {
    let page = usecase::user_sessions::list(
        &state.app,
        &person.user_id,
        query.status.unwrap_or_default().into(),
        query.cursor.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(UserSessionList::new(page, state.app.clock.now())))
}

#[derive(Deserialize, JsonSchema)]
struct SessionPath {
    #[schemars(with = "UserSessionId")]
    session_id: String,
}

async fn revoke_session(
    State(state): State<AppState>,
    Me(person): Me,
    Path(path): Path<SessionPath>,
    ApiQuery(query): ApiQuery<DryRunQuery>,
) -> Result<Json<ActAnswer>, ApiError> {
    let id = UserSessionId::parse(&path.session_id)
        .ok_or(ApiError::not_found("user_session_not_found"))?;
    answer(&state, &person, Act::SignOut(id), query.dry_run).await
}

async fn sign_out_others(
    State(state): State<AppState>,
    Me(person): Me,
    ApiQuery(query): ApiQuery<DryRunQuery>,
) -> Result<Json<ActAnswer>, ApiError> {
    answer(&state, &person, Act::SignOutOthers, query.dry_run).await
}

async fn agent_sessions(
    State(state): State<AppState>,
    Me(person): Me,
    ApiQuery(query): ApiQuery<ListUserSessionsQuery>,
) -> Result<Json<AgentSessionList>, ApiError> {
    let page = usecase::agent_sessions::list(
        &state.app,
        &person.user_id,
        query.status.unwrap_or_default().into(),
        query.cursor.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(AgentSessionList::new(page, state.app.clock.now())))
}

#[derive(Deserialize, JsonSchema)]
struct AgentSessionPath {
    #[schemars(with = "AgentSessionId")]
    agent_session_id: String,
}

async fn revoke_agent_session(
    State(state): State<AppState>,
    Me(person): Me,
    Path(path): Path<AgentSessionPath>,
    ApiQuery(query): ApiQuery<DryRunQuery>,
) -> Result<Json<ActAnswer>, ApiError> {
    let id = AgentSessionId::parse(&path.agent_session_id)
        .ok_or(ApiError::not_found("agent_session_not_found"))?;
    answer(&state, &person, Act::RevokeAgentSession(id), query.dry_run).await
}

async fn grants(
    State(state): State<AppState>,
    Me(person): Me,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<GrantList>, ApiError> {
    let page = usecase::grants::list_for_user(
        &state.app,
        &person.user_id,
        query.cursor.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(page.into()))
}

#[derive(Deserialize, JsonSchema)]
struct GrantPath {
    #[schemars(with = "GrantId")]
    grant_id: String,
}

impl GrantPath {
    fn id(&self) -> Result<GrantId, ApiError> {
        GrantId::parse(&self.grant_id).ok_or(ApiError::not_found("grant_not_found"))
    }
}

/// The scopes to keep allowing.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NarrowGrantRequest {
    #[schemars(length(min = 1, max = 100))]
    scopes: Vec<String>,
}

async fn narrow_grant(
    State(state): State<AppState>,
    Me(person): Me,
    Path(path): Path<GrantPath>,
    ApiQuery(query): ApiQuery<DryRunQuery>,
    ApiJson(body): ApiJson<NarrowGrantRequest>,
) -> Result<Json<ActAnswer>, ApiError> {
    let act = Act::NarrowGrant(path.id()?, body.scopes);
    answer(&state, &person, act, query.dry_run).await
}

async fn revoke_grant(
    State(state): State<AppState>,
    Me(person): Me,
    Path(path): Path<GrantPath>,
    ApiQuery(query): ApiQuery<DryRunQuery>,
) -> Result<Json<ActAnswer>, ApiError> {
    answer(&state, &person, Act::RevokeGrant(path.id()?), query.dry_run).await
}

async fn connections(
    State(state): State<AppState>,
    Me(person): Me,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ConnectionList>, ApiError> {
    let page = usecase::connections::list(
        &state.app,
        &person.user_id,
        query.cursor.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(page.into()))
}

#[derive(Deserialize, JsonSchema)]
struct ConnectionPath {
    #[schemars(with = "ConnectionId")]
    connection_id: String,
}

async fn disconnect(
    State(state): State<AppState>,
    Me(person): Me,
    Path(path): Path<ConnectionPath>,
    ApiQuery(query): ApiQuery<DryRunQuery>,
) -> Result<Json<ActAnswer>, ApiError> {
    let id = ConnectionId::parse(&path.connection_id)
        .ok_or(ApiError::not_found("connection_not_found"))?;
    answer(&state, &person, Act::Disconnect(id), query.dry_run).await
}

/// One thing that happened to the person's account.
#[derive(Debug, Serialize, JsonSchema)]
struct ActivityBody {
    at: DateTime<Utc>,
    /// The audit action (`connection.disconnected`).
    action: String,
    /// Who did it (`user:usr_…` when the person did).
    actor: String,
    /// What it was done to.
    target: String,
    /// The same in words: "You disconnected github".
    text: String,
}

/// The person's latest activity, newest first.
#[derive(Debug, Serialize, JsonSchema)]
struct ActivityList {
    data: Vec<ActivityBody>,
}

async fn activity(
    State(state): State<AppState>,
    Me(person): Me,
) -> Result<Json<ActivityList>, ApiError> {
    let account = self_service::account(&state.app, &person).await?;
    let names = Names::of(&account, person.actor.label());
    let data = account
        .activity
        .iter()
        .map(|entry| ActivityBody {
            at: entry.at,
            action: entry.action.clone(),
            actor: entry.actor.clone(),
            target: entry.target.clone(),
            text: words::activity(entry, &names),
        })
        .filter(|entry| !entry.text.is_empty())
        .collect();
    Ok(Json(ActivityList { data }))
}
