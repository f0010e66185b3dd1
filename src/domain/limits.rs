//! Bounds on what a caller can grow: active sessions per user, children per agent
//! session, and how fast one agent may issue sessions. `0` means no limit (benchmarks
//! raise them; a deployment that needs more says so in its configuration).

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

#[cfg(test)]
mod tests {
    use super::*;

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
