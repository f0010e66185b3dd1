//! User sessions: create at sign-in, list, revoke one.

use aide::axum::ApiRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::Deserialize;

use super::users::UserPath;
use crate::domain::id::UserSessionId;
use crate::domain::secret::Secret;
use crate::http::AppState;
use crate::http::answer::Created;
use crate::http::auth::AdminKey;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery, OptionalJson};
use crate::http::wire::login_links::{CreateLoginLinkRequest, LoginLinkBody};
use crate::http::wire::revocations::{RevocationBody, RevokeRequest};
use crate::http::wire::user_sessions::{
    CreateUserSessionRequest, CreatedUserSession, ListUserSessionsQuery, UserSessionBody,
    UserSessionList,
};
use crate::usecase;
use crate::usecase::sign_in::SignIn;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/users/{user_id}/sessions",
            post_with(create_user_session, |op| {
                op.summary("Create a user session at sign-in; the token is shown once")
            })
            .get_with(list_user_sessions, |op| {
                op.summary("List a user's sessions, newest first")
            }),
        )
        .api_route(
            "/v1/users/{user_id}/login-links",
            post_with(create_login_link, |op| {
                op.summary(
                    "A one-time link that signs the person's browser in to the self-service page",
                )
                .description(
                    "The link works once, for 2 minutes, while the user session is active: \
                         it sets the session cookie and opens `/account` (or `return_to`). \
                         Redirect the person's browser to it.",
                )
            }),
        )
        .api_route(
            "/v1/user-sessions/{session_id}/revoke",
            post_with(revoke_user_session, |op| {
                op.summary("Revoke one user session")
            }),
        )
        .api_route(
            "/v1/user-sessions/{session_id}",
            get_with(get_user_session, |op| op.summary("Get a user session")),
        )
}

#[derive(Deserialize, JsonSchema)]
struct UserSessionPath {
    #[schemars(with = "UserSessionId")]
    session_id: String,
}

impl UserSessionPath {
    fn id(&self) -> Result<UserSessionId, ApiError> {
        UserSessionId::parse(&self.session_id).ok_or(ApiError::not_found("user_session_not_found"))
    }
}

async fn create_login_link(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<UserPath>,
    ApiJson(body): ApiJson<CreateLoginLinkRequest>,
) -> Result<Created<LoginLinkBody>, ApiError> {
    let session = UserSessionId::parse(&body.user_session_id)
        .ok_or(ApiError::not_found("user_session_not_found"))?;
    let link = usecase::login_links::create(
        &state.app,
        &actor,
        &path.id()?,
        &session,
        body.return_to.as_deref(),
    )
    .await?;
    Ok(Created(LoginLinkBody {
        url: Secret::new(format!(
            "{}/account/login?token={}",
            state.app.settings.public_url,
            link.token.expose()
        )),
        expires_at: link.expires_at,
    }))
}

async fn create_user_session(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<UserPath>,
    OptionalJson(body): OptionalJson<CreateUserSessionRequest>,
) -> Result<Created<CreatedUserSession>, ApiError> {
    let sign_in = SignIn {
        ip_address: body.ip_address,
        user_agent: body.user_agent,
        ttl_seconds: body.ttl_seconds,
        idle_timeout_seconds: body.idle_timeout_seconds,
    };
    let (session, token) =
        usecase::sign_in::sign_in(&state.app, &actor, &path.id()?, sign_in).await?;
    let now = state.app.clock.now();
    Ok(Created(CreatedUserSession {
        session: UserSessionBody::new(session, now),
        token: token.into_exposed().into(),
    }))
}

async fn list_user_sessions(
    State(state): State<AppState>,
    _: AdminKey,
    Path(path): Path<UserPath>,
    ApiQuery(query): ApiQuery<ListUserSessionsQuery>,
) -> Result<Json<UserSessionList>, ApiError> {
    let page = usecase::user_sessions::list(
        &state.app,
        &path.id()?,
        query.status.unwrap_or_default().into(),
        query.cursor.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(UserSessionList::new(page, state.app.clock.now())))
}

async fn get_user_session(
    State(state): State<AppState>,
    _: AdminKey,
    Path(path): Path<UserSessionPath>,
) -> Result<Json<UserSessionBody>, ApiError> {
    let session = usecase::user_sessions::get(&state.app, &path.id()?).await?;
    Ok(Json(UserSessionBody::new(session, state.app.clock.now())))
}

async fn revoke_user_session(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<UserSessionPath>,
    OptionalJson(body): OptionalJson<RevokeRequest>,
) -> Result<Json<RevocationBody>, ApiError> {
    let revocation = usecase::revoke_user_session::revoke_user_session(
        &state.app,
        &actor,
        &path.id()?,
        body.reason.as_deref(),
    )
    .await?;
    Ok(Json(revocation.into()))
}
