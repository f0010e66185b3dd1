//! Audit entries: one per security-relevant act, append-only, never holding a secret.

use chrono::{DateTime, Utc};

use super::actor::Actor;
use super::id::{AuditEntryId, RevocationId};
use super::revocation::RevocationCause;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    ApiKeyCreated,
    AgentRegistered,
    AgentSecretRotated,
    AgentUpdated,
    AgentDisabled,
    AgentEnabled,
    /// An agent session was issued (token exchange, sub-delegation or host mint).
    AgentSessionCreated,
    /// One act that revoked agent sessions (and no user session directly).
    AgentSessionsRevoked,
    GrantCreated,
    GrantUpdated,
    GrantRevoked,
    UserCreated,
    UserDisabled,
    UserEnabled,
    UserSessionCreated,
    /// One act that revoked user sessions; the revocation record holds the counts.
    UserSessionsRevoked,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ApiKeyCreated => "api_key.created",
            AuditAction::AgentRegistered => "agent.registered",
            AuditAction::AgentSecretRotated => "agent.secret_rotated",
            AuditAction::AgentUpdated => "agent.updated",
            AuditAction::AgentDisabled => "agent.disabled",
            AuditAction::AgentEnabled => "agent.enabled",
            AuditAction::AgentSessionCreated => "agent_session.created",
            AuditAction::AgentSessionsRevoked => "agent_sessions.revoked",
            AuditAction::GrantCreated => "grant.created",
            AuditAction::GrantUpdated => "grant.updated",
            AuditAction::GrantRevoked => "grant.revoked",
            AuditAction::UserCreated => "user.created",
            AuditAction::UserDisabled => "user.disabled",
            AuditAction::UserEnabled => "user.enabled",
            AuditAction::UserSessionCreated => "user_session.created",
            AuditAction::UserSessionsRevoked => "user_sessions.revoked",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: AuditEntryId,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub request_id: Option<String>,
    pub action: AuditAction,
    /// The id of what was acted on (`usr_…`, `uss_…`, `key_…`).
    pub target: String,
    pub cause: Option<RevocationCause>,
    pub revocation_id: Option<RevocationId>,
}

impl AuditEntry {
    pub fn new(
        actor: &Actor,
        action: AuditAction,
        target: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: AuditEntryId::generate(),
            at,
            actor: actor.label(),
            request_id: actor.request_id.clone(),
            action,
            target: target.into(),
            cause: None,
            revocation_id: None,
        }
    }

    pub fn for_revocation(mut self, cause: RevocationCause, revocation_id: RevocationId) -> Self {
        self.cause = Some(cause);
        self.revocation_id = Some(revocation_id);
        self
    }
}
