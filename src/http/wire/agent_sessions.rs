use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scopes::ScopeList;

use super::revocations::RevocationCauseBody;
use crate::domain::agent_session::AgentSession;
use crate::domain::id::{AgentId, AgentSessionId, GrantId, RevocationId, UserId, UserSessionId};
use crate::domain::pagination::Page;
use crate::domain::secret::Secret;
use crate::domain::user_session::Liveness;
use crate::usecase::agent_sessions::ListedAgentSession;
use crate::usecase::delegate_to_agent::IssuedAgentSession;

/// The host application mints an agent session for a signed-in user and hands the
/// tokens to the agent runtime. Same rules as the token exchange.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MintAgentSessionRequest {
    pub agent_id: AgentId,
    /// Within the user's grant to the agent and the agent's ceiling.
    pub scopes: ScopeList,
    /// The user's signed-in session the delegation hangs from: it dies with it.
    pub user_session_id: UserSessionId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentSessionStatusBody {
    Active,
    Revoked,
    /// Past its absolute expiry or idle timeout.
    Expired,
}

/// A live (or past) delegation to an agent.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgentSessionBody {
    pub id: AgentSessionId,
    pub agent_id: AgentId,
    /// Present in listings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    pub user_id: UserId,
    pub grant_id: GrantId,
    /// The agent session it was sub-delegated from, if any.
    pub parent_id: Option<AgentSessionId>,
    /// The user session at the root of its delegation tree.
    pub user_session_id: UserSessionId,
    pub scopes: Vec<String>,
    /// The agents of the delegation chain, nearest first (`agent_id` first).
    pub chain: Vec<AgentId>,
    /// 1 for a delegation from the user; one more per sub-delegation.
    pub depth: u32,
    pub status: AgentSessionStatusBody,
    pub created_at: DateTime<Utc>,
    /// When it was last used, to within a minute.
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub idle_timeout_seconds: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_cause: Option<RevocationCauseBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_id: Option<RevocationId>,
}

impl AgentSessionBody {
    pub fn new(session: AgentSession, agent_name: Option<String>, now: DateTime<Utc>) -> Self {
        let status = match session.liveness(now) {
            Liveness::Active => AgentSessionStatusBody::Active,
            Liveness::Revoked(_) => AgentSessionStatusBody::Revoked,
            _ => AgentSessionStatusBody::Expired,
        };
        let revoked = session.revoked;
        Self {
            id: session.id,
            agent_id: session.agent_id,
            agent_name,
            user_id: session.user_id,
            grant_id: session.grant_id,
            parent_id: session.parent_id,
            user_session_id: session.user_session_id,
            scopes: session.scopes.to_vec(),
            chain: session.agent_chain,
            depth: session.depth,
            status,
            created_at: session.created_at,
            last_used_at: session.last_used_at,
            expires_at: session.expires_at,
            idle_timeout_seconds: session.idle_timeout.num_seconds(),
            revoked_at: revoked.as_ref().map(|r| r.at),
            revocation_cause: revoked.as_ref().map(|r| r.cause.into()),
            revocation_id: revoked.map(|r| r.revocation_id),
        }
    }
}

/// A new agent session and its tokens, shown this once.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MintedAgentSession {
    pub agent_session: AgentSessionBody,
    /// `leash_at_…`, short-lived; resource servers introspect it.
    pub access_token: Secret,
    /// `leash_rt_…`; each use at the token endpoint rotates it.
    pub refresh_token: Secret,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub scope: String,
}

impl MintedAgentSession {
    pub fn new(issued: IssuedAgentSession, now: DateTime<Utc>) -> Self {
        Self {
            access_token: issued.access_token.into_exposed().into(),
            refresh_token: issued.refresh_token.into_exposed().into(),
            token_type: "Bearer".to_owned(),
            expires_in: (issued.access_expires_at - now).num_seconds(),
            scope: issued.session.scopes.to_space_separated(),
            agent_session: AgentSessionBody::new(issued.session, None, now),
        }
    }
}

/// One page of a user's agent sessions, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgentSessionList {
    pub data: Vec<AgentSessionBody>,
    pub next_cursor: Option<String>,
}

impl AgentSessionList {
    pub fn new(page: Page<ListedAgentSession>, now: DateTime<Utc>) -> Self {
        Self {
            data: page
                .items
                .into_iter()
                .map(|l| AgentSessionBody::new(l.session, Some(l.agent_name), now))
                .collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}
