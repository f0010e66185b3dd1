//! What the OAuth endpoints share: RFC 6749 §5.2 error bodies (not problem+json, which
//! OAuth clients do not read), a form extractor whose rejections are OAuth errors, the
//! agent's client authentication (HTTP Basic or `client_secret_post`), and the
//! `Cache-Control: no-store` answer for tokens.

use aide::OperationInput;
use aide::OperationOutput;
use aide::generate::GenContext;
use aide::openapi::{Operation, Response as ApiResponse};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::request_id;
use super::wire::oauth::OAuthErrorBody;
use crate::domain::actor::Actor;
use crate::domain::agent::Agent;
use crate::domain::agent_session::DelegationRefused;
use crate::http::AppState;
use crate::usecase::{self, UsecaseError};

#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: Option<String>,
    retry_after: Option<std::time::Duration>,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: Some(description.into()),
            retry_after: None,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
    }
}

impl From<UsecaseError> for OAuthError {
    fn from(error: UsecaseError) -> Self {
        use UsecaseError as E;
        let description = error.to_string();
        let bad = |code| Self::new(StatusCode::BAD_REQUEST, code, description.clone());
        match error {
            E::ClientAuthenticationFailed | E::AgentDisabled | E::AgentNotFound => {
                Self::invalid_client(description)
            }
            E::ConsentRequired => bad("consent_required"),
            E::IpBlocked { .. } | E::IssuanceDenied { .. } => {
                Self::new(StatusCode::FORBIDDEN, "access_denied", description)
            }
            E::IssuanceHookUnavailable => Self {
                retry_after: Some(std::time::Duration::from_secs(1)),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    description,
                )
            },
            // Extension error codes (RFC 6749 §8.5): the limits of Leash's own API.
            E::TooManySessions { .. } => bad("too_many_sessions"),
            E::RateLimited { retry_after } => Self {
                retry_after: Some(retry_after),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", description)
            },
            E::ScopeRefused(_)
            | E::DelegationRefused(
                DelegationRefused::ScopesNotHeld(_)
                | DelegationRefused::ProviderNotConnected(_)
                | DelegationRefused::NoScopesInCommon,
            ) => bad("invalid_scope"),
            E::Unavailable(cause) => {
                tracing::error!(%cause, "token endpoint: database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the database is unavailable; retry later",
                )
            }
            E::IssuanceFailed(cause) => {
                tracing::error!(%cause, "token endpoint: issuing failed");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    error: "server_error",
                    description: None,
                    retry_after: None,
                }
            }
            E::Store(cause) => {
                tracing::error!(%cause, request_id = request_id::current().as_deref(), "token endpoint failed");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    error: "server_error",
                    description: None,
                    retry_after: None,
                }
            }
            // The subject or refresh token is dead, unknown, too deep to delegate from,
            // or its user or session is gone: all are the grant's fault (RFC 6749 §5.2).
            _ => bad("invalid_grant"),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = OAuthErrorBody {
            error: self.error.to_owned(),
            error_description: self.description,
        };
        let mut response = (self.status, no_store(Json(body))).into_response();
        if let Some(wait) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                super::error::retry_after(wait),
            );
        }
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2: invalid_client answers 401 with the scheme to use.
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"leash\""),
            );
        }
        response
    }
}

impl OperationOutput for OAuthError {
    type Inner = OAuthErrorBody;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<ApiResponse> {
        let mut response = Json::<OAuthErrorBody>::operation_response(ctx, operation)?;
        "An OAuth error (RFC 6749 §5.2)".clone_into(&mut response.description);
        Some(response)
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

/// A JSON answer that holds tokens: never cached (RFC 6749 §5.1).
pub struct NoStore<T>(pub Json<T>);

fn no_store<T: Serialize>(body: Json<T>) -> impl IntoResponse {
    (
        [
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
}

impl<T: Serialize> IntoResponse for NoStore<T> {
    fn into_response(self) -> Response {
        no_store(self.0).into_response()
    }
}

impl<T: JsonSchema> OperationOutput for NoStore<T> {
    type Inner = T;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<ApiResponse> {
        Json::<T>::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<aide::openapi::StatusCode>, ApiResponse)> {
        Json::<T>::inferred_responses(ctx, operation)
    }
}

/// A form-encoded OAuth request (RFC 6749 §3.2): a parameter sent twice is refused,
/// one without a value counts as absent, unknown ones are ignored.
pub struct OAuthForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OAuthForm<T> {
    type Rejection = OAuthError;

    async fn from_request(request: Request, state: &S) -> Result<Self, OAuthError> {
        let is_form = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(OAuthError::invalid_request(
                "send the parameters as application/x-www-form-urlencoded",
            ));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|e| OAuthError::invalid_request(e.body_text()))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|e| OAuthError::invalid_request(format!("malformed form body: {e}")))?;
        let mut params = serde_json::Map::new();
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            if params.insert(name.clone(), value.into()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {name} is repeated"
                )));
            }
        }
        serde_json::from_value(params.into())
            .map(Self)
            .map_err(|e| OAuthError::invalid_request(e.to_string()))
    }
}

impl<T: JsonSchema> OperationInput for OAuthForm<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        axum::extract::Form::<T>::operation_input(ctx, operation);
    }
}

/// Authenticates the agent calling an OAuth endpoint, by HTTP Basic (RFC 6749 §2.3.1,
/// each part form-urlencoded) or by `client_id` and `client_secret` in the form; never
/// both.
pub async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    client_id: Option<&str>,
    client_secret: Option<&str>,
) -> Result<(Agent, Actor), OAuthError> {
    let basic = headers
        .get(AUTHORIZATION)
        .map(|value| {
            basic_credentials(value)
                .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))
        })
        .transpose()?;
    let (id, secret) = match (basic, client_id, client_secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        (Some((id, secret)), None, None) => (id, secret),
        (None, Some(id), Some(secret)) => (id.to_owned(), secret.to_owned()),
        (None, _, _) => {
            return Err(OAuthError::invalid_client(
                "authenticate with HTTP Basic (client id and secret)",
            ));
        }
    };
    let agent = usecase::agents::authenticate(&state.app, &id, &secret).await?;
    let actor = Actor::agent(agent.id.clone(), request_id::current());
    Ok((agent, actor))
}

fn basic_credentials(value: &HeaderValue) -> Option<(String, String)> {
    let encoded = value.to_str().ok()?.strip_prefix("Basic ")?.trim();
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |part: &str| {
        percent_encoding::percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    /// A failure inside Leash is a server error: answering `invalid_grant` would tell the
    /// client its refresh token is dead and to throw it away.
    #[test]
    fn failures_inside_leash_are_server_errors_not_the_grants_fault() {
        for error in [
            UsecaseError::IssuanceFailed("the batch was dropped".to_owned()),
            UsecaseError::Store(StoreError::Corrupt("a bad row".to_owned())),
            UsecaseError::Store(StoreError::Conflict),
        ] {
            let answer = OAuthError::from(error);
            assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(answer.error, "server_error");
            assert_eq!(answer.description, None);
        }
    }
}
