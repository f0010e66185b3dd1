//! A live delegation to an agent, and the rules that bound it.
//!
//! A user delegates to an agent through one of their user sessions; an agent delegates
//! on to another agent from its own session (a sub-delegation). Every agent session is
//! limited by what it hangs from: its scopes lie within its parent's (or, from a user
//! session, the user's consent), its grant and its agent's ceiling; it expires no later
//! than its parent and idles out no later either; its chain is no deeper than the limit.
//!
//! A tree is used as a whole: each use of a session counts as use of its ancestors and
//! of the user session at its root. With a child's idle timeout never longer than its
//! parent's, a child that is not idle never hangs from an idle parent.

use chrono::{DateTime, TimeDelta, Utc};

use super::agent::AgentStatus;
use super::id::{AgentId, AgentSessionId, GrantId, UserId, UserSessionId};
use super::revocation::RevocationCause;
use super::scope::ScopeSet;
use super::user::UserStatus;
use super::user_session::{Lifetime, Liveness, RevokedMark};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSession {
    pub id: AgentSessionId,
    pub user_id: UserId,
    pub agent_id: AgentId,
    pub grant_id: GrantId,
    /// The user session at the root of the delegation tree.
    pub user_session_id: UserSessionId,
    pub parent_id: Option<AgentSessionId>,
    /// 1 for a delegation from the user, one more per sub-delegation.
    pub depth: u32,
    /// The agents of the chain, nearest first: this session's agent, then its parent's.
    pub agent_chain: Vec<AgentId>,
    /// The ancestors, nearest first.
    pub ancestor_ids: Vec<AgentSessionId>,
    pub scopes: ScopeSet,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub idle_timeout: TimeDelta,
    pub revoked: Option<RevokedMark>,
}

impl AgentSession {
    /// Liveness from the session's own row (status and time).
    pub fn liveness(&self, now: DateTime<Utc>) -> Liveness {
        if let Some(mark) = &self.revoked {
            Liveness::Revoked(mark.cause)
        } else {
            by_time(now, self.expires_at, self.last_used_at, self.idle_timeout)
        }
    }
}

fn by_time(
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    idle_timeout: TimeDelta,
) -> Liveness {
    if now >= expires_at {
        Liveness::Expired
    } else if now - last_used_at >= idle_timeout {
        Liveness::IdleTimedOut
    } else {
        Liveness::Active
    }
}

/// What decides whether an agent access token is good: loaded by introspection and cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentValidity {
    pub session_id: AgentSessionId,
    pub user_id: UserId,
    pub agent_id: AgentId,
    pub user_session_id: UserSessionId,
    pub agent_chain: Vec<AgentId>,
    pub ancestor_ids: Vec<AgentSessionId>,
    pub scopes: ScopeSet,
    pub access_issued_at: DateTime<Utc>,
    pub access_expires_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub idle_timeout: TimeDelta,
    pub revoked: Option<RevocationCause>,
    pub user_status: UserStatus,
    pub agent_status: AgentStatus,
    /// Whether the user session at the root and every ancestor were active when read.
    pub chain_active: bool,
}

impl AgentValidity {
    /// Liveness of the access token at `now`, given when its session was last used.
    /// Revoking an ancestor revokes this session in the same transaction, and expiry and
    /// idleness are bounded by the ancestors' (see the module doc); the chain is still
    /// looked at, so nothing that hangs from a revoked session is ever served.
    pub fn liveness(&self, now: DateTime<Utc>, last_used_at: DateTime<Utc>) -> Liveness {
        if let Some(cause) = self.revoked {
            Liveness::Revoked(cause)
        } else if !self.chain_active {
            Liveness::ChainInactive
        } else if self.user_status == UserStatus::Disabled {
            Liveness::UserDisabled
        } else if self.agent_status == AgentStatus::Disabled {
            Liveness::AgentDisabled
        } else {
            by_time(
                now,
                self.expires_at.min(self.access_expires_at),
                last_used_at,
                self.idle_timeout,
            )
        }
    }
}

