//! A security system's selector in SQL: the sessions matching every field it names.
//!
//! A user session matches by its own columns. An agent session matches by its own
//! columns and, for what only a sign-in knows (the user session ids, the address, the
//! user agent), by the user session at the root of its tree. A field only agent
//! sessions have (an agent, a connection, a scope…) means no user session matches
//! itself. Matched user sessions take their agent sessions with them, matched agent
//! sessions their descendants.

use std::borrow::Cow;

use serde_json::json;

use super::selection::{AgentSessions, Lock, Selection};
use super::time::to_ms;
use super::user_sessions::ip_key_text;
use crate::domain::risk_selector::{RiskSelector, SelectedKinds};

/// The parameters of one selection, numbered from the first the caller left free.
struct Params<'s> {
    first: usize,
    keys: Vec<Cow<'s, str>>,
}

impl<'s> Params<'s> {
    /// Binds `value`; returns its placeholder.
    fn bind(&mut self, value: impl Into<Cow<'s, str>>) -> String {
        self.keys.push(value.into());
        format!("${}", self.first + self.keys.len() - 1)
    }

    fn bind_all(&mut self, values: impl Iterator<Item = &'s str>) -> String {
        values.map(|v| self.bind(v)).collect::<Vec<_>>().join(", ")
    }
}

/// The conditions of a selector, each a predicate with its placeholders bound once.
#[derive(Default)]
struct Conditions {
    /// Over `user_sessions`, unqualified.
    user_sessions: Vec<String>,
    /// Over `agent_sessions s`.
    agent_sessions: Vec<String>,
}

pub(super) fn of(selector: &RiskSelector, first: usize) -> Selection<'_> {
    let mut params = Params {
        first,
        keys: Vec::new(),
    };
    let mut on = Conditions::default();
    // Bound first, so the lock's predicate binds it alone.
    if let Some(user_id) = &selector.user_id {
        let p = params.bind(user_id.as_str());
        on.user_sessions.push(format!("user_id = {p}"));
        on.agent_sessions.push(format!("s.user_id = {p}"));
    }
    let mut at_sign_in = Vec::new();
    if !selector.user_session_ids.is_empty() {
        let listed = params.bind_all(selector.user_session_ids.iter().map(|id| id.as_str()));
        on.user_sessions.push(format!("id IN ({listed})"));
        on.agent_sessions
            .push(format!("s.user_session_id IN ({listed})"));
    }
    if let Some(range) = &selector.ip {
        let (low, high) = range.keys();
        let (low, high) = (
            params.bind(ip_key_text(low)),
            params.bind(ip_key_text(high)),
        );
        at_sign_in.push(format!("ip_key BETWEEN {low} AND {high}"));
    }
    if let Some(fragment) = &selector.user_agent_contains {
        let pattern = params.bind(format!("%{}%", like_escaped(&fragment.to_lowercase())));
        at_sign_in.push(format!("lower(user_agent) LIKE {pattern} ESCAPE '\\'"));
    }
    if !at_sign_in.is_empty() {
        let at_sign_in = at_sign_in.join(" AND ");
        on.agent_sessions.push(format!(
            "s.user_session_id IN (SELECT id FROM user_sessions WHERE {at_sign_in})"
        ));
        on.user_sessions.push(at_sign_in);
    }
    for (bound, operator) in [
        (selector.created_before, "<"),
        (selector.created_after, ">"),
    ] {
        if let Some(at) = bound {
            let p = params.bind(to_ms(at).to_string());
            on.user_sessions
                .push(format!("created_at {operator} CAST({p} AS BIGINT)"));
            on.agent_sessions
                .push(format!("s.created_at {operator} CAST({p} AS BIGINT)"));
        }
    }
    if let Some(agent_id) = &selector.agent_id {
        let p = params.bind(agent_id.as_str());
        on.agent_sessions.push(format!("s.agent_id = {p}"));
    }
    if !selector.agent_session_ids.is_empty() {
        let listed = params.bind_all(selector.agent_session_ids.iter().map(|id| id.as_str()));
        on.agent_sessions.push(format!("s.id IN ({listed})"));
    }
    // What could use the connection: the sessions of its person holding a scope of its
    // provider.
    if let Some(connection_id) = &selector.connection_id {
        let p = params.bind(connection_id.as_str());
        on.agent_sessions.push(format!(
            "EXISTS (SELECT 1 FROM connections k JOIN agent_session_scopes x \
             ON substr(x.scope, 1, length(k.provider) + 1) = k.provider || ':' \
             WHERE k.id = {p} AND k.user_id = s.user_id AND x.agent_session_id = s.id)"
        ));
    }
    if let Some(provider) = &selector.provider {
        let p = params.bind(provider.as_str());
        on.agent_sessions.push(format!(
            "EXISTS (SELECT 1 FROM agent_session_scopes x WHERE x.agent_session_id = s.id \
             AND substr(x.scope, 1, length({p}) + 1) = {p} || ':')"
        ));
    }
    if let Some(scope) = &selector.scope {
        let p = params.bind(scope.as_str());
        on.agent_sessions.push(format!(
            "EXISTS (SELECT 1 FROM agent_session_scopes x WHERE x.agent_session_id = s.id \
             AND x.scope = {p})"
        ));
    }

    let users = selector
        .matches_user_sessions()
        .then(|| on.user_sessions.join(" AND "));
    let agents = selector
        .matches_agent_sessions()
        .then(|| on.agent_sessions.join(" AND "));
    // Not only active ones: the act revokes the user sessions before their agent
    // sessions.
    let of_users =
        |users: &str| format!("user_session_id IN (SELECT id FROM user_sessions WHERE {users})");
    let agent_sessions = match (&users, &agents) {
        (Some(users), None) => AgentSessions::Flat(of_users(users)),
        (None, Some(agents)) => AgentSessions::WithDescendants(agents.clone()),
        (Some(users), Some(agents)) => {
            AgentSessions::WithDescendants(format!("(({agents}) OR s.{})", of_users(users)))
        }
        // A checked selector matches one kind at least.
        (None, None) => AgentSessions::Flat("1 = 0".to_owned()),
    };
    let (lock, lock_keys) = if selector.user_id.is_some() {
        (Lock::Users(format!("u.id = ${first}")), 1)
    } else {
        let owners = [
            users.as_ref().map(|users| {
                format!("SELECT user_id FROM user_sessions WHERE status = 'active' AND {users}")
            }),
            agents.as_ref().map(|agents| {
                format!(
                    "SELECT s.user_id FROM agent_sessions s WHERE s.status = 'active' AND {agents}"
                )
            }),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" UNION ");
        (
            Lock::Users(format!("u.id IN ({owners})")),
            params.keys.len(),
        )
    };
    Selection {
        lock,
        lock_keys,
        user_sessions: users,
        agent_sessions,
        keys: params.keys,
    }
}

