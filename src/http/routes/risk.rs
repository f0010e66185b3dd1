//! Risk signals from security systems, and the address blocks they (or a `risk` key)
//! make.

use aide::axum::ApiRouter;
use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::domain::id::IpBlockId;
use crate::domain::ip_range::IpRange;
use crate::http::AppState;
use crate::http::auth::RiskKey;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::wire::pagination::PageQuery;
use crate::http::wire::risk::{
    DryRunQuery, IpBlockBody, IpBlockList, NewIpBlockRequest, RiskSignalAnswer, RiskSignalRequest,
};
use crate::usecase;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/risk/signals",
            post_with(risk_signal, |op| {
                op.summary("Report a risk signal; the risk policy decides what is done")
                    .description(
                        "For a `risk` or `admin` key. The first rule of the policy matching \
                         the signal's kind and severity decides its actions, done in one \
                         transaction with the signal's record, audit entry and \
                         `risk_signal.processed` event. Sent again under the same \
                         `signal_id`, the first answer comes back (`replayed`). With \
                         `dry_run=true` nothing changes.",
                    )
            }),
        )
        .api_route(
            "/v1/risk/ip-blocks",
            post_with(block_ip, |op| {
                op.summary("Block an address or a CIDR block: sign-ins and token exchanges from it are refused")
                    .response::<201, Json<IpBlockBody>>()
            })
            .get_with(list_ip_blocks, |op| {
                op.summary("List the address blocks in force, newest first")
            }),
        )
        .api_route(
            "/v1/risk/ip-blocks/{ip_block_id}/lift",
            post_with(lift_ip_block, |op| {
                op.summary("Lift an address block before it expires")
            }),
        )
}

async fn risk_signal(
    State(state): State<AppState>,
    RiskKey(actor): RiskKey,
    ApiQuery(query): ApiQuery<DryRunQuery>,
    ApiJson(body): ApiJson<RiskSignalRequest>,
) -> Result<Json<RiskSignalAnswer>, ApiError> {
    let processed = usecase::process_risk_signal::process_risk_signal(
        &state.app,
        &actor,
        body.into(),
        query.dry_run == Some(true),
    )
    .await?;
    Ok(Json(processed.into()))
}

async fn block_ip(
    State(state): State<AppState>,
    RiskKey(actor): RiskKey,
    ApiJson(body): ApiJson<NewIpBlockRequest>,
) -> Result<(StatusCode, Json<IpBlockBody>), ApiError> {
    let range = IpRange::parse(&body.ip_address).map_err(|refused| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("ip_address: {refused}"),
        )
    })?;
    let block = usecase::ip_blocks::block(
        &state.app,
        &actor,
        &range,
        body.duration_seconds,
        body.reason.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(block.into())))
}

async fn list_ip_blocks(
    State(state): State<AppState>,
    _: RiskKey,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<IpBlockList>, ApiError> {
    let page = usecase::ip_blocks::list(&state.app, query.cursor.as_deref(), query.limit).await?;
    Ok(Json(page.into()))
}

#[derive(Deserialize, JsonSchema)]
struct IpBlockPath {
    #[schemars(with = "IpBlockId")]
    ip_block_id: String,
}

async fn lift_ip_block(
    State(state): State<AppState>,
    RiskKey(actor): RiskKey,
    Path(path): Path<IpBlockPath>,
) -> Result<Json<IpBlockBody>, ApiError> {
    let id =
        IpBlockId::parse(&path.ip_block_id).ok_or(ApiError::not_found("ip_block_not_found"))?;
    Ok(Json(
        usecase::ip_blocks::lift(&state.app, &actor, &id)
            .await?
            .into(),
    ))
}
