//! Webhook endpoints: create, list, get, change, delete, disable and enable, rotate the
//! signing secret, replay past events, and list attempts.

use aide::axum::ApiRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::domain::id::WebhookEndpointId;
use crate::http::AppState;
use crate::http::answer::Created;
use crate::http::auth::AdminKey;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery, OptionalJson};
use crate::http::wire::pagination::PageQuery;
use crate::http::wire::webhooks::{
    CreateWebhookEndpointRequest, ReplayQueued, ReplayRequest, RotateWebhookSecretRequest,
    UpdateWebhookEndpointRequest, WebhookAttemptList, WebhookEndpointBody, WebhookEndpointList,
    WebhookEndpointWithSecret,
};
use crate::usecase;
use crate::usecase::webhook_endpoints::EndpointChange;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/webhook-endpoints",
            post_with(create_endpoint, |op| {
                op.summary("Create a webhook endpoint; its signing secret is shown once")
            })
            .get_with(list_endpoints, |op| {
                op.summary("List webhook endpoints, newest first")
            }),
        )
        .api_route(
            "/v1/webhook-endpoints/{endpoint_id}",
            get_with(get_endpoint, |op| op.summary("Get a webhook endpoint"))
                .patch_with(update_endpoint, |op| {
                    op.summary("Change a webhook endpoint's url, event types or description")
                })
                .delete_with(delete_endpoint, |op| {
                    op.summary("Delete a webhook endpoint with its deliveries and attempts")
                        .response::<204, ()>()
                }),
        )
        .api_route(
            "/v1/webhook-endpoints/{endpoint_id}/disable",
            post_with(disable_endpoint, |op| {
                op.summary("Disable a webhook endpoint: nothing is sent until it is enabled")
            }),
        )
        .api_route(
            "/v1/webhook-endpoints/{endpoint_id}/enable",
            post_with(enable_endpoint, |op| {
                op.summary("Enable a webhook endpoint; pending deliveries go out again")
            }),
        )
        .api_route(
            "/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
            post_with(rotate_secret, |op| {
                op.summary(
                    "Replace the signing secret; the old one signs beside it during the overlap",
                )
            }),
        )
        .api_route(
            "/v1/webhook-endpoints/{endpoint_id}/replay",
            post_with(replay, |op| {
                op.summary("Send again every retained event since a time")
            }),
        )
        .api_route(
            "/v1/webhook-endpoints/{endpoint_id}/attempts",
            get_with(list_attempts, |op| {
                op.summary("List an endpoint's delivery attempts, newest first")
            }),
        )
}

#[derive(Deserialize, JsonSchema)]
struct EndpointPath {
    #[schemars(with = "WebhookEndpointId")]
    endpoint_id: String,
}

impl EndpointPath {
    fn id(&self) -> Result<WebhookEndpointId, ApiError> {
        WebhookEndpointId::parse(&self.endpoint_id)
            .ok_or(ApiError::not_found("webhook_endpoint_not_found"))
    }
}

async fn create_endpoint(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    ApiJson(body): ApiJson<CreateWebhookEndpointRequest>,
) -> Result<Created<WebhookEndpointWithSecret>, ApiError> {
    let change = EndpointChange {
        url: Some(body.url),
        description: body.description.map(|d| Some(d).filter(|d| !d.is_empty())),
        event_types: body.event_types,
    };
    let (endpoint, secret) =
        usecase::create_webhook_endpoint::create_webhook_endpoint(&state.app, &actor, change)
            .await?;
    Ok(Created(WebhookEndpointWithSecret {
        endpoint: endpoint.into(),
        secret: secret.expose().into(),
    }))
}

async fn list_endpoints(
    State(state): State<AppState>,
    _: AdminKey,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<WebhookEndpointList>, ApiError> {
    let page =
        usecase::webhook_endpoints::list(&state.app, query.cursor.as_deref(), query.limit).await?;
    Ok(Json(page.into()))
}

async fn get_endpoint(
    State(state): State<AppState>,
    _: AdminKey,
    Path(path): Path<EndpointPath>,
) -> Result<Json<WebhookEndpointBody>, ApiError> {
    let endpoint = usecase::webhook_endpoints::get(&state.app, &path.id()?).await?;
    Ok(Json(endpoint.into()))
}

async fn update_endpoint(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<EndpointPath>,
    ApiJson(body): ApiJson<UpdateWebhookEndpointRequest>,
) -> Result<Json<WebhookEndpointBody>, ApiError> {
    let change = EndpointChange {
        url: body.url,
        description: body.description.map(|d| Some(d).filter(|d| !d.is_empty())),
        event_types: body.event_types,
    };
    let endpoint = usecase::update_webhook_endpoint::update_webhook_endpoint(
        &state.app,
        &actor,
        &path.id()?,
        change,
    )
    .await?;
    Ok(Json(endpoint.into()))
}

async fn delete_endpoint(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<EndpointPath>,
) -> Result<StatusCode, ApiError> {
    usecase::delete_webhook_endpoint::delete_webhook_endpoint(&state.app, &actor, &path.id()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn disable_endpoint(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<EndpointPath>,
) -> Result<Json<WebhookEndpointBody>, ApiError> {
    let endpoint = usecase::update_webhook_endpoint::set_webhook_endpoint_enabled(
        &state.app,
        &actor,
        &path.id()?,
        false,
    )
    .await?;
    Ok(Json(endpoint.into()))
}

async fn enable_endpoint(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<EndpointPath>,
) -> Result<Json<WebhookEndpointBody>, ApiError> {
    let endpoint = usecase::update_webhook_endpoint::set_webhook_endpoint_enabled(
        &state.app,
        &actor,
        &path.id()?,
        true,
    )
    .await?;
    Ok(Json(endpoint.into()))
}

async fn rotate_secret(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<EndpointPath>,
    OptionalJson(body): OptionalJson<RotateWebhookSecretRequest>,
) -> Result<Json<WebhookEndpointWithSecret>, ApiError> {
    let (endpoint, secret) = usecase::rotate_webhook_secret::rotate_webhook_secret(
        &state.app,
        &actor,
        &path.id()?,
        body.overlap_seconds,
    )
    .await?;
    Ok(Json(WebhookEndpointWithSecret {
        endpoint: endpoint.into(),
        secret: secret.expose().into(),
    }))
}

async fn replay(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<EndpointPath>,
    ApiJson(body): ApiJson<ReplayRequest>,
) -> Result<Json<ReplayQueued>, ApiError> {
    let deliveries_queued = usecase::replay_webhook_events::replay_webhook_events(
        &state.app,
        &actor,
        &path.id()?,
        body.since,
    )
    .await?;
    Ok(Json(ReplayQueued { deliveries_queued }))
}

async fn list_attempts(
    State(state): State<AppState>,
    _: AdminKey,
    Path(path): Path<EndpointPath>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<WebhookAttemptList>, ApiError> {
    let page = usecase::webhook_endpoints::list_attempts(
        &state.app,
        &path.id()?,
        query.cursor.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(page.into()))
}
