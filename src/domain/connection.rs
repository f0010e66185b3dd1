//! A user's connection to an upstream OAuth provider: what the provider granted, and
//! whether its tokens still work. The tokens themselves never leave the store sealed
//! except to be handed to an agent session allowed to use them.

use chrono::{DateTime, TimeDelta, Utc};

use super::id::{ConnectionId, UpstreamRevocationId, UserId, UserSessionId};
use super::provider::ProviderId;
use super::scope::Scope;

/// How long a person has to finish an authorization they started.
pub const AUTHORIZATION_TTL: TimeDelta = TimeDelta::minutes(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionStatus {
    /// Its tokens work, as far as Leash knows.
    Connected,
    /// The provider refused its refresh token (`invalid_grant`): the user must connect
    /// again, which heals it.
    NeedsReauthorization,
    /// The user (or an operator) disconnected it; its tokens are destroyed.
    Disconnected,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::NeedsReauthorization => "needs_reauthorization",
            Self::Disconnected => "disconnected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Connected,
            Self::NeedsReauthorization,
            Self::Disconnected,
        ]
        .into_iter()
        .find(|status| status.as_str() == raw)
    }
}

/// A connection as the API shows it: never a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: ConnectionId,
    pub user_id: UserId,
    pub provider: ProviderId,
    pub status: ConnectionStatus,
    /// The upstream scopes the provider granted (not those Leash asked for).
    pub granted_scopes: Vec<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub connected_at: DateTime<Utc>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    pub disconnected_at: Option<DateTime<Utc>>,
    /// What became of asking the provider to revoke each token, after a disconnect.
    pub receipt: Vec<Receipt>,
}

impl Connection {
    /// What it grants, as grants name it (`acme:repo`).
    pub fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        self.granted_scopes
            .iter()
            .filter_map(|upstream| self.provider.scope(upstream))
    }
}

/// Which of a connection's tokens a receipt is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamToken {
    Access,
    Refresh,
}

impl UpstreamToken {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access_token",
            Self::Refresh => "refresh_token",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Access, Self::Refresh]
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }
}

/// Where asking the provider to revoke one token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptStatus {
    /// Not yet answered; tried again at `next_attempt_at`.
    Pending,
    /// The provider revoked it (or no longer knew it).
    Revoked,
    /// The provider has no revocation endpoint, or cannot revoke this kind of token.
    NotSupported,
    /// The provider never answered usefully, through the last retry.
    Failed,
}

impl ReceiptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Revoked => "revoked",
            Self::NotSupported => "not_supported",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Revoked,
            Self::NotSupported,
            Self::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == raw)
    }
}

/// One token's line of a disconnect's receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub id: UpstreamRevocationId,
    pub token: UpstreamToken,
    pub status: ReceiptStatus,
    pub attempts: u32,
    /// When it is tried again (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The provider's last answer, or why none came.
    pub last_answer: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// How long a worker waits before asking a provider again, by attempts made so far:
/// about three days in all, then the receipt says `failed`.
pub const REVOCATION_RETRY_SECONDS: [i64; 8] = [5, 30, 120, 600, 3_600, 21_600, 86_400, 86_400];

/// When to ask again after `attempts` failed attempts, or `None` when that was the last.
pub fn next_revocation_attempt(attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    REVOCATION_RETRY_SECONDS
        .get(attempts.saturating_sub(1) as usize)
        .map(|&seconds| now + TimeDelta::seconds(seconds))
}

/// An authorization a user session started and the provider has not yet sent back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    pub user_id: UserId,
    /// The session that started it: the connection is made only while it is active.
    pub user_session_id: UserSessionId,
    pub provider: ProviderId,
    pub requested_scopes: Vec<String>,
    /// Where to send the person afterwards (an allowed origin's URL).
    pub return_to: Option<String>,
    /// Started with the session cookie: the callback must then carry the same cookie.
    pub cookie_bound: bool,
    pub expires_at: DateTime<Utc>,
}

/// Why an authorization could not be finished. Nothing is stored for any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationFailure {
    /// The person declined, or the provider answered an error to the browser.
    #[error("the provider did not authorize: {0}")]
    Denied(String),
    #[error("the callback carries no state")]
    StateMissing,
    /// Unknown, expired or already used: an authorization is finished once.
    #[error("the state is unknown, expired or already used; start again")]
    StateInvalid,
    #[error("the callback carries no code")]
    CodeMissing,
    /// RFC 9207: the answer names another issuer than the provider's (a mix-up).
    #[error("the authorization response names another issuer")]
    IssuerMismatch,
    /// The callback carries another user's session, or not the session cookie that
    /// started the authorization.
    #[error("this browser's session did not start this authorization")]
    SessionMismatch,
    #[error("the user session that started the authorization is no longer active")]
    SessionInactive,
    #[error("the provider could not be reached: {0}")]
    ProviderUnavailable(String),
    #[error("the provider refused the code: {0}")]
    ProviderRefused(String),
}

impl AuthorizationFailure {
    /// The stable code of the failure, for problem+json and the HTML page.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Denied(_) => "authorization_denied",
            Self::StateMissing | Self::StateInvalid => "invalid_state",
            Self::CodeMissing => "invalid_request",
            Self::IssuerMismatch => "invalid_issuer",
            Self::SessionMismatch => "session_mismatch",
            Self::SessionInactive => "user_session_inactive",
            Self::ProviderUnavailable(_) => "provider_unavailable",
            Self::ProviderRefused(_) => "provider_refused",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocations_are_retried_for_about_three_days_then_given_up() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(
            next_revocation_attempt(1, now),
            Some(now + TimeDelta::seconds(5))
        );
        let total: i64 = REVOCATION_RETRY_SECONDS.iter().sum();
        assert!((2 * 86_400..4 * 86_400).contains(&total));
        assert_eq!(
            next_revocation_attempt(REVOCATION_RETRY_SECONDS.len() as u32, now),
            Some(now + TimeDelta::seconds(86_400))
        );
        assert_eq!(
            next_revocation_attempt(REVOCATION_RETRY_SECONDS.len() as u32 + 1, now),
            None
        );
        for status in [
            ReceiptStatus::Pending,
            ReceiptStatus::Revoked,
            ReceiptStatus::NotSupported,
            ReceiptStatus::Failed,
        ] {
            assert_eq!(ReceiptStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in [
            ConnectionStatus::Connected,
            ConnectionStatus::NeedsReauthorization,
            ConnectionStatus::Disconnected,
        ] {
            assert_eq!(ConnectionStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ConnectionStatus::parse("broken"), None);
    }
}