/// The session a new delegation comes from, when it is a sub-delegation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentSession {
    pub id: AgentSessionId,
    pub scopes: ScopeSet,
    pub agent_chain: Vec<AgentId>,
    pub ancestor_ids: Vec<AgentSessionId>,
}

/// What a new agent session hangs from: a live user session, and a live parent agent
/// session for a sub-delegation; with the expiry and idle timeout it may not outlive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub user_id: UserId,
    pub user_session_id: UserSessionId,
    pub parent: Option<ParentSession>,
    pub expires_at: DateTime<Utc>,
    pub idle_timeout: TimeDelta,
}

/// The consent a delegation relies on: the user's grant to the agent, the agent's
/// ceiling, and what the user's live connections grant.
#[derive(Debug, Clone, Copy)]
pub struct Consent<'a> {
    pub agent_id: &'a AgentId,
    pub grant_id: &'a GrantId,
    pub granted: &'a ScopeSet,
    pub ceiling: &'a ScopeSet,
    /// The provider scopes (`acme:repo`) the user's live connections grant: a provider
    /// scope is held only while one covers it.
    pub connected: &'a ScopeSet,
}

/// Configured bounds of every delegation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelegationRules {
    /// The agent's lifetime (its override, or the configured default).
    pub lifetime: Lifetime,
    pub access_token_ttl: TimeDelta,
    pub max_depth: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DelegationRefused {
    #[error("delegation chains may be at most {limit} agent sessions deep")]
    TooDeep { limit: u32 },
    #[error("not held by the subject, the grant or the agent's ceiling: {}", .0.to_space_separated())]
    ScopesNotHeld(ScopeSet),
    #[error("no live connection of the user grants: {}", .0.to_space_separated())]
    ProviderNotConnected(ScopeSet),
    #[error(
        "the subject, the grant, the agent's ceiling and the user's connections have no scope in common"
    )]
    NoScopesInCommon,
}

/// The new session `consent.agent_id` may hold from `upstream`, asking for `requested`
/// scopes (all it may hold when `None`).
pub fn delegate(
    upstream: &Upstream,
    consent: Consent<'_>,
    requested: Option<&ScopeSet>,
    rules: &DelegationRules,
    now: DateTime<Utc>,
) -> Result<AgentSession, DelegationRefused> {
    let depth = upstream.parent.as_ref().map_or(1, |p| {
        u32::try_from(p.ancestor_ids.len()).unwrap_or(u32::MAX) + 2
    });
    if depth > rules.max_depth {
        return Err(DelegationRefused::TooDeep {
            limit: rules.max_depth,
        });
    }
    let mut consented = consent.granted.intersection(consent.ceiling);
    if let Some(parent) = &upstream.parent {
        consented = consented.intersection(&parent.scopes);
    }
    let allowed = consented.connected_within(consent.connected);
    let scopes = match requested {
        Some(asked) => {
            let missing = asked.missing_from(&consented);
            if !missing.is_empty() {
                return Err(DelegationRefused::ScopesNotHeld(missing));
            }
            let unconnected = asked.missing_from(&allowed);
            if !unconnected.is_empty() {
                return Err(DelegationRefused::ProviderNotConnected(unconnected));
            }
            asked.clone()
        }
        None if allowed.is_empty() => return Err(DelegationRefused::NoScopesInCommon),
        None => allowed,
    };
    let (agent_chain, ancestor_ids) = match &upstream.parent {
        Some(parent) => (
            std::iter::once(consent.agent_id.clone())
                .chain(parent.agent_chain.iter().cloned())
                .collect(),
            std::iter::once(parent.id.clone())
                .chain(parent.ancestor_ids.iter().cloned())
                .collect(),
        ),
        None => (vec![consent.agent_id.clone()], Vec::new()),
    };
    Ok(AgentSession {
        id: AgentSessionId::generate(),
        user_id: upstream.user_id.clone(),
        agent_id: consent.agent_id.clone(),
        grant_id: consent.grant_id.clone(),
        user_session_id: upstream.user_session_id.clone(),
        parent_id: upstream.parent.as_ref().map(|p| p.id.clone()),
        depth,
        agent_chain,
        ancestor_ids,
        scopes,
        created_at: now,
        last_used_at: now,
        expires_at: (now + rules.lifetime.ttl).min(upstream.expires_at),
        idle_timeout: rules.lifetime.idle_timeout.min(upstream.idle_timeout),
        revoked: None,
    })
}

