//! What the self-service page says: times, devices, a person's activity as sentences,
//! and what a button would end.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::device;
use crate::domain::revocation::{Preview, Revocation, SessionKind};
use crate::usecase::self_service::{Account, Activity};

/// "30 Nov 2026, 22:41 UTC".
pub fn when(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// "1 agent session", "3 agent sessions".
pub fn count(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// "a", "a and b", "a, b, and c".
pub fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// What the page knows the person's things by.
pub struct Names {
    pub me: String,
    /// User session id → "Firefox on macOS".
    pub devices: HashMap<String, String>,
    /// Agent session id → (agent name, depth, parent id).
    pub agent_sessions: HashMap<String, (String, u32, Option<String>)>,
    /// Grant id → agent name.
    pub grants: HashMap<String, String>,
    /// Connection id → provider.
    pub connections: HashMap<String, String>,
}

impl Names {
    pub fn of(account: &Account, me: String) -> Self {
        Self {
            me,
            devices: account
                .every_session
                .iter()
                .map(|s| {
                    (
                        s.id.to_string(),
                        device::of(s.user_agent.as_deref()).describe(),
                    )
                })
                .collect(),
            agent_sessions: account
                .agent_sessions
                .iter()
                .map(|(s, name)| {
                    (
                        s.id.to_string(),
                        (
                            name.clone(),
                            s.depth,
                            s.parent_id.as_ref().map(|p| p.to_string()),
                        ),
                    )
                })
                .collect(),
            grants: account
                .grants
                .iter()
                .map(|(g, name)| (g.id.to_string(), name.clone()))
                .collect(),
            connections: account
                .connections
                .iter()
                .map(|c| (c.id.to_string(), c.provider.as_str().to_owned()))
                .collect(),
        }
    }

    fn device(&self, id: &str) -> String {
        self.devices
            .get(id)
            .cloned()
            .unwrap_or_else(|| "a device".to_owned())
    }
}

/// One activity entry as a sentence.
pub fn activity(entry: &Activity, names: &Names) -> String {
    let target = entry.target.as_str();
    let mine = entry.actor == names.me;
    let provider = || {
        names
            .connections
            .get(target)
            .cloned()
            .unwrap_or_else(|| "an integration".to_owned())
    };
    let agent = || {
        names
            .grants
            .get(target)
            .cloned()
            .unwrap_or_else(|| "an agent".to_owned())
    };
    let said = match (entry.action.as_str(), target.split('_').next()) {
        ("user.created", _) => return "Your account was created".to_owned(),
        ("user_session.created", _) => {
            return format!("Signed in on {}", names.device(target));
        }
        ("login_link.used", _) => {
            return format!("You opened this page on {}", names.device(target));
        }
        ("login_link.created", _) => return String::new(),
        ("user_sessions.revoked", Some("uss")) if mine => {
            format!("You signed out of {}", names.device(target))
        }
        ("user_sessions.revoked", Some("uss")) => {
            format!("{} was signed out", names.device(target))
        }
        ("user_sessions.revoked", _) if mine => "You signed out everywhere else".to_owned(),
        ("user_sessions.revoked", _) => "You were signed out everywhere".to_owned(),
        ("agent_sessions.revoked", Some("grt")) if mine => {
            format!("Agent {} lost access: you revoked its permission", agent())
        }
        ("agent_sessions.revoked", Some("grt")) => format!("Agent {} lost access", agent()),
        ("agent_sessions.revoked", Some("con")) if mine => format!(
            "Agents using {p} lost access: you disconnected {p}",
            p = provider()
        ),
        ("agent_sessions.revoked", Some("con")) => {
            format!("Agents using {} lost access", provider())
        }
        ("agent_sessions.revoked", Some("ags")) => {
            let name = names
                .agent_sessions
                .get(target)
                .map_or("An agent", |(name, ..)| name.as_str());
            format!("{name} lost access")
        }
        ("agent_sessions.revoked", _) => "Agents acting for you lost access".to_owned(),
        ("connection.connected", _) if mine => format!("You connected {}", provider()),
        ("connection.connected", _) => format!("{} was connected", provider()),
        ("connection.disconnected", _) if mine => format!("You disconnected {}", provider()),
        ("connection.disconnected", _) => format!("{} was disconnected", provider()),
        ("connection.needs_reauthorization", _) => {
            return format!("{} asks you to connect it again", provider());
        }
        ("grant.created", _) if mine => format!("You allowed {}", agent()),
        ("grant.created", _) => format!("{} may act for you", agent()),
        ("grant.updated", _) if mine => format!("You changed what {} may do", agent()),
        ("grant.updated", _) => format!("What {} may do was changed", agent()),
        ("grant.revoked", _) if mine => format!("You revoked {}", agent()),
        ("grant.revoked", _) => format!("{}'s permission was revoked", agent()),
        ("user.disabled", _) => "Your account was disabled".to_owned(),
        ("user.enabled", _) => "Your account was enabled".to_owned(),
        (action, _) => format!("{action} ({target})"),
    };
    if mine || entry.actor.starts_with("user:") {
        said
    } else {
        format!("{said} (by {})", who(&entry.actor))
    }
}

fn who(actor: &str) -> &'static str {
    if actor.starts_with("ssf:") {
        "your identity provider"
    } else if actor.starts_with("agt_") || actor.starts_with("agent:") {
        "the agent"
    } else {
        "your organisation"
    }
}

/// One line of a blast radius: its text and how deep to indent it.
pub struct Ended {
    pub text: String,
    pub depth: u32,
}

/// What a preview says would end, by name: devices, then agents in tree order (each
/// sub-agent under its parent).
pub fn ended(preview: &Preview, names: &Names) -> Vec<Ended> {
    let mut devices = Vec::new();
    let mut agents: Vec<(&str, u32, Option<&str>, &str)> = Vec::new();
    for session in &preview.sample {
        match session.kind {
            SessionKind::User => devices.push(Ended {
                text: format!("{} (device)", names.device(&session.id)),
                depth: 1,
            }),
            SessionKind::Agent => {
                let (name, depth, parent) = names
                    .agent_sessions
                    .get(&session.id)
                    .map_or(("An agent", 1, None), |(n, d, p)| {
                        (n.as_str(), *d, p.as_deref())
                    });
                agents.push((session.id.as_str(), depth, parent, name));
            }
        }
    }
    let listed: std::collections::HashSet<&str> = agents.iter().map(|a| a.0).collect();
    agents.sort_by_key(|(id, ..)| tree_key(id, names));
    devices.extend(agents.iter().map(|(_, depth, parent, name)| {
        let text = match parent {
            Some(parent) if listed.contains(parent) => format!("its sub-agent {name}"),
            Some(parent) => {
                let parent_name = names
                    .agent_sessions
                    .get(*parent)
                    .map_or("another agent", |(n, ..)| n.as_str());
                format!("{name}, sub-agent of {parent_name}")
            }
            None => (*name).to_owned(),
        };
        Ended {
            text,
            depth: *depth,
        }
    }));
    devices
}

/// The ids from the root down to `id`.
fn tree_key(id: &str, names: &Names) -> Vec<String> {
    let mut path = vec![id.to_owned()];
    let mut at = id;
    while let Some((_, _, Some(parent))) = names.agent_sessions.get(at) {
        path.push(parent.clone());
        at = parent;
    }
    path.reverse();
    path
}

/// "Disconnecting GitHub ends 3 agent sessions: Code Reviewer, its sub-agent Test
/// Runner, and Release Bot."
pub fn summary(doing: &str, preview: &Preview, ended: &[Ended]) -> String {
    let mut counts = Vec::new();
    if preview.user_sessions > 0 {
        counts.push(count(preview.user_sessions, "device session"));
    }
    if preview.agent_sessions > 0 {
        counts.push(count(preview.agent_sessions, "agent session"));
    }
    if counts.is_empty() {
        return format!("{doing} ends no session.");
    }
    let names: Vec<String> = ended.iter().map(|e| e.text.clone()).collect();
    let total = preview.user_sessions + preview.agent_sessions;
    if names.len() as u64 == total && names.len() <= 12 {
        format!("{doing} ends {}: {}.", list(&counts), list(&names))
    } else {
        format!("{doing} ends {}.", list(&counts))
    }
}

/// The notice after an act.
pub fn done(revocation: Option<&Revocation>) -> String {
    match revocation {
        Some(r) if r.user_sessions_revoked + r.agent_sessions_revoked > 0 => {
            let mut ended = Vec::new();
            if r.user_sessions_revoked > 0 {
                ended.push(count(r.user_sessions_revoked, "device session"));
            }
            if r.agent_sessions_revoked > 0 {
                ended.push(count(r.agent_sessions_revoked, "agent session"));
            }
            format!("Done: {} ended.", list(&ended))
        }
        _ => "Done: no session had to end.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_sentences() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(list(&s(&[])), "");
        assert_eq!(list(&s(&["a"])), "a");
        assert_eq!(list(&s(&["a", "b"])), "a and b");
        assert_eq!(list(&s(&["a", "b", "c"])), "a, b, and c");
        assert_eq!(count(1, "agent session"), "1 agent session");
        assert_eq!(count(3, "agent session"), "3 agent sessions");
    }
}
