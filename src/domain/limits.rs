//! Bounds on what a caller can grow: active sessions per user, children per agent
//! session, and how fast one agent may issue sessions. `0` means no limit (benchmarks
//! raise them; a deployment that needs more says so in its configuration).

use std::collections::HashMap;

use super::id::{AgentSessionId, UserId};

/// The configured limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub user_sessions_per_user: u32,
    pub agent_sessions_per_user: u32,
    pub children_per_agent_session: u32,
    pub issuance_per_agent_per_second: u32,
}

impl Default for Limits {
    /// Far above what a person or an agent runtime does, far below a flood: 500 devices
    /// signed in at once, 5,000 live delegations, 100 sub-delegations of one session,
    /// 200 new sessions a second for one agent.
    fn default() -> Self {
        Self {
            user_sessions_per_user: 500,
            agent_sessions_per_user: 5_000,
            children_per_agent_session: 100,
            issuance_per_agent_per_second: 200,
        }
    }
}

impl Limits {
    /// None at all.
    pub fn unlimited() -> Self {
        Self {
            user_sessions_per_user: 0,
            agent_sessions_per_user: 0,
            children_per_agent_session: 0,
            issuance_per_agent_per_second: 0,
        }
    }
}

/// What a limit bounds, for the refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    UserSessionsPerUser,
    AgentSessionsPerUser,
    ChildrenPerAgentSession,
}

impl Limited {
    pub fn describe(self) -> &'static str {
        match self {
            Limited::UserSessionsPerUser => "active user sessions of this user",
            Limited::AgentSessionsPerUser => "active agent sessions of this user",
            Limited::ChildrenPerAgentSession => "active sub-delegations of this agent session",
        }
    }
}

/// Whether one more fits when `count` exist (`limit` 0: always).
pub fn one_more_fits(limit: u32, count: u64) -> bool {
    limit == 0 || count < u64::from(limit)
}

/// A limit that one more session would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitReached {
    pub what: Limited,
    pub limit: u32,
}

/// The room new agent sessions take: each user's active agent sessions and each parent's
/// active children, as counted under the issuance's locks, then kept up to date as a
/// batch plans one session after another.
///
/// On PostgreSQL, issuances under one user hold its row in share mode and run side by
/// side, so concurrent ones may each see room for one more: the limit can be passed by
/// the number of issuances in flight at that moment, never more.
#[derive(Debug, Default)]
pub struct Room {
    pub of_user: HashMap<UserId, u64>,
    pub of_parent: HashMap<AgentSessionId, u64>,
}

impl Room {
    /// Takes room for one more session of `user` (under `parent`, for a
    /// sub-delegation), or says which limit it would pass.
    pub fn take(
        &mut self,
        limits: &Limits,
        user: &UserId,
        parent: Option<&AgentSessionId>,
    ) -> Result<(), LimitReached> {
        let of_user = self.of_user.get(user).copied().unwrap_or(0);
        if !one_more_fits(limits.agent_sessions_per_user, of_user) {
            return Err(LimitReached {
                what: Limited::AgentSessionsPerUser,
                limit: limits.agent_sessions_per_user,
            });
        }
        let children = parent
            .and_then(|p| self.of_parent.get(p))
            .copied()
            .unwrap_or(0);
        if !one_more_fits(limits.children_per_agent_session, children) {
            return Err(LimitReached {
                what: Limited::ChildrenPerAgentSession,
                limit: limits.children_per_agent_session,
            });
        }
        *self.of_user.entry(user.clone()).or_default() += 1;
        if let Some(parent) = parent {
            *self.of_parent.entry(parent.clone()).or_default() += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_planned_in_one_batch_take_room_from_each_other() {
        let limits = Limits {
            agent_sessions_per_user: 3,
            children_per_agent_session: 2,
            ..Limits::unlimited()
        };
        let (alice, bob) = (UserId::generate(), UserId::generate());
        let parent = AgentSessionId::generate();
        let mut room = Room::default();
        room.of_user.insert(alice.clone(), 1);
        assert_eq!(room.take(&limits, &alice, Some(&parent)), Ok(()));
        assert_eq!(
            room.take(&limits, &alice, Some(&parent)),
            Ok(()),
            "one child so far, two allowed"
        );
        assert_eq!(
            room.take(&limits, &bob, Some(&parent)),
            Err(LimitReached {
                what: Limited::ChildrenPerAgentSession,
                limit: 2
            })
        );
        assert_eq!(
            room.take(&limits, &alice, None),
            Err(LimitReached {
                what: Limited::AgentSessionsPerUser,
                limit: 3
            })
        );
        assert_eq!(room.take(&limits, &bob, None), Ok(()));
    }

    #[test]
    fn zero_means_no_limit_and_the_limit_is_inclusive() {
        assert!(one_more_fits(0, u64::MAX));
        assert!(one_more_fits(3, 2));
        assert!(!one_more_fits(3, 3));
        let none = Limits::unlimited();
        for limit in [
            none.user_sessions_per_user,
            none.agent_sessions_per_user,
            none.children_per_agent_session,
            none.issuance_per_agent_per_second,
        ] {
            assert!(one_more_fits(limit, u64::MAX));
        }
    }
}
