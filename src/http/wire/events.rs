//! Outbox event payloads, as the events API and webhooks will deliver them.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::revocations::RevocationCauseBody;
use crate::domain::id::{AgentId, EventId, RevocationId, UserId, UserSessionId};

/// Which session an event is about.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SessionRef {
    /// `user_session` or `agent_session`.
    pub kind: String,
    pub id: String,
}

/// `data` of a `user_session.revoked` event.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSessionRevokedData {
    pub session: SessionRef,
    pub user_id: UserId,
    pub revocation_id: RevocationId,
    pub cause: RevocationCauseBody,
    /// Who revoked it: an API key id (`key_…`), an agent (`agt_…`) or `operator`.
    pub actor: String,
}

/// A `user_session.revoked` event: one per revoked user session.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSessionRevokedEvent {
    pub id: EventId,
    /// Always `user_session.revoked`.
    pub r#type: String,
    pub created_at: DateTime<Utc>,
    pub data: UserSessionRevokedData,
}

/// `data` of an `agent_session.revoked` event.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSessionRevokedData {
    pub session: SessionRef,
    pub user_id: UserId,
    pub agent_id: AgentId,
    /// The user session at the root of its delegation tree.
    pub user_session_id: UserSessionId,
    /// The agents of the delegation chain, nearest first (`agent_id` first).
    pub chain: Vec<AgentId>,
    pub revocation_id: RevocationId,
    pub cause: RevocationCauseBody,
    /// Who revoked it: an API key id (`key_…`), an agent (`agt_…`) or `operator`.
    pub actor: String,
}

/// An `agent_session.revoked` event: one per revoked agent session, cascades included.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSessionRevokedEvent {
    pub id: EventId,
    /// Always `agent_session.revoked`.
    pub r#type: String,
    pub created_at: DateTime<Utc>,
    pub data: AgentSessionRevokedData,
}
