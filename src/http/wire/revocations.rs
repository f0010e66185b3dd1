use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::id::{
    AgentId, AgentSessionId, ConnectionId, RevocationId, UserId, UserSessionId,
};
use crate::domain::ip_range::IpRange;
use crate::domain::provider::{self, ProviderId};
use crate::domain::revocation;
use crate::domain::revocation::{Preview, Revocation, RevocationCause, SessionKind};
use crate::domain::risk_selector::{self, RiskSelector, SelectedKinds};
use crate::domain::scope::{self, Scope};
use crate::domain::text;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Free text kept with the revocation record (at most 500 characters).
    #[schemars(length(max = revocation::REASON_MAX_LEN), pattern(text::PATTERN))]
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOutEverywhereRequest {
    /// A session of this user to keep (the one asking).
    pub except_session_id: Option<UserSessionId>,
    #[schemars(length(max = revocation::REASON_MAX_LEN), pattern(text::PATTERN))]
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialChangedRequest {
    /// The session that changed the password, to keep signed in.
    pub except_session_id: Option<UserSessionId>,
}

/// Why sessions were revoked.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevocationCauseBody {
    UserSessionRevoked,
    SignOutEverywhere,
    CredentialChanged,
    UserDisabled,
    AgentSessionRevoked,
    AgentDisabled,
    GrantRevoked,
    ScopeReduced,
    RefreshTokenReused,
    IntegrationDisconnected,
    UpstreamRevoked,
    RiskRevocation,
}

impl From<RevocationCause> for RevocationCauseBody {
    fn from(cause: RevocationCause) -> Self {
        match cause {
            RevocationCause::UserSessionRevoked => Self::UserSessionRevoked,
            RevocationCause::SignOutEverywhere => Self::SignOutEverywhere,
            RevocationCause::CredentialChanged => Self::CredentialChanged,
            RevocationCause::UserDisabled => Self::UserDisabled,
            RevocationCause::AgentSessionRevoked => Self::AgentSessionRevoked,
            RevocationCause::AgentDisabled => Self::AgentDisabled,
            RevocationCause::GrantRevoked => Self::GrantRevoked,
            RevocationCause::ScopeReduced => Self::ScopeReduced,
            RevocationCause::RefreshTokenReused => Self::RefreshTokenReused,
            RevocationCause::IntegrationDisconnected => Self::IntegrationDisconnected,
            RevocationCause::UpstreamRevoked => Self::UpstreamRevoked,
            RevocationCause::RiskRevocation => Self::RiskRevocation,
        }
    }
}

/// One act of revoking, with counts of what it revoked (cascades included).
#[derive(Debug, Serialize, JsonSchema)]
pub struct RevocationBody {
    pub id: RevocationId,
    pub cause: RevocationCauseBody,
    pub user_sessions_revoked: u64,
    pub agent_sessions_revoked: u64,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<Revocation> for RevocationBody {
    fn from(r: Revocation) -> Self {
        Self {
            id: r.id,
            cause: r.cause.into(),
            user_sessions_revoked: r.user_sessions_revoked,
            agent_sessions_revoked: r.agent_sessions_revoked,
            created_at: r.created_at,
            reason: r.reason,
        }
    }
}

/// Which kind of session a preview names.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionKindBody {
    User,
    Agent,
}

/// One session a revocation would hit.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PreviewedSessionBody {
    pub kind: SessionKindBody,
    /// A `uss_…` or `ags_…` id.
    pub id: String,
    pub user_id: UserId,
    /// The agent holding it (agent sessions only).
    pub agent_id: Option<AgentId>,
    /// Where it signed in from (user sessions only).
    pub ip_address: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What a revocation would hit, had it been done now: counts, and the oldest sessions
/// of each kind by name. Nothing was changed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PreviewBody {
    pub user_sessions: u64,
    pub agent_sessions: u64,
    pub sample: Vec<PreviewedSessionBody>,
}

impl From<Preview> for PreviewBody {
    fn from(preview: Preview) -> Self {
        Self {
            user_sessions: preview.user_sessions,
            agent_sessions: preview.agent_sessions,
            sample: preview
                .sample
                .into_iter()
                .map(|s| PreviewedSessionBody {
                    kind: match s.kind {
                        SessionKind::User => SessionKindBody::User,
                        SessionKind::Agent => SessionKindBody::Agent,
                    },
                    id: s.id,
                    user_id: s.user_id,
                    agent_id: s.agent_id,
                    ip_address: s.ip_address,
                    created_at: s.created_at,
                })
                .collect(),
        }
    }
}

