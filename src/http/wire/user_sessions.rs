use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::revocations::RevocationCauseBody;
use crate::domain::id::{RevocationId, UserId, UserSessionId};
use crate::domain::pagination::{self, ListFilter, Page, PageSize};
use crate::domain::secret::Secret;
use crate::domain::text;
use crate::domain::user_session::{Lifetime, Liveness, UserSession};
use crate::usecase::sign_in;

/// A sign-in the host application reports.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserSessionRequest {
    #[schemars(length(max = sign_in::MAX_IP_ADDRESS), pattern(text::PATTERN))]
    pub ip_address: Option<String>,
    #[schemars(length(max = sign_in::MAX_USER_AGENT), pattern(text::PATTERN))]
    pub user_agent: Option<String>,
    /// Absolute lifetime (60 s to 400 days; default from configuration).
    #[schemars(range(min = Lifetime::MIN_SECONDS, max = Lifetime::MAX_TTL_SECONDS))]
    pub ttl_seconds: Option<i64>,
    /// Idle timeout (600 s to 400 days; default from configuration). One longer than
    /// the lifetime is the lifetime.
    #[schemars(range(min = Lifetime::MIN_IDLE_SECONDS, max = Lifetime::MAX_TTL_SECONDS))]
    pub idle_timeout_seconds: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserSessionStatusBody {
    Active,
    Revoked,
    /// Past its absolute expiry or idle timeout.
    Expired,
}

/// One signed-in device.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UserSessionBody {
    pub id: UserSessionId,
    pub user_id: UserId,
    pub status: UserSessionStatusBody,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it was last used, to within a minute.
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub idle_timeout_seconds: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_cause: Option<RevocationCauseBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_id: Option<RevocationId>,
}

impl UserSessionBody {
    pub fn new(session: UserSession, now: DateTime<Utc>) -> Self {
        let status = match session.liveness(now) {
            Liveness::Active => UserSessionStatusBody::Active,
            Liveness::Revoked(_) => UserSessionStatusBody::Revoked,
            Liveness::Expired
            | Liveness::IdleTimedOut
            | Liveness::UserDisabled
            | Liveness::AgentDisabled
            | Liveness::ChainInactive => UserSessionStatusBody::Expired,
        };
        let revoked = session.revoked;
        Self {
            id: session.id,
            user_id: session.user_id,
            status,
            ip_address: session.ip_address,
            user_agent: session.user_agent,
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
            expires_at: session.expires_at,
            idle_timeout_seconds: session.idle_timeout.num_seconds(),
            revoked_at: revoked.as_ref().map(|r| r.at),
            revocation_cause: revoked.as_ref().map(|r| r.cause.into()),
            revocation_id: revoked.map(|r| r.revocation_id),
        }
    }
}

/// A new session and its token. The token is shown this once and never again.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreatedUserSession {
    pub session: UserSessionBody,
    /// Bearer token for the device (`leash_ust_…`).
    pub token: Secret,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    #[default]
    Active,
    All,
}

impl From<StatusFilter> for ListFilter {
    fn from(filter: StatusFilter) -> Self {
        match filter {
            StatusFilter::Active => ListFilter::Active,
            StatusFilter::All => ListFilter::All,
        }
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListUserSessionsQuery {
    /// `active` (default) or `all`.
    pub status: Option<StatusFilter>,
    /// Page size, 1–200 (default 50).
    #[schemars(range(min = 1, max = PageSize::MAX))]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[schemars(pattern(pagination::KEY_PATTERN))]
    pub cursor: Option<String>,
}

/// One page of a user's sessions, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UserSessionList {
    pub data: Vec<UserSessionBody>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl UserSessionList {
    pub fn new(page: Page<UserSession>, now: DateTime<Utc>) -> Self {
        Self {
            data: page
                .items
                .into_iter()
                .map(|s| UserSessionBody::new(s, now))
                .collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}
