//! What a security system asks to revoke: the sessions matching every field it names
//! (and, as every revocation, their descendants).
//!
//! A selector must be bounded: it names a user, an agent, a connection, sessions, an
//! address or a time bound. One that could match every session of every user (empty,
//! or only a provider, a scope, a user agent or a kind) is refused, so that a mistyped
//! request cannot sign everyone out.

use chrono::{DateTime, Utc};

use super::id::{AgentId, AgentSessionId, ConnectionId, UserId, UserSessionId};
use super::ip_range::IpRange;
use super::provider::ProviderId;
use super::scope::Scope;
use super::text::{self, TextRefused};

/// The most session ids one selector may list.
pub const MAX_LISTED_SESSIONS: usize = 100;

/// The longest user-agent fragment a selector may look for.
pub const USER_AGENT_FRAGMENT_MAX_LEN: usize = 200;

/// Which sessions a selector matches itself (descendants go with them either way).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SelectedKinds {
    User,
    Agent,
    #[default]
    Both,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskSelector {
    pub user_id: Option<UserId>,
    pub user_session_ids: Vec<UserSessionId>,
    pub agent_id: Option<AgentId>,
    pub agent_session_ids: Vec<AgentSessionId>,
    pub connection_id: Option<ConnectionId>,
    pub provider: Option<ProviderId>,
    /// Where the session signed in from; an agent session by its root user session.
    pub ip: Option<IpRange>,
    /// A fragment of the user agent the session signed in with (case-insensitive); an
    /// agent session by its root user session.
    pub user_agent_contains: Option<String>,
    pub created_before: Option<DateTime<Utc>>,
    pub created_after: Option<DateTime<Utc>>,
    pub scope: Option<Scope>,
    pub kinds: SelectedKinds,
}

