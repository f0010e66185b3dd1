//! Handing an upstream credential to an agent session: which of the connection's
//! scopes the session may use it for, and when the token must be refreshed first.

use chrono::{DateTime, TimeDelta, Utc};

use super::connection::Connection;
use super::scope::ScopeSet;
use super::secret::Secret;

/// An upstream access token handed to an agent session. No `Debug`: it is the secret.
pub struct Credential {
    pub access_token: Secret,
    pub expires_at: Option<DateTime<Utc>>,
    /// The upstream scopes (as the provider names them) the session may use it for.
    pub scopes: Vec<String>,
}

/// Why no credential was handed out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VendRefused {
    #[error("the access token is not active")]
    TokenInactive,
    #[error("this agent session holds no scope of that provider")]
    NoScopeOfProvider,
    #[error("the user has no working connection to that provider")]
    NotConnected,
    #[error("the provider no longer honours the user's grant: the user must connect again")]
    NeedsReauthorization,
    #[error(
        "the upstream token expired and the provider gave no refresh token: the user must connect again"
    )]
    Expired,
}

/// The upstream scopes of `connection` that `session` holds (as `provider:scope`).
pub fn usable_scopes(session: &ScopeSet, connection: &Connection) -> Vec<String> {
    connection
        .granted_scopes
        .iter()
        .filter(|upstream| {
            connection
                .provider
                .scope(upstream)
                .is_some_and(|scope| session.contains(&scope))
        })
        .cloned()
        .collect()
}

/// Whether a token expiring at `expires_at` must be refreshed before it is handed out
/// at `now`: it expires within `margin` (a token without expiry never needs it).
pub fn needs_refresh(
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    margin: TimeDelta,
) -> bool {
    expires_at.is_some_and(|at| at - now <= margin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::connection::ConnectionStatus;
    use crate::domain::id::{ConnectionId, UserId};
    use crate::domain::provider::ProviderId;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn a_session_uses_the_connections_scopes_it_holds_and_no_other() {
        let connection = Connection {
            id: ConnectionId::generate(),
            user_id: UserId::generate(),
            provider: ProviderId::parse("acme").unwrap(),
            status: ConnectionStatus::Connected,
            granted_scopes: vec!["repo".to_owned(), "read:user".to_owned(), "gist".to_owned()],
            token_expires_at: None,
            connected_at: at(0),
            last_refreshed_at: None,
            disconnected_at: None,
            receipt: Vec::new(),
        };
        let session =
            ScopeSet::from_list(&["acme:repo", "acme:read:user", "other:gist", "notes"]).unwrap();
        assert_eq!(usable_scopes(&session, &connection), ["repo", "read:user"]);
    }

    #[test]
    fn a_token_is_refreshed_within_the_margin_of_its_expiry() {
        let margin = TimeDelta::seconds(60);
        assert!(!needs_refresh(None, at(0), margin));
        assert!(!needs_refresh(Some(at(61)), at(0), margin));
        assert!(needs_refresh(Some(at(60)), at(0), margin));
        assert!(needs_refresh(Some(at(-5)), at(0), margin));
    }
}
