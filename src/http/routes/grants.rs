//! Grants: a user's consent for an agent. Create, list, get, change, revoke.

use aide::axum::ApiRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::Deserialize;

use super::users::UserPath;
use crate::domain::id::GrantId;
use crate::http::AppState;
use crate::http::answer::Created;
use crate::http::auth::AdminKey;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::wire::grants::{
    CreateGrantRequest, GrantBody, GrantList, UpdateGrantRequest, UpdatedGrant,
};
use crate::http::wire::pagination::PageQuery;
use crate::http::wire::revocations::RevocationBody;
use crate::usecase;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/users/{user_id}/grants",
            post_with(create_grant, |op| {
                op.summary("Record the user's consent for an agent")
            })
            .get_with(list_grants, |op| {
                op.summary("List a user's grants, newest first")
            }),
        )
        .api_route(
            "/v1/grants/{grant_id}",
            get_with(get_grant, |op| op.summary("Get a grant")).patch_with(update_grant, |op| {
                op.summary("Change a grant's scopes; narrowing revokes what it no longer covers")
            }),
        )
        .api_route(
            "/v1/grants/{grant_id}/revoke",
            post_with(revoke_grant, |op| {
                op.summary("Withdraw the consent: every agent session under it is revoked")
            }),
        )
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

async fn create_grant(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<UserPath>,
    ApiJson(body): ApiJson<CreateGrantRequest>,
) -> Result<Created<GrantBody>, ApiError> {
    let grant = usecase::create_grant::create_grant(
        &state.app,
        &actor,
        &path.id()?,
        &body.agent_id,
        &body.scopes.0,
    )
    .await?;
    Ok(Created(grant.into()))
}

async fn list_grants(
    State(state): State<AppState>,
    _: AdminKey,
    Path(path): Path<UserPath>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<GrantList>, ApiError> {
    let page = usecase::grants::list_for_user(
        &state.app,
        &path.id()?,
        query.cursor.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(page.into()))
}

async fn get_grant(
    State(state): State<AppState>,
    _: AdminKey,
    Path(path): Path<GrantPath>,
) -> Result<Json<GrantBody>, ApiError> {
    Ok(Json(
        usecase::grants::get(&state.app, &path.id()?).await?.into(),
    ))
}

async fn update_grant(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<GrantPath>,
    ApiJson(body): ApiJson<UpdateGrantRequest>,
) -> Result<Json<UpdatedGrant>, ApiError> {
    let (grant, revocation) =
        usecase::update_grant::update_scopes(&state.app, &actor, &path.id()?, &body.scopes.0)
            .await?;
    Ok(Json(UpdatedGrant {
        grant: grant.into(),
        revocation: revocation.map(Into::into),
    }))
}

async fn revoke_grant(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<GrantPath>,
) -> Result<Json<RevocationBody>, ApiError> {
    let revocation = usecase::revoke_grant::revoke_grant(&state.app, &actor, &path.id()?).await?;
    Ok(Json(revocation.into()))
}
