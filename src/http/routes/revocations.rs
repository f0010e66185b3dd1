//! Revocation by selector: what a security system (a `risk` key) or the host asks to end
//! at once, with a dry run to see it first.

use aide::axum::ApiRouter;
use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::auth::RiskKey;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, IdempotencyKey};
use crate::http::wire::revocations::{SelectorRevocationAnswer, SelectorRevocationRequest};
use crate::usecase::revoke_by_selector;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        "/v1/revocations",
        post_with(revoke_by_selector, |op| {
            op.summary("Revoke every session a selector matches, with descendants")
                .description(
                    "For a `risk` or `admin` key. The selector's fields combine (AND); it \
                     must name a user, an agent, a connection, sessions, an address or a \
                     time bound. With `dry_run` nothing changes and the answer says what \
                     would be revoked. An `Idempotency-Key` header (1 to 255 visible ASCII \
                     characters of your choosing) makes a retry within 24 hours answer the \
                     first request's result with `Idempotent-Replayed: true`, revoking \
                     nothing again; another request under a used key is refused (422 \
                     `idempotency_key_reused`).",
                )
                .response::<200, Json<SelectorRevocationAnswer>>()
        }),
    )
}

const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

async fn revoke_by_selector(
    State(state): State<AppState>,
    RiskKey(actor): RiskKey,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<SelectorRevocationRequest>,
) -> Result<Response, ApiError> {
    let selector = body.selector.into_selector().map_err(|(field, detail)| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_selector",
            format!("selector.{field}: {detail}"),
        )
    })?;
    if body.dry_run {
        let preview = revoke_by_selector::preview(&state.app, selector).await?;
        return Ok(Json(SelectorRevocationAnswer {
            dry_run: true,
            revocation: None,
            would_revoke: Some(preview.into()),
        })
        .into_response());
    }
    let answered = revoke_by_selector::revoke_by_selector(
        &state.app,
        &actor,
        selector,
        body.reason.as_deref(),
        key.as_deref(),
    )
    .await?;
    let mut response = Json(SelectorRevocationAnswer {
        dry_run: false,
        revocation: Some(answered.revocation.into()),
        would_revoke: None,
    })
    .into_response();
    if answered.replayed {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(response)
}
