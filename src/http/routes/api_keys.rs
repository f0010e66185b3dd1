//! API keys: create, list, revoke. A revoked key is refused at once on this instance and
//! on every other one as soon as the notification arrives.

use aide::axum::ApiRouter;
use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::domain::id::ApiKeyId;
use crate::http::AppState;
use crate::http::answer::Created;
use crate::http::auth::AdminKey;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::wire::api_keys::{ApiKeyBody, ApiKeyList, ApiKeyWithSecret, CreateApiKeyRequest};
use crate::http::wire::pagination::PageQuery;
use crate::usecase;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/api-keys",
            post_with(create_key, |op| {
                op.summary("Create an API key; its secret is shown once")
            })
            .get_with(list_keys, |op| {
                op.summary("List API keys, newest first (never their secrets)")
            }),
        )
        .api_route(
            "/v1/api-keys/{api_key_id}/revoke",
            post_with(revoke_key, |op| {
                op.summary("Revoke an API key; the last active admin key cannot be revoked")
            }),
        )
}

#[derive(Deserialize, JsonSchema)]
struct KeyPath {
    #[schemars(with = "ApiKeyId")]
    api_key_id: String,
}

async fn create_key(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    ApiJson(body): ApiJson<CreateApiKeyRequest>,
) -> Result<Created<ApiKeyWithSecret>, ApiError> {
    let (key, secret) = usecase::create_api_key::create_api_key(
        &state.app,
        &actor,
        body.role.into(),
        body.expires_at,
    )
    .await?;
    Ok(Created(ApiKeyWithSecret {
        api_key: ApiKeyBody::new(key, state.app.clock.now()),
        secret: secret.into_exposed().into(),
    }))
}

async fn list_keys(
    State(state): State<AppState>,
    _: AdminKey,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ApiKeyList>, ApiError> {
    let page = usecase::api_keys::list(&state.app, query.cursor.as_deref(), query.limit).await?;
    Ok(Json(ApiKeyList::new(page, state.app.clock.now())))
}

async fn revoke_key(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<KeyPath>,
) -> Result<Json<ApiKeyBody>, ApiError> {
    let id = ApiKeyId::parse(&path.api_key_id).ok_or(ApiError::not_found("api_key_not_found"))?;
    let key = usecase::revoke_api_key::revoke_api_key(&state.app, &actor, &id).await?;
    Ok(Json(ApiKeyBody::new(key, state.app.clock.now())))
}
