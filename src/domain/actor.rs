//! Who did something: recorded on every revocation, audit entry and event.

use super::id::{AgentId, AgentSessionId, ApiKeyId, UserId};

/// The principal behind an act, and the request that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub principal: Principal,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A caller holding an API key.
    ApiKey(ApiKeyId),
    /// An operator at the command line (`leash keys create`, first start).
    Operator,
    /// An agent authenticated with its client credentials (the OAuth endpoints).
    Agent(AgentId),
    /// A person, through their own user session (connecting a provider).
    User(UserId),
    /// An agent, through one of its sessions (asking for an upstream credential).
    AgentSession(AgentSessionId),
    /// Leash itself, acting on a rule (a webhook endpoint disabled after its last retry).
    System,
    /// A Shared Signals transmitter, by its issuer, through a Security Event Token.
    Transmitter(String),
}

impl Actor {
    pub fn api_key(id: ApiKeyId, request_id: Option<String>) -> Self {
        Self {
            principal: Principal::ApiKey(id),
            request_id,
        }
    }

    pub fn agent(id: AgentId, request_id: Option<String>) -> Self {
        Self {
            principal: Principal::Agent(id),
            request_id,
        }
    }

    pub fn user(id: UserId, request_id: Option<String>) -> Self {
        Self {
            principal: Principal::User(id),
            request_id,
        }
    }

    pub fn agent_session(id: AgentSessionId, request_id: Option<String>) -> Self {
        Self {
            principal: Principal::AgentSession(id),
            request_id,
        }
    }

    pub fn operator() -> Self {
        Self {
            principal: Principal::Operator,
            request_id: None,
        }
    }

    pub fn transmitter(issuer: &str, request_id: Option<String>) -> Self {
        Self {
            principal: Principal::Transmitter(issuer.to_owned()),
            request_id,
        }
    }

    pub fn system() -> Self {
        Self {
            principal: Principal::System,
            request_id: None,
        }
    }

    /// The principal as one stable string (`key_…`, `agt_…`, `user:usr_…`, `ags_…`,
    /// `operator`, `system` or `ssf:<issuer>`).
    pub fn label(&self) -> String {
        match &self.principal {
            Principal::ApiKey(id) => id.to_string(),
            Principal::Agent(id) => id.to_string(),
            Principal::User(id) => format!("user:{id}"),
            Principal::AgentSession(id) => id.to_string(),
            Principal::Operator => "operator".to_owned(),
            Principal::System => "system".to_owned(),
            Principal::Transmitter(issuer) => format!("ssf:{issuer}"),
        }
    }
}
