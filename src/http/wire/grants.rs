use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scopes::ScopeList;

use crate::domain::grant::{Grant, GrantStatus};
use crate::domain::id::{AgentId, GrantId, UserId};
use crate::domain::pagination::Page;
use crate::http::wire::revocations::RevocationBody;

/// The user consents: this agent may use these scopes for them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGrantRequest {
    pub agent_id: AgentId,
    /// Within the agent's ceiling.
    pub scopes: ScopeList,
}

/// The user changes their consent. Narrowing revokes every agent session under the
/// grant holding a scope no longer granted, with descendants (cause `scope_reduced`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGrantRequest {
    /// Within the agent's ceiling.
    pub scopes: ScopeList,
}

/// A grant after a change, and what narrowing it revoked.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UpdatedGrant {
    pub grant: GrantBody,
    pub revocation: Option<RevocationBody>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatusBody {
    Active,
    Revoked,
}

/// A user's consent for one agent.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GrantBody {
    pub id: GrantId,
    pub user_id: UserId,
    pub agent_id: AgentId,
    pub scopes: Vec<String>,
    pub status: GrantStatusBody,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Grant> for GrantBody {
    fn from(grant: Grant) -> Self {
        Self {
            scopes: grant.scopes.to_vec(),
            id: grant.id,
            user_id: grant.user_id,
            agent_id: grant.agent_id,
            status: match grant.status {
                GrantStatus::Active => GrantStatusBody::Active,
                GrantStatus::Revoked => GrantStatusBody::Revoked,
            },
            created_at: grant.created_at,
            updated_at: grant.updated_at,
        }
    }
}

/// One page of a user's grants, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GrantList {
    pub data: Vec<GrantBody>,
    pub next_cursor: Option<String>,
}

impl From<Page<Grant>> for GrantList {
    fn from(page: Page<Grant>) -> Self {
        Self {
            data: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}
