//! Authentication extractors. Each type says what it proves: holding one in a handler
//! means the request carried a valid API key with an allowed role.

use aide::OperationInput;
use aide::generate::GenContext;
use aide::openapi::{Operation, SecurityRequirement};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use super::request_id;
use crate::domain::actor::Actor;
use crate::domain::api_key::{ApiKey, Role};
use crate::usecase;

/// The name of the API key security scheme in the OpenAPI document.
pub const SECURITY_SCHEME: &str = "api_key";

/// A caller holding an `admin` key: the host application's backend.
pub struct AdminKey(pub Actor);

/// A security system (a `risk` key) or the host (`admin`): may revoke by selector and
/// send risk signals.
pub struct RiskKey(pub Actor);

/// A caller allowed to introspect: an `introspect` key (resource servers) or `admin`.
pub struct IntrospectKey;

async fn authenticate(
    parts: &Parts,
    state: &AppState,
    allowed: &[Role],
) -> Result<Actor, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(ApiError::missing_credentials)?;
    let presented = header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .ok_or_else(ApiError::missing_credentials)?;
    let key: ApiKey = usecase::api_keys::authenticate(&state.app, presented)
        .await?
        .ok_or_else(ApiError::invalid_credentials)?;
    if !allowed.contains(&key.role) {
        let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
        return Err(ApiError::wrong_role(&names.join(" or ")));
    }
    Ok(Actor::api_key(key.id, request_id::current()))
}

impl FromRequestParts<AppState> for AdminKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state, &[Role::Admin]).await.map(Self)
    }
}

impl FromRequestParts<AppState> for RiskKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state, &[Role::Risk, Role::Admin])
            .await
            .map(Self)
    }
}

impl FromRequestParts<AppState> for IntrospectKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state, &[Role::Introspect, Role::Admin])
            .await
            .map(|_| Self)
    }
}

fn require_api_key(operation: &mut Operation) {
    let requirement: SecurityRequirement = [(SECURITY_SCHEME.to_owned(), Vec::new())]
        .into_iter()
        .collect();
    if !operation.security.contains(&requirement) {
        operation.security.push(requirement);
    }
}

impl OperationInput for AdminKey {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        require_api_key(operation);
    }
}

impl OperationInput for RiskKey {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        require_api_key(operation);
    }
}

impl OperationInput for IntrospectKey {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        require_api_key(operation);
    }
}
