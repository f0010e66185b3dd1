//! A registered agent runtime: a name, the ceiling of scopes it may ever hold, and
//! credentials (its id is its OAuth `client_id`; its secret is stored hashed).

use chrono::{DateTime, Utc};

use super::id::AgentId;
use super::scope::ScopeSet;
use super::text::{self, TextRefused};
use super::user_session::Lifetime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentStatus {
    Active,
    Disabled,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Active => "active",
            AgentStatus::Disabled => "disabled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [AgentStatus::Active, AgentStatus::Disabled]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: AgentId,
    pub name: String,
    /// The most this agent may ever hold, whatever a user consents to.
    pub scopes: ScopeSet,
    pub status: AgentStatus,
    /// Lifetime of this agent's sessions; the configured default when `None`.
    pub session_lifetime: Option<Lifetime>,
    pub created_at: DateTime<Utc>,
    pub secret_rotated_at: DateTime<Utc>,
}

pub const MAX_NAME: usize = 200;

/// Checks an agent's display name.
pub fn name(raw: &str) -> Result<&str, TextRefused> {
    text::required(raw, MAX_NAME)
}
