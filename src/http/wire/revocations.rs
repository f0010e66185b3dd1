use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::id::{RevocationId, UserSessionId};
use crate::domain::revocation;
use crate::domain::revocation::{Revocation, RevocationCause};
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
