use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::id::{UserId, UserSessionId};
use crate::usecase::introspect::Introspection;

/// RFC 7662 introspection request (form-encoded). Other parameters are ignored, as
/// OAuth asks.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct IntrospectionRequest {
    pub token: String,
    pub token_type_hint: Option<String>,
}

/// RFC 7662 introspection response. Inactive tokens answer `{"active": false}` and
/// nothing more, whatever the reason.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct IntrospectionResponse {
    pub active: bool,
    /// The user the token acts for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<UserSessionId>,
    /// What kind of session the token belongs to (`user_session`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Issued at, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Absolute expiry, seconds since the epoch (the idle timeout may end it sooner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

impl From<Introspection> for IntrospectionResponse {
    fn from(found: Introspection) -> Self {
        match found {
            Introspection::Inactive => Self::default(),
            Introspection::ActiveUserSession {
                session_id,
                user_id,
                issued_at,
                expires_at,
            } => Self {
                active: true,
                sub: Some(user_id),
                session_id: Some(session_id),
                session_kind: Some("user_session".to_owned()),
                token_type: Some("Bearer".to_owned()),
                iat: Some(issued_at.timestamp()),
                exp: Some(expires_at.timestamp()),
            },
        }
    }
}
