use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scopes::ScopeList;

use crate::domain::user_session::Lifetime;

use crate::domain::agent;
use crate::domain::agent::{Agent, AgentStatus};
use crate::domain::id::AgentId;
use crate::domain::pagination::Page;
use crate::domain::secret::Secret;
use crate::domain::text;
use crate::http::wire::revocations::RevocationBody;

/// An agent runtime to register, with the ceiling of scopes it may ever hold.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterAgentRequest {
    #[schemars(length(min = 1, max = agent::MAX_NAME), pattern(text::REQUIRED_PATTERN))]
    pub name: String,
    /// The ceiling.
    pub scopes: ScopeList,
    /// Absolute lifetime of this agent's sessions (60 s to 400 days; default from
    /// configuration). A session never outlives what it was delegated from.
    #[schemars(range(min = Lifetime::MIN_SECONDS, max = Lifetime::MAX_TTL_SECONDS))]
    pub session_ttl_seconds: Option<i64>,
    /// Idle timeout of this agent's sessions (600 s to 400 days); one longer than their
    /// lifetime is their lifetime.
    #[schemars(range(min = Lifetime::MIN_IDLE_SECONDS, max = Lifetime::MAX_TTL_SECONDS))]
    pub session_idle_timeout_seconds: Option<i64>,
}

/// Changes to an agent. Narrowing the ceiling revokes, across users, every session of
/// the agent holding a scope beyond it, with descendants.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentRequest {
    #[schemars(length(min = 1, max = agent::MAX_NAME), pattern(text::REQUIRED_PATTERN))]
    pub name: Option<String>,
    /// The new ceiling.
    pub scopes: Option<ScopeList>,
}

/// An agent after a change, and what narrowing its ceiling revoked.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UpdatedAgent {
    pub agent: AgentBody,
    pub revocation: Option<RevocationBody>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatusBody {
    Active,
    Disabled,
}

/// A registered agent runtime.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgentBody {
    pub id: AgentId,
    pub name: String,
    /// The ceiling: the most this agent may ever hold.
    pub scopes: Vec<String>,
    pub status: AgentStatusBody,
    /// This agent's own session lifetime, if it overrides the configured default.
    pub session_ttl_seconds: Option<i64>,
    pub session_idle_timeout_seconds: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub secret_rotated_at: DateTime<Utc>,
}

impl From<Agent> for AgentBody {
    fn from(agent: Agent) -> Self {
        Self {
            scopes: agent.scopes.to_vec(),
            id: agent.id,
            name: agent.name,
            status: match agent.status {
                AgentStatus::Active => AgentStatusBody::Active,
                AgentStatus::Disabled => AgentStatusBody::Disabled,
            },
            session_ttl_seconds: agent.session_lifetime.map(|l| l.ttl.num_seconds()),
            session_idle_timeout_seconds: agent
                .session_lifetime
                .map(|l| l.idle_timeout.num_seconds()),
            created_at: agent.created_at,
            secret_rotated_at: agent.secret_rotated_at,
        }
    }
}

/// An agent and its credentials for the OAuth endpoints. The secret is shown this once.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgentCredentials {
    pub agent: AgentBody,
    pub client_id: AgentId,
    /// `leash_cs_…`; stored only as a hash.
    pub client_secret: Secret,
}

/// One page of agents, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgentList {
    pub data: Vec<AgentBody>,
    pub next_cursor: Option<String>,
}

impl From<Page<Agent>> for AgentList {
    fn from(page: Page<Agent>) -> Self {
        Self {
            data: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}