/// When an access token issued at `now` expires: its own lifetime, cut short by the session's.
pub fn access_expiry(
    now: DateTime<Utc>,
    access_token_ttl: TimeDelta,
    session_expires_at: DateTime<Utc>,
) -> DateTime<Utc> {
    (now + access_token_ttl).min(session_expires_at)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::scope::Scope;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    const SCOPES: [&str; 5] = ["a", "b", "c", "p:x", "p:y"];

    fn set(scopes: &[&str]) -> ScopeSet {
        ScopeSet::from_list(scopes).unwrap()
    }

    fn rules() -> DelegationRules {
        DelegationRules {
            lifetime: Lifetime {
                ttl: TimeDelta::hours(24),
                idle_timeout: TimeDelta::hours(1),
            },
            access_token_ttl: TimeDelta::minutes(15),
            max_depth: 4,
        }
    }

    fn root_upstream() -> Upstream {
        Upstream {
            user_id: UserId::generate(),
            user_session_id: UserSessionId::generate(),
            parent: None,
            expires_at: at(3600 * 48),
            idle_timeout: TimeDelta::days(7),
        }
    }

    fn child_of(session: &AgentSession) -> Upstream {
        Upstream {
            user_id: session.user_id.clone(),
            user_session_id: session.user_session_id.clone(),
            parent: Some(ParentSession {
                id: session.id.clone(),
                scopes: session.scopes.clone(),
                agent_chain: session.agent_chain.clone(),
                ancestor_ids: session.ancestor_ids.clone(),
            }),
            expires_at: session.expires_at,
            idle_timeout: session.idle_timeout,
        }
    }

    #[test]
    fn asking_beyond_the_grant_names_what_was_refused() {
        let (agent, grant) = (AgentId::generate(), GrantId::generate());
        let granted = set(&["calendar.read", "mail.read"]);
        let ceiling = set(&["calendar.read", "mail.read", "mail.send"]);
        let consent = Consent {
            agent_id: &agent,
            grant_id: &grant,
            granted: &granted,
            ceiling: &ceiling,
            connected: &ScopeSet::default(),
        };
        let asked = set(&["calendar.read", "mail.send"]);
        assert_eq!(
            delegate(&root_upstream(), consent, Some(&asked), &rules(), at(0)),
            Err(DelegationRefused::ScopesNotHeld(set(&["mail.send"])))
        );
        let all = delegate(&root_upstream(), consent, None, &rules(), at(0)).unwrap();
        assert_eq!(all.scopes, granted);
    }

    #[test]
    fn a_provider_scope_is_held_only_while_a_connection_grants_it() {
        let (agent, grant) = (AgentId::generate(), GrantId::generate());
        let granted = set(&["calendar.read", "acme:repo", "acme:issues"]);
        let connected = set(&["acme:repo"]);
        let consent = Consent {
            agent_id: &agent,
            grant_id: &grant,
            granted: &granted,
            ceiling: &granted,
            connected: &connected,
        };
        assert_eq!(
            delegate(&root_upstream(), consent, Some(&granted), &rules(), at(0)),
            Err(DelegationRefused::ProviderNotConnected(set(&[
                "acme:issues"
            ])))
        );
        let all = delegate(&root_upstream(), consent, None, &rules(), at(0)).unwrap();
        assert_eq!(all.scopes, set(&["calendar.read", "acme:repo"]));
        let unconnected = Consent {
            connected: &ScopeSet::default(),
            ..consent
        };
        let asked = set(&["acme:repo"]);
        assert_eq!(
            delegate(&root_upstream(), unconnected, Some(&asked), &rules(), at(0)),
            Err(DelegationRefused::ProviderNotConnected(asked.clone()))
        );
    }

    #[test]
    fn a_chain_stops_at_the_depth_limit_and_lists_its_agents_nearest_first() {
        let grant = GrantId::generate();
        let granted = set(&["a", "b"]);
        let agents: Vec<AgentId> = (0..5).map(|_| AgentId::generate()).collect();
        let none = ScopeSet::default();
        let consent = |agent| Consent {
            agent_id: agent,
            grant_id: &grant,
            granted: &granted,
            ceiling: &granted,
            connected: &none,
        };
        let mut session =
            delegate(&root_upstream(), consent(&agents[0]), None, &rules(), at(0)).unwrap();
        for agent in &agents[1..4] {
            session = delegate(&child_of(&session), consent(agent), None, &rules(), at(1)).unwrap();
        }
        assert_eq!(session.depth, 4);
        let expected: Vec<AgentId> = agents[..4].iter().rev().cloned().collect();
        assert_eq!(session.agent_chain, expected);
        assert_eq!(
            delegate(
                &child_of(&session),
                consent(&agents[4]),
                None,
                &rules(),
                at(2)
            ),
            Err(DelegationRefused::TooDeep { limit: 4 })
        );
    }

    #[test]
    fn an_access_token_expires_with_its_session_at_the_latest() {
        assert_eq!(access_expiry(at(0), TimeDelta::minutes(15), at(60)), at(60));
        assert_eq!(
            access_expiry(at(0), TimeDelta::minutes(15), at(3600)),
            at(900)
        );
    }

    proptest! {
        #[test]
        fn a_child_never_holds_more_nor_lives_longer_than_its_parent(
            parent_scopes in proptest::sample::subsequence(SCOPES.to_vec(), 1..=5),
            granted in proptest::sample::subsequence(SCOPES.to_vec(), 1..=5),
            ceiling in proptest::sample::subsequence(SCOPES.to_vec(), 1..=5),
            connected in proptest::sample::subsequence(vec!["p:x", "p:y"], 0..=2),
            asked in proptest::option::of(proptest::sample::subsequence(SCOPES.to_vec(), 1..=5)),
            parent_ttl in 60i64..200_000,
            parent_idle in 60i64..20_000,
        ) {
            let mut upstream = root_upstream();
            let parent_id = AgentSessionId::generate();
            upstream.parent = Some(ParentSession {
                id: parent_id,
                scopes: set(&parent_scopes),
                agent_chain: vec![AgentId::generate()],
                ancestor_ids: Vec::new(),
            });
            upstream.expires_at = at(parent_ttl);
            upstream.idle_timeout = TimeDelta::seconds(parent_idle);
            let (agent, grant) = (AgentId::generate(), GrantId::generate());
            let (granted, ceiling) = (set(&granted), set(&ceiling));
            let connected: ScopeSet = connected.into_iter().map(|s| Scope::parse(s).unwrap()).collect();
            let consent = Consent { agent_id: &agent, grant_id: &grant, granted: &granted, ceiling: &ceiling, connected: &connected };
            let asked = asked.map(|a| set(&a));
            if let Ok(child) = delegate(&upstream, consent, asked.as_ref(), &rules(), at(0)) {
                prop_assert!(child.scopes.is_subset(&set(&parent_scopes)));
                prop_assert!(child.scopes.is_subset(&granted));
                prop_assert!(child.scopes.is_subset(&ceiling));
                prop_assert!(child.scopes.iter().all(|s| s.provider().is_none() || connected.contains(s)));
                prop_assert!(!child.scopes.is_empty());
                prop_assert!(child.expires_at <= upstream.expires_at);
                prop_assert!(child.idle_timeout <= upstream.idle_timeout);
                prop_assert_eq!(child.depth, 2);
            }
        }
    }
}