/// Why a selector is refused, naming the field at fault where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorRefused {
    #[error("the selector is empty: name what to revoke")]
    Empty,
    #[error(
        "the selector could match every session of every user: name a user, an agent, a \
         connection, sessions, an ip_address or a time bound"
    )]
    Unbounded,
    #[error("{field}: at most {max} ids")]
    TooManyIds { field: &'static str, max: usize },
    #[error("created_after must be before created_before")]
    EmptyTimeWindow,
    #[error("{field} selects agent sessions only, and kind is user")]
    AgentFieldForUserKind { field: &'static str },
    #[error("user_agent_contains: {0}")]
    UserAgent(TextRefused),
}

impl RiskSelector {
    /// The selector, if it is bounded and consistent.
    pub fn checked(self) -> Result<Self, SelectorRefused> {
        if self
            == (Self {
                kinds: self.kinds,
                ..Self::default()
            })
        {
            return Err(SelectorRefused::Empty);
        }
        let bounded = self.user_id.is_some()
            || self.agent_id.is_some()
            || self.connection_id.is_some()
            || !self.user_session_ids.is_empty()
            || !self.agent_session_ids.is_empty()
            || self.ip.is_some()
            || self.created_before.is_some()
            || self.created_after.is_some();
        if !bounded {
            return Err(SelectorRefused::Unbounded);
        }
        for (field, listed) in [
            ("user_session_ids", self.user_session_ids.len()),
            ("agent_session_ids", self.agent_session_ids.len()),
        ] {
            if listed > MAX_LISTED_SESSIONS {
                return Err(SelectorRefused::TooManyIds {
                    field,
                    max: MAX_LISTED_SESSIONS,
                });
            }
        }
        if let (Some(after), Some(before)) = (self.created_after, self.created_before)
            && after >= before
        {
            return Err(SelectorRefused::EmptyTimeWindow);
        }
        if self.kinds == SelectedKinds::User
            && let Some(field) = self.agent_only_field()
        {
            return Err(SelectorRefused::AgentFieldForUserKind { field });
        }
        if let Some(fragment) = &self.user_agent_contains {
            text::required(fragment, USER_AGENT_FRAGMENT_MAX_LEN)
                .map_err(SelectorRefused::UserAgent)?;
        }
        Ok(self)
    }

    /// What the act's audit entry names: the narrowest thing the selector names, or
    /// `selector` (the revocation record keeps every field).
    pub fn target(&self) -> &str {
        self.user_id
            .as_ref()
            .map(UserId::as_str)
            .or(self.agent_id.as_ref().map(AgentId::as_str))
            .or(self.connection_id.as_ref().map(ConnectionId::as_str))
            .or(self.user_session_ids.first().map(UserSessionId::as_str))
            .or(self.agent_session_ids.first().map(AgentSessionId::as_str))
            .unwrap_or("selector")
    }

    /// Whether user sessions can match it themselves: it selects them, and names no
    /// field that only agent sessions have.
    pub fn matches_user_sessions(&self) -> bool {
        self.kinds != SelectedKinds::Agent && self.agent_only_field().is_none()
    }

    /// Whether agent sessions can match it themselves (not only as descendants).
    pub fn matches_agent_sessions(&self) -> bool {
        self.kinds != SelectedKinds::User
    }

    /// The first field set that only agent sessions have.
    fn agent_only_field(&self) -> Option<&'static str> {
        [
            ("agent_id", self.agent_id.is_some()),
            ("agent_session_ids", !self.agent_session_ids.is_empty()),
            ("connection_id", self.connection_id.is_some()),
            ("provider", self.provider.is_some()),
            ("scope", self.scope.is_some()),
        ]
        .into_iter()
        .find_map(|(field, set)| set.then_some(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn an_empty_selector_is_refused_whatever_its_kind() {
        for kinds in [
            SelectedKinds::User,
            SelectedKinds::Agent,
            SelectedKinds::Both,
        ] {
            let empty = RiskSelector {
                kinds,
                ..RiskSelector::default()
            };
            assert_eq!(empty.checked(), Err(SelectorRefused::Empty));
        }
    }

    #[test]
    fn a_selector_that_could_match_everyone_is_refused() {
        let unbounded = [
            RiskSelector {
                provider: Some(ProviderId::parse("github").unwrap()),
                ..RiskSelector::default()
            },
            RiskSelector {
                scope: Some(Scope::parse("calendar:read").unwrap()),
                kinds: SelectedKinds::Agent,
                ..RiskSelector::default()
            },
            RiskSelector {
                user_agent_contains: Some("Firefox".to_owned()),
                ..RiskSelector::default()
            },
        ];
        for selector in unbounded {
            assert_eq!(selector.checked(), Err(SelectorRefused::Unbounded));
        }
    }

    #[test]
    fn each_bound_alone_suffices() {
        let bounded = [
            RiskSelector {
                user_id: Some(UserId::generate()),
                ..RiskSelector::default()
            },
            RiskSelector {
                agent_id: Some(AgentId::generate()),
                ..RiskSelector::default()
            },
            RiskSelector {
                connection_id: Some(ConnectionId::generate()),
                ..RiskSelector::default()
            },
            RiskSelector {
                user_session_ids: vec![UserSessionId::generate()],
                ..RiskSelector::default()
            },
            RiskSelector {
                agent_session_ids: vec![AgentSessionId::generate()],
                ..RiskSelector::default()
            },
            RiskSelector {
                ip: Some(IpRange::parse("203.0.113.0/24").unwrap()),
                ..RiskSelector::default()
            },
            RiskSelector {
                created_before: Some(at(1_000)),
                ..RiskSelector::default()
            },
            RiskSelector {
                created_after: Some(at(1_000)),
                ..RiskSelector::default()
            },
        ];
        for selector in bounded {
            assert_eq!(selector.clone().checked(), Ok(selector));
        }
    }

    #[test]
    fn an_empty_time_window_is_refused() {
        let selector = RiskSelector {
            created_after: Some(at(2_000)),
            created_before: Some(at(2_000)),
            ..RiskSelector::default()
        };
        assert_eq!(selector.checked(), Err(SelectorRefused::EmptyTimeWindow));
    }

    #[test]
    fn agent_fields_are_refused_when_only_user_sessions_are_selected() {
        let selector = RiskSelector {
            user_id: Some(UserId::generate()),
            scope: Some(Scope::parse("calendar:read").unwrap()),
            kinds: SelectedKinds::User,
            ..RiskSelector::default()
        };
        assert_eq!(
            selector.checked(),
            Err(SelectorRefused::AgentFieldForUserKind { field: "scope" })
        );
    }

    #[test]
    fn long_id_lists_and_bad_user_agent_fragments_are_refused() {
        let selector = RiskSelector {
            agent_session_ids: (0..=MAX_LISTED_SESSIONS)
                .map(|_| AgentSessionId::generate())
                .collect(),
            ..RiskSelector::default()
        };
        assert_eq!(
            selector.checked(),
            Err(SelectorRefused::TooManyIds {
                field: "agent_session_ids",
                max: MAX_LISTED_SESSIONS
            })
        );
        let selector = RiskSelector {
            user_id: Some(UserId::generate()),
            user_agent_contains: Some("  ".to_owned()),
            ..RiskSelector::default()
        };
        assert_eq!(
            selector.checked(),
            Err(SelectorRefused::UserAgent(TextRefused::Empty))
        );
    }
}
