//! `ApiError`: every failure leaves as `application/problem+json` (RFC 9457) with a
//! stable snake_case `code`. The one `match` from use-case errors to statuses lives here.

use aide::OperationOutput;
use aide::generate::GenContext;
use aide::openapi::{Operation, Response as ApiResponse};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::request_id;
use super::wire::problem::Problem;
use crate::domain::agent_session::DelegationRefused;
use crate::usecase::UsecaseError;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: Option<String>,
    /// Logged once, never sent: the cause of a 5xx.
    cause: Option<String>,
    /// Sent as `Retry-After` (whole seconds, rounded up).
    retry_after: Option<std::time::Duration>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: Some(detail.into()),
            cause: None,
            retry_after: None,
        }
    }

    fn bare(status: StatusCode, code: &'static str) -> Self {
        Self {
            status,
            code,
            detail: None,
            cause: None,
            retry_after: None,
        }
    }

    pub(super) fn internal(cause: String) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            detail: None,
            cause: Some(cause),
            retry_after: None,
        }
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error as a page for a person's browser, its cause logged as for problem+json.
    pub fn into_page(self, title: &str) -> Response {
        self.log_cause(request_id::current().as_deref());
        let message = self
            .detail
            .unwrap_or_else(|| self.status.canonical_reason().unwrap_or("Error").to_owned());
        super::answer::HtmlPage {
            status: self.status,
            title: title.to_owned(),
            message,
        }
        .into_response()
    }

    fn log_cause(&self, request_id: Option<&str>) {
        if let Some(cause) = &self.cause {
            tracing::error!(code = self.code, request_id, %cause, "request failed");
        }
    }

    pub fn missing_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "missing_credentials",
            "send an API key as `Authorization: Bearer <key>`",
        )
    }

    pub fn invalid_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "the API key is not valid",
        )
    }

    pub fn wrong_role(allowed: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "wrong_role",
            format!("this endpoint needs a key with role {allowed}"),
        )
    }

    pub fn not_found(code: &'static str) -> Self {
        Self::bare(StatusCode::NOT_FOUND, code)
    }

    /// The problem for a response some layer produced without a body of ours (unknown
    /// route, wrong method, timeout, a body over the limit).
    pub fn for_status(status: StatusCode) -> Self {
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::REQUEST_TIMEOUT => "request_timeout",
            StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            s if s.is_server_error() => return Self::internal(format!("a layer answered {s}")),
            _ => "bad_request",
        };
        Self::bare(status, code)
    }
}