/// `raw` matched literally by `LIKE … ESCAPE '\'`.
fn like_escaped(raw: &str) -> String {
    let mut escaped = String::with_capacity(raw.len());
    for c in raw.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// What the revocation record keeps of a selector: the fields it named.
pub(super) fn to_json(selector: &RiskSelector) -> serde_json::Value {
    let mut fields = json!({
        "user_id": selector.user_id,
        "agent_id": selector.agent_id,
        "connection_id": selector.connection_id,
        "provider": selector.provider.as_ref().map(|p| p.as_str()),
        "ip_address": selector.ip.as_ref().map(ToString::to_string),
        "user_agent_contains": selector.user_agent_contains,
        "created_before": selector.created_before,
        "created_after": selector.created_after,
        "scope": selector.scope.as_ref().map(|s| s.as_str()),
        "kind": match selector.kinds {
            SelectedKinds::User => "user",
            SelectedKinds::Agent => "agent",
            SelectedKinds::Both => "both",
        },
    });
    if let Some(object) = fields.as_object_mut() {
        object.retain(|_, value| !value.is_null());
        if !selector.user_session_ids.is_empty() {
            object.insert("user_session_ids".into(), json!(selector.user_session_ids));
        }
        if !selector.agent_session_ids.is_empty() {
            object.insert(
                "agent_session_ids".into(),
                json!(selector.agent_session_ids),
            );
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_and_the_escape_are_matched_literally() {
        assert_eq!(like_escaped("100%_a\\b"), "100\\%\\_a\\\\b");
        assert_eq!(like_escaped("Firefox/1"), "Firefox/1");
    }
}