/// Which sessions a selector matches itself; descendants go with them either way.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SelectedKindsBody {
    User,
    Agent,
    #[default]
    Both,
}

/// The sessions to revoke: those matching every field named (and their descendants).
/// Name at least a user, an agent, a connection, sessions, an address or a time bound.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectorBody {
    pub user_id: Option<UserId>,
    /// At most 100. An agent session matches by the user session at its root.
    #[schemars(length(max = risk_selector::MAX_LISTED_SESSIONS))]
    #[serde(default)]
    pub user_session_ids: Vec<UserSessionId>,
    pub agent_id: Option<AgentId>,
    /// At most 100.
    #[schemars(length(max = risk_selector::MAX_LISTED_SESSIONS))]
    #[serde(default)]
    pub agent_session_ids: Vec<AgentSessionId>,
    /// Agent sessions that could use this connection: its person's, holding a scope of
    /// its provider.
    pub connection_id: Option<ConnectionId>,
    /// Agent sessions holding a scope of this provider (`github` for `github:repo`).
    #[schemars(pattern(provider::ID_PATTERN))]
    pub provider: Option<String>,
    /// An address (`203.0.113.7`) or a CIDR block (`203.0.113.0/24`, `2001:db8::/32`):
    /// where the session signed in from, an agent session's by its root user session.
    #[schemars(length(max = 64))]
    pub ip_address: Option<String>,
    /// A fragment of the user agent the session signed in with, case-insensitive (ASCII
    /// letters); an agent session's by its root user session.
    #[schemars(length(min = 1, max = risk_selector::USER_AGENT_FRAGMENT_MAX_LEN), pattern(text::PATTERN))]
    pub user_agent_contains: Option<String>,
    pub created_before: Option<DateTime<Utc>>,
    pub created_after: Option<DateTime<Utc>>,
    /// Agent sessions holding this scope.
    #[schemars(length(max = Scope::MAX_LEN), pattern(scope::PATTERN))]
    pub scope: Option<String>,
    /// `user`, `agent` or `both` (the default).
    #[serde(default)]
    pub kind: SelectedKindsBody,
}

impl SelectorBody {
    /// The selector, or the field at fault. Whether it is bounded is the use case's to
    /// say.
    pub fn into_selector(self) -> Result<RiskSelector, (&'static str, String)> {
        let provider = self
            .provider
            .map(|raw| {
                ProviderId::parse(&raw).ok_or(("provider", format!("{raw:?} is not a provider id")))
            })
            .transpose()?;
        let ip = self
            .ip_address
            .map(|raw| IpRange::parse(&raw).map_err(|e| ("ip_address", e.to_string())))
            .transpose()?;
        let scope = self
            .scope
            .map(|raw| Scope::parse(&raw).map_err(|e| ("scope", e.to_string())))
            .transpose()?;
        Ok(RiskSelector {
            user_id: self.user_id,
            user_session_ids: self.user_session_ids,
            agent_id: self.agent_id,
            agent_session_ids: self.agent_session_ids,
            connection_id: self.connection_id,
            provider,
            ip,
            user_agent_contains: self.user_agent_contains,
            created_before: self.created_before,
            created_after: self.created_after,
            scope,
            kinds: match self.kind {
                SelectedKindsBody::User => SelectedKinds::User,
                SelectedKindsBody::Agent => SelectedKinds::Agent,
                SelectedKindsBody::Both => SelectedKinds::Both,
            },
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectorRevocationRequest {
    pub selector: SelectorBody,
    /// Free text kept with the revocation record (at most 500 characters).
    #[schemars(length(max = revocation::REASON_MAX_LEN), pattern(text::PATTERN))]
    pub reason: Option<String>,
    /// Change nothing; answer what would be revoked.
    #[serde(default)]
    pub dry_run: bool,
}

/// A selector revocation's answer: the act, or on a dry run what it would revoke.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SelectorRevocationAnswer {
    pub dry_run: bool,
    /// The act (absent on a dry run). Under a reused `Idempotency-Key`, the first
    /// request's act (the answer then carries `Idempotent-Replayed: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation: Option<RevocationBody>,
    /// A dry run's answer: the counts the act would answer, and a sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_revoke: Option<PreviewBody>,
}
