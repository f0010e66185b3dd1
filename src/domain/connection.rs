//! A user's connection to an upstream OAuth provider: what the provider granted, and
//! whether its tokens still work. The tokens themselves never leave the store sealed
//! except to be handed to an agent session allowed to use them.

use chrono::{DateTime, TimeDelta, Utc};

use super::id::{ConnectionId, UserId, UserSessionId};
use super::provider::ProviderId;

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