impl From<UsecaseError> for ApiError {
    fn from(error: UsecaseError) -> Self {
        use UsecaseError as E;
        let detail = error.to_string();
        match error {
            E::UserNotFound => Self::not_found("user_not_found"),
            E::UserSessionNotFound => Self::not_found("user_session_not_found"),
            E::UserDisabled => Self::new(StatusCode::CONFLICT, "user_disabled", detail),
            E::AgentNotFound => Self::not_found("agent_not_found"),
            E::GrantNotFound => Self::not_found("grant_not_found"),
            E::GrantExists => Self::new(StatusCode::CONFLICT, "grant_exists", detail),
            E::AgentSessionNotFound => Self::not_found("agent_session_not_found"),
            E::GrantRevoked => Self::new(StatusCode::CONFLICT, "grant_revoked", detail),
            E::AgentDisabled => Self::new(StatusCode::CONFLICT, "agent_disabled", detail),
            E::ClientAuthenticationFailed => {
                Self::new(StatusCode::UNAUTHORIZED, "invalid_client", detail)
            }
            E::ConsentRequired => Self::new(StatusCode::FORBIDDEN, "consent_required", detail),
            E::SubjectTokenInactive | E::RefreshTokenInvalid => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_grant", detail)
            }
            E::UserSessionInactive => {
                Self::new(StatusCode::CONFLICT, "user_session_inactive", detail)
            }
            E::DelegationRefused(DelegationRefused::TooDeep { .. }) => {
                Self::new(StatusCode::FORBIDDEN, "delegation_too_deep", detail)
            }
            E::DelegationRefused(DelegationRefused::ProviderNotConnected(_)) => {
                Self::new(StatusCode::FORBIDDEN, "provider_not_connected", detail)
            }
            E::DelegationRefused(_) => Self::new(StatusCode::FORBIDDEN, "scopes_not_held", detail),
            E::ScopeRefused(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_scope", detail)
            }
            E::ScopesBeyondCeiling(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "scopes_beyond_ceiling",
                detail,
            ),
            E::UserFieldRefused(_) | E::LifetimeRefused(_) | E::TextRefused { .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", detail)
            }
            E::WebhookEndpointNotFound => Self::not_found("webhook_endpoint_not_found"),
            E::ProviderNotFound => Self::not_found("provider_not_found"),
            E::ConnectionNotFound => Self::not_found("connection_not_found"),
            E::UserSessionRequired => {
                Self::new(StatusCode::UNAUTHORIZED, "user_session_required", detail)
            }
            E::ReturnToRefused => Self::new(StatusCode::BAD_REQUEST, "invalid_return_to", detail),
            E::AuthorizationFailed(failure) => {
                use crate::domain::connection::AuthorizationFailure as F;
                let status = match failure {
                    F::SessionMismatch | F::SessionInactive => StatusCode::FORBIDDEN,
                    F::ProviderUnavailable(_) | F::ProviderRefused(_) => StatusCode::BAD_GATEWAY,
                    _ => StatusCode::BAD_REQUEST,
                };
                Self::new(status, failure.code(), detail)
            }
            E::VendRefused(refused) => {
                use crate::domain::credential::VendRefused as V;
                let (status, code) = match refused {
                    V::TokenInactive => (StatusCode::UNAUTHORIZED, "invalid_token"),
                    V::NoScopeOfProvider => (StatusCode::FORBIDDEN, "provider_scope_not_held"),
                    V::NotConnected => (StatusCode::CONFLICT, "provider_not_connected"),
                    V::NeedsReauthorization => {
                        (StatusCode::CONFLICT, "connection_needs_reauthorization")
                    }
                    V::Expired => (StatusCode::CONFLICT, "credential_expired"),
                };
                Self::new(status, code, detail)
            }
            E::ProviderUnavailable { retry_after } => Self {
                retry_after: Some(retry_after),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "provider_unavailable",
                    detail,
                )
            },
            E::ApiKeyNotFound => Self::not_found("api_key_not_found"),
            E::TooManySessions { .. } => {
                Self::new(StatusCode::CONFLICT, "too_many_sessions", detail)
            }
            E::RateLimited { retry_after } => Self {
                retry_after: Some(retry_after),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", detail)
            },
            E::LastAdminKey => Self::new(StatusCode::CONFLICT, "last_admin_key", detail),
            E::TooManyWebhookEndpoints => {
                Self::new(StatusCode::CONFLICT, "too_many_webhook_endpoints", detail)
            }
            E::WebhookTargetRefused(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_webhook_url",
                detail,
            ),
            E::OutOfRange { .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", detail)
            }
            E::SecretBox(cause) => Self::internal(cause.to_string()),
            E::KeySetRefused(cause) => Self::internal(cause.to_string()),
            E::SelectorRefused(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_selector", detail)
            }
            E::IdempotencyKeyReused => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                detail,
            ),
            E::IpBlockNotFound => Self::not_found("ip_block_not_found"),
            E::IpBlocked { .. } => Self::new(StatusCode::FORBIDDEN, "ip_blocked", detail),
            E::FormTokenRefused => Self::new(StatusCode::FORBIDDEN, "form_token_refused", detail),
            E::LoginLinkInvalid => Self::new(StatusCode::GONE, "login_link_invalid", detail),
            E::IssuanceDenied { .. } => Self::new(StatusCode::FORBIDDEN, "issuance_denied", detail),
            E::IssuanceHookUnavailable => Self {
                retry_after: Some(std::time::Duration::from_secs(1)),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "issuance_hook_unavailable",
                    detail,
                )
            },
            E::UnknownEventType(_) => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_event_type", detail)
            }
            E::CursorInvalid(_) => Self::new(StatusCode::BAD_REQUEST, "invalid_cursor", detail),
            E::PageSizeInvalid(_) => Self::new(StatusCode::BAD_REQUEST, "invalid_limit", detail),
            E::IssuanceFailed(cause) => Self::internal(cause),
            E::Unavailable(_) => Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "unavailable",
                detail: Some("the database is unavailable; retry later".to_owned()),
                cause: Some(error.to_string()),
                retry_after: None,
            },
            E::Store(store) => Self::internal(store.to_string()),
        }
    }
}

/// A `Retry-After` value: whole seconds, rounded up, at least 1.
pub(super) fn retry_after(wait: std::time::Duration) -> HeaderValue {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    HeaderValue::from(seconds.max(1))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = request_id::current();
        self.log_cause(request_id.as_deref());
        let problem = Problem {
            r#type: format!("urn:leash:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            code: self.code.to_owned(),
            detail: self.detail,
            request_id,
        };
        let mut response = (self.status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if let Some(wait) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after(wait));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: a 401 names the scheme the caller should use.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"leash\""),
            );
        }
        response
    }
}

impl OperationOutput for ApiError {
    type Inner = Problem;

    fn operation_response(ctx: &mut GenContext, _operation: &mut Operation) -> Option<ApiResponse> {
        let json_schema = ctx.schema.subschema_for::<Problem>();
        Some(super::answer::response_of(
            "A problem (RFC 9457) with a stable `code`",
            PROBLEM_CONTENT_TYPE,
            json_schema,
        ))
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<aide::openapi::StatusCode>, ApiResponse)> {
        Self::operation_response(ctx, operation)
            .map(|r| (None, r))
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        for (wait, seconds) in [
            (Duration::ZERO, "1"),
            (Duration::from_millis(1), "1"),
            (Duration::from_secs(2), "2"),
            (Duration::from_millis(2_500), "3"),
        ] {
            assert_eq!(retry_after(wait), seconds, "{wait:?}");
        }
    }
}
