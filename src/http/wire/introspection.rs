use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::oauth;
use crate::domain::id::{AgentId, UserId};
use crate::domain::secret::Secret;
use crate::usecase::introspect::Introspection;

/// RFC 7662 introspection request (form-encoded). Other parameters are ignored, as
/// OAuth asks.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(transform = oauth::form_parameters)]
pub struct IntrospectionRequest {
    /// Any token: one Leash did not issue, or an empty one, is inactive.
    pub token: Secret,
    /// Ignored: Leash tells its tokens apart by their prefix.
    pub token_type_hint: Option<String>,
}

/// One actor of a delegation chain (RFC 8693 §4.1): `sub` is the agent's client id;
/// `act` the actor before it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Actor {
    pub sub: AgentId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Actor>>,
}

impl Actor {
    /// The chain as nested `act`, nearest actor outermost.
    fn chain(agents: Vec<AgentId>) -> Option<Box<Actor>> {
        agents
            .into_iter()
            .rev()
            .fold(None, |act, sub| Some(Box::new(Actor { sub, act })))
    }
}

/// RFC 7662 introspection response. Inactive tokens answer `{"active": false}` and
/// nothing more, whatever the reason.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct IntrospectionResponse {
    pub active: bool,
    /// The user the token acts for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<UserId>,
    /// For an agent token: the agent holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<AgentId>,
    /// For an agent token: its scopes, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The user session (`uss_…`) or agent session (`ags_…`) the token belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// What kind of session the token belongs to (`user_session` or `agent_session`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Issued at, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Expiry, seconds since the epoch (the idle timeout may end it sooner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// For an agent token: the delegation chain, nearest actor first (RFC 8693 §4.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Actor>>,
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
                session_id: Some(session_id.to_string()),
                session_kind: Some("user_session".to_owned()),
                token_type: Some("Bearer".to_owned()),
                iat: Some(issued_at.timestamp()),
                exp: Some(expires_at.timestamp()),
                ..Self::default()
            },
            Introspection::ActiveAgentSession {
                session_id,
                user_id,
                agent_id,
                scopes,
                chain,
                issued_at,
                expires_at,
            } => Self {
                active: true,
                sub: Some(user_id),
                client_id: Some(agent_id),
                scope: Some(scopes.to_space_separated()),
                session_id: Some(session_id.to_string()),
                session_kind: Some("agent_session".to_owned()),
                token_type: Some("Bearer".to_owned()),
                iat: Some(issued_at.timestamp()),
                exp: Some(expires_at.timestamp()),
                act: Actor::chain(chain),
            },
        }
    }
}
