//! What a revocation selector stands for in SQL: the rows every issuance under it holds
//! in share mode (so a revoke locks them for update), the user sessions it aims at, and
//! the agent sessions it hits. The act ([`super::revocations::revoke`]) and its preview
//! ([`super::revocations::preview`]) are built from the same text, so a preview counts
//! exactly what the act would revoke. A new selector is one arm of [`Selection::of`].

use std::borrow::Cow;

use serde_json::json;

use super::{placeholders, risk_selection};
use crate::domain::revocation::Selector;
use crate::domain::scope::ScopeSet;

/// One selector's SQL. Every predicate's parameters start at the `first` placeholder
/// the selection was made for and are bound from [`Selection::keys`], in order.
pub(super) struct Selection<'s> {
    pub lock: Lock,
    /// How many of the keys, from the first, the lock's predicate binds.
    pub lock_keys: usize,
    /// A predicate over `user_sessions`, unqualified; `None` when the act aims at agent
    /// sessions only.
    pub user_sessions: Option<String>,
    pub agent_sessions: AgentSessions,
    pub keys: Vec<Cow<'s, str>>,
}

/// The rows whose lock keeps issuance out while the act runs.
pub(super) enum Lock {
    /// A predicate over `users u`: the users whose sessions the act may hit.
    Users(String),
    /// A predicate over `agents a`: an act across users aims at one agent.
    Agent(String),
}

/// Which agent sessions an act hits.
pub(super) enum AgentSessions {
    /// Those matching a predicate over `agent_sessions`, unqualified. Needs no
    /// recursion: it names whole users or whole user sessions, and every node of a tree
    /// carries its user and the user session at its root.
    Flat(String),
    /// Those matching a predicate over `agent_sessions s` (the seeds), and every active
    /// descendant of theirs.
    WithDescendants(String),
}

impl<'s> Selection<'s> {
    /// The SQL of `selector`, its parameters numbered from `$first`.
    pub fn of(selector: &'s Selector, first: usize) -> Self {
        let key = format!("${first}");
        let users_of =
            |table: &str| format!("u.id = (SELECT user_id FROM {table} WHERE id = {key})");
        match selector {
            Selector::UserSession(id) => Self {
                lock: Lock::Users(users_of("user_sessions")),
                lock_keys: 1,
                user_sessions: Some(format!("id = {key}")),
                agent_sessions: AgentSessions::Flat(format!("user_session_id = {key}")),
                keys: vec![id.as_str().into()],
            },
            Selector::AllOfUser { user_id, except } => Self {
                lock: Lock::Users(format!("u.id = {key}")),
                lock_keys: 1,
                user_sessions: Some(format!("user_id = {key} AND id <> ${}", first + 1)),
                agent_sessions: AgentSessions::Flat(format!("user_id = {key}")),
                keys: vec![
                    user_id.as_str().into(),
                    except.as_ref().map_or("", |id| id.as_str()).into(),
                ],
            },
            Selector::AgentSessions(ids) => {
                let listed = match ids.len() {
                    0 => "NULL".to_owned(),
                    n => placeholders(first, n),
                };
                Self {
                    lock: Lock::Users(format!(
                        "u.id IN (SELECT user_id FROM agent_sessions WHERE id IN ({listed}))"
                    )),
                    lock_keys: ids.len(),
                    user_sessions: None,
                    agent_sessions: AgentSessions::WithDescendants(format!("s.id IN ({listed})")),
                    keys: ids.iter().map(|id| id.as_str().into()).collect(),
                }
            }
            // Direct children suffice as seeds: a grandchild holds no more than its parent.
            Selector::SessionNarrowed {
                agent_session_id,
                allowed,
            } => Self::under(
                Lock::Users(users_of("agent_sessions")),
                "parent_id",
                agent_session_id.as_str(),
                Some(allowed),
                first,
            ),
            Selector::Grant(id) => Self::under(
                Lock::Users(users_of("grants")),
                "grant_id",
                id.as_str(),
                None,
                first,
            ),
            Selector::GrantNarrowed { grant_id, allowed } => Self::under(
                Lock::Users(users_of("grants")),
                "grant_id",
                grant_id.as_str(),
                Some(allowed),
                first,
            ),
            Selector::Agent(id) => Self::under(
                Lock::Agent(format!("a.id = {key}")),
                "agent_id",
                id.as_str(),
                None,
                first,
            ),
            // Whole trees: what hangs from a session holding the provider's scopes can
            // hold them too.
            Selector::Connection {
                user_id, provider, ..
            } => Self::of_provider(user_id.as_str(), provider.as_str(), None, first),
            Selector::ConnectionNarrowed {
                user_id,
                provider,
                allowed,
                ..
            } => Self::of_provider(user_id.as_str(), provider.as_str(), Some(allowed), first),
            Selector::CeilingNarrowed { agent_id, allowed } => Self::under(
                Lock::Agent(format!("a.id = {key}")),
                "agent_id",
                agent_id.as_str(),
                Some(allowed),
                first,
            ),
            Selector::Risk(risk) => risk_selection::of(risk, first),
        }
    }

