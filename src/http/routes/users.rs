//! Users: create, read, disable / enable, sign out everywhere, credential changed.

use aide::axum::ApiRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::domain::id::UserId;
use crate::domain::revocation::RevocationCause;
use crate::domain::user::NewUser;
use crate::http::AppState;
use crate::http::answer::Upserted;
use crate::http::auth::AdminKey;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, OptionalJson};
use crate::http::wire::revocations::{
    CredentialChangedRequest, RevocationBody, SignOutEverywhereRequest,
};
use crate::http::wire::users::{CreateUserRequest, UserBody};
use crate::usecase;
use crate::usecase::UsecaseError;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/users",
            post_with(create_user, |op| {
                op.summary("Create a user (idempotent by external_id)")
            }),
        )
        .api_route(
            "/v1/users/{user_id}",
            get_with(get_user, |op| op.summary("Get a user")),
        )
        .api_route(
            "/v1/users/{user_id}/disable",
            post_with(disable_user, |op| {
                op.summary("Disable a user: revoke everything, refuse new sessions")
            }),
        )
        .api_route(
            "/v1/users/{user_id}/enable",
            post_with(enable_user, |op| op.summary("Enable a disabled user")),
        )
        .api_route(
            "/v1/users/{user_id}/sign-out-everywhere",
            post_with(sign_out_everywhere, |op| {
                op.summary("Revoke every session of the user")
            }),
        )
        .api_route(
            "/v1/users/{user_id}/credential-changed",
            post_with(credential_changed, |op| {
                op.summary("Report a password reset: revoke every session")
            }),
        )
}

#[derive(Deserialize, JsonSchema)]
pub struct UserPath {
    #[schemars(with = "UserId")]
    pub user_id: String,
}

impl UserPath {
    pub fn id(&self) -> Result<UserId, ApiError> {
        UserId::parse(&self.user_id).ok_or(ApiError::not_found("user_not_found"))
    }
}

async fn create_user(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> Result<Upserted<UserBody>, ApiError> {
    let new = NewUser::new(
        &body.external_id,
        body.email.as_deref(),
        body.display_name.as_deref(),
    )
    .map_err(UsecaseError::from)?;
    let (user, created) = usecase::create_user::create_user(&state.app, &actor, new).await?;
    Ok(Upserted {
        body: user.into(),
        created,
    })
}

async fn get_user(
    State(state): State<AppState>,
    _: AdminKey,
    Path(path): Path<UserPath>,
) -> Result<Json<UserBody>, ApiError> {
    let user = usecase::users::get(&state.app, &path.id()?).await?;
    Ok(Json(user.into()))
}

async fn disable_user(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<UserPath>,
) -> Result<Json<UserBody>, ApiError> {
    let (user, _) = usecase::set_user_status::disable_user(&state.app, &actor, &path.id()?).await?;
    Ok(Json(user.into()))
}

async fn enable_user(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<UserPath>,
) -> Result<Json<UserBody>, ApiError> {
    let user = usecase::set_user_status::enable_user(&state.app, &actor, &path.id()?).await?;
    Ok(Json(user.into()))
}

async fn sign_out_everywhere(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<UserPath>,
    OptionalJson(body): OptionalJson<SignOutEverywhereRequest>,
) -> Result<Json<RevocationBody>, ApiError> {
    let revocation = usecase::sign_out_everywhere::sign_out_everywhere(
        &state.app,
        &actor,
        RevocationCause::SignOutEverywhere,
        &path.id()?,
        body.except_session_id.as_ref(),
        body.reason.as_deref(),
    )
    .await?;
    Ok(Json(revocation.into()))
}

async fn credential_changed(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<UserPath>,
    OptionalJson(body): OptionalJson<CredentialChangedRequest>,
) -> Result<Json<RevocationBody>, ApiError> {
    let revocation = usecase::sign_out_everywhere::sign_out_everywhere(
        &state.app,
        &actor,
        RevocationCause::CredentialChanged,
        &path.id()?,
        body.except_session_id.as_ref(),
        None,
    )
    .await?;
    Ok(Json(revocation.into()))
}
