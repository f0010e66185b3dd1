use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::id::{AgentId, RevocationId, UserId, UserSessionId};
use crate::domain::revocation;
use crate::domain::revocation::{Preview, Revocation, RevocationCause, SessionKind};
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