    /// The agent sessions of `user_id` (bound as `$first`) holding a scope of `provider`
    /// (`$first + 1`), with their descendants; with `allowed`, only a scope of it
    /// outside the upstream scopes `allowed` (bound after).
    fn of_provider(
        user_id: &'s str,
        provider: &'s str,
        allowed: Option<&'s [String]>,
        first: usize,
    ) -> Self {
        let mut held = format!(
            "substr(x.scope, 1, length(${p}) + 1) = ${p} || ':'",
            p = first + 1
        );
        let mut keys: Vec<Cow<'s, str>> = vec![user_id.into(), provider.into()];
        if let Some(allowed) = allowed.filter(|a| !a.is_empty()) {
            let outside = (0..allowed.len())
                .map(|i| format!("${p} || ':' || ${}", first + 2 + i, p = first + 1))
                .collect::<Vec<_>>()
                .join(", ");
            held = format!("{held} AND x.scope NOT IN ({outside})");
            keys.extend(allowed.iter().map(|scope| scope.as_str().into()));
        }
        Self {
            lock: Lock::Users(format!("u.id = ${first}")),
            lock_keys: 1,
            user_sessions: None,
            agent_sessions: AgentSessions::WithDescendants(format!(
                "s.user_id = ${first} AND EXISTS (SELECT 1 FROM agent_session_scopes x \
                 WHERE x.agent_session_id = s.id AND {held})"
            )),
            keys,
        }
    }

    /// The agent sessions whose `column` is `key` (bound as `$first`), with their
    /// descendants; with `allowed`, only those holding a scope outside it (bound after).
    fn under(
        lock: Lock,
        column: &str,
        key: &'s str,
        allowed: Option<&'s ScopeSet>,
        first: usize,
    ) -> Self {
        let mut seed = format!("s.{column} = ${first}");
        let mut keys: Vec<Cow<'s, str>> = vec![key.into()];
        if let Some(allowed) = allowed {
            seed = format!("{seed} AND {}", holding_other_than(allowed, first + 1));
            keys.extend(allowed.iter().map(|scope| scope.as_str().into()));
        }
        Self {
            lock,
            lock_keys: 1,
            user_sessions: None,
            agent_sessions: AgentSessions::WithDescendants(seed),
            keys,
        }
    }
}

impl AgentSessions {
    /// `head` (`UPDATE agent_sessions SET …` or `SELECT … FROM agent_sessions`) applied
    /// to the active agent sessions this names; `$1` is the act's instant.
    pub fn apply(&self, head: &str) -> String {
        match self {
            AgentSessions::Flat(predicate) => {
                format!("{head} WHERE status = 'active' AND expires_at > $1 AND {predicate}")
            }
            AgentSessions::WithDescendants(seed) => format!(
                "WITH RECURSIVE hit(id) AS ( \
                   SELECT s.id FROM agent_sessions s \
                   WHERE s.status = 'active' AND s.expires_at > $1 AND {seed} \
                   UNION \
                   SELECT c.id FROM agent_sessions c JOIN hit h ON c.parent_id = h.id \
                   WHERE c.status = 'active' AND c.expires_at > $1) \
                 {head} WHERE id IN (SELECT id FROM hit)"
            ),
        }
    }
}

/// `head` applied to the active user sessions `predicate` names; `$1` is the instant.
pub(super) fn user_sessions(head: &str, predicate: &str) -> String {
    format!("{head} WHERE status = 'active' AND expires_at > $1 AND {predicate}")
}

/// What the revocation record keeps of the selector.
pub(super) fn to_json(selector: &Selector) -> String {
    match selector {
        Selector::UserSession(id) => json!({ "user_session_id": id }),
        Selector::AllOfUser { user_id, except } => {
            json!({ "user_id": user_id, "except_user_session_id": except })
        }
        Selector::AgentSessions(ids) => json!({ "agent_session_ids": ids }),
        Selector::SessionNarrowed {
            agent_session_id,
            allowed,
        } => json!({ "parent_agent_session_id": agent_session_id, "outside_scopes": allowed.to_vec() }),
        Selector::Grant(id) => json!({ "grant_id": id }),
        Selector::GrantNarrowed { grant_id, allowed } => {
            json!({ "grant_id": grant_id, "outside_scopes": allowed.to_vec() })
        }
        Selector::Agent(id) => json!({ "agent_id": id }),
        Selector::CeilingNarrowed { agent_id, allowed } => {
            json!({ "agent_id": agent_id, "outside_scopes": allowed.to_vec() })
        }
        Selector::Connection {
            connection_id,
            user_id,
            provider,
        } => json!({
            "connection_id": connection_id,
            "user_id": user_id,
            "provider": provider.as_str(),
        }),
        Selector::ConnectionNarrowed {
            connection_id,
            user_id,
            provider,
            allowed,
        } => json!({
            "connection_id": connection_id,
            "user_id": user_id,
            "provider": provider.as_str(),
            "granted_scopes": allowed,
        }),
        Selector::Risk(risk) => risk_selection::to_json(risk),
    }
    .to_string()
}

/// Sessions (`s`) holding a scope outside the allowed set, bound from `$first` on.
fn holding_other_than(allowed: &ScopeSet, first: usize) -> String {
    if allowed.is_empty() {
        return "EXISTS (SELECT 1 FROM agent_session_scopes x WHERE x.agent_session_id = s.id)"
            .to_owned();
    }
    format!(
        "EXISTS (SELECT 1 FROM agent_session_scopes x WHERE x.agent_session_id = s.id \
         AND x.scope NOT IN ({}))",
        placeholders(first, allowed.len())
    )
}
