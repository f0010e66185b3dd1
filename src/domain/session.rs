//! Either kind of session, as introspection and last-use tracking see it: the facts that
//! decide whether its token is good, and which sessions a use of it is a use of.

use chrono::{DateTime, Utc};

use super::agent_session::AgentValidity;
use super::id::{AgentSessionId, UserId, UserSessionId};
use super::user_session::{Liveness, Validity};

/// A session whose use is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UsedSession {
    User(UserSessionId),
    Agent(AgentSessionId),
}

/// The validity facts of either kind of session. An agent session's are boxed: the token
/// cache holds a million of these, most of them of user sessions, whose facts are less
/// than half the size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionValidity {
    User(Validity),
    Agent(Box<AgentValidity>),
}

impl SessionValidity {
    pub fn user_id(&self) -> &UserId {
        match self {
            SessionValidity::User(v) => &v.user_id,
            SessionValidity::Agent(v) => &v.user_id,
        }
    }

    pub fn liveness(&self, now: DateTime<Utc>, last_seen_at: DateTime<Utc>) -> Liveness {
        match self {
            SessionValidity::User(v) => v.liveness(now, last_seen_at),
            SessionValidity::Agent(v) => v.liveness(now, last_seen_at),
        }
    }

    /// The session this token belongs to.
    pub fn own_session(&self) -> UsedSession {
        match self {
            SessionValidity::User(v) => UsedSession::User(v.session_id.clone()),
            SessionValidity::Agent(v) => UsedSession::Agent(v.session_id.clone()),
        }
    }

    /// The sessions a use of this token is a use of: an agent session is used together
    /// with its ancestors and the user session at its root.
    pub fn used_sessions(&self) -> Vec<UsedSession> {
        match self {
            SessionValidity::User(_) => vec![self.own_session()],
            SessionValidity::Agent(v) => std::iter::once(self.own_session())
                .chain(v.ancestor_ids.iter().cloned().map(UsedSession::Agent))
                .chain([UsedSession::User(v.user_session_id.clone())])
                .collect(),
        }
    }
}
