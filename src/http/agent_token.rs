//! An agent session's access token, as an agent presents it to ask for an upstream
//! credential: `Authorization: Bearer leash_at_…`. Nothing is judged here: the use
//! case finds the session active or refuses.

use aide::OperationInput;
use aide::generate::GenContext;
use aide::openapi::{Operation, SecurityRequirement};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::domain::secret::Secret;

/// The name of the agent access token security scheme in the OpenAPI document.
pub const SECURITY_SCHEME: &str = "agent_access_token";

/// The access token a request carries as Bearer (it never prints).
pub struct AgentAccessToken(pub Secret);

impl<S: Sync> FromRequestParts<S> for AgentAccessToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| Self(Secret::new(t.to_owned())))
            .ok_or_else(|| {
                ApiError::new(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "missing_credentials",
                    "send the agent session's access token as `Authorization: Bearer leash_at_…`",
                )
            })
    }
}

impl OperationInput for AgentAccessToken {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        let requirement: SecurityRequirement = [(SECURITY_SCHEME.to_owned(), Vec::new())]
            .into_iter()
            .collect();
        operation.security.push(requirement);
    }
}
