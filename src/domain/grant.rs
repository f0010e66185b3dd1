//! The human's consent: "agent A may use scopes S for me". One active grant per user and
//! agent; what a session may hold is the grant's scopes within the agent's ceiling.

use chrono::{DateTime, Utc};

use super::id::{AgentId, GrantId, UserId};
use super::scope::ScopeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantStatus {
    Active,
    Revoked,
}

impl GrantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantStatus::Active => "active",
            GrantStatus::Revoked => "revoked",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [GrantStatus::Active, GrantStatus::Revoked]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: GrantId,
    pub user_id: UserId,
    pub agent_id: AgentId,
    pub scopes: ScopeSet,
    pub status: GrantStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user may consent only to what the agent may ever hold: the scopes asked beyond the
/// ceiling, if any.
pub fn beyond_ceiling(asked: &ScopeSet, ceiling: &ScopeSet) -> Option<ScopeSet> {
    let missing = asked.missing_from(ceiling);
    (!missing.is_empty()).then_some(missing)
}
