//! The pre-issuance hook: before issuing an agent session (token exchange,
//! sub-delegation, host mint), Leash may ask a security system the operator runs. It
//! sends what would be issued ([`HookRequest`]); the system answers `allow` or `deny`
//! ([`HookAnswer`]). When it gives no usable answer (a timeout, an error status, a body
//! that is not the answer) the operator's [`FailurePolicy`] decides.

use core::net::IpAddr;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::agent_session::AgentSession;
use super::audit::AuditAction;
use super::id::{AgentId, AgentSessionId, UserId, UserSessionId};

/// The longest reason kept from an answer, in characters; the rest is dropped.
pub const REASON_MAX_CHARS: usize = 200;

/// The longest user agent sent, in characters.
pub const USER_AGENT_MAX_CHARS: usize = 512;

/// How an issuance is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IssuanceKind {
    /// An agent exchanged a user session token (RFC 8693).
    TokenExchange,
    /// An agent exchanged another agent session's access token.
    SubDelegation,
    /// The host application minted a session for a signed-in user.
    HostMint,
}

/// The person the session would act for.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HookUser {
    pub id: UserId,
    /// The host application's id for the person.
    pub external_id: String,
    pub email: Option<String>,
}

/// The agent the session would be issued to.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HookAgent {
    pub id: AgentId,
    pub name: String,
}

/// One session of the chain the new one hangs from.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ChainLink {
    pub agent_session_id: AgentSessionId,
    pub agent_id: AgentId,
}

/// What Leash POSTs to the hook (`application/json`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HookRequest {
    pub kind: IssuanceKind,
    pub user: HookUser,
    pub agent: HookAgent,
    /// The scopes the session would hold: an allow approves these and no more.
    pub scopes: Vec<String>,
    /// The address the exchange came from; for a host mint, the one the user session
    /// was signed in from, as the host reported it.
    pub ip: Option<String>,
    /// The exchange request's `User-Agent`; for a host mint, the user session's.
    /// At most 512 characters.
    pub user_agent: Option<String>,
    /// The user session at the root of the delegation.
    pub user_session_id: UserSessionId,
    /// The agent sessions the new one would hang from, nearest first (empty for a
    /// delegation straight from the user session).
    pub parent_chain: Vec<ChainLink>,
    pub requested_at: DateTime<Utc>,
}

/// What the request says of where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestOrigin {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl HookRequest {
    /// The question for `session`, planned but not issued.
    pub fn for_session(
        session: &AgentSession,
        user: HookUser,
        agent_name: &str,
        origin: RequestOrigin,
        kind: IssuanceKind,
    ) -> Self {
        Self {
            kind,
            user,
            agent: HookAgent {
                id: session.agent_id.clone(),
                name: agent_name.to_owned(),
            },
            scopes: session.scopes.to_vec(),
            ip: origin.ip.map(|ip| ip.to_string()),
            user_agent: origin
                .user_agent
                .map(|ua| ua.chars().take(USER_AGENT_MAX_CHARS).collect()),
            user_session_id: session.user_session_id.clone(),
            // The chain's agents are nearest first from the new session's own.
            parent_chain: session
                .ancestor_ids
                .iter()
                .zip(session.agent_chain.iter().skip(1))
                .map(|(id, agent)| ChainLink {
                    agent_session_id: id.clone(),
                    agent_id: agent.clone(),
                })
                .collect(),
            requested_at: session.created_at,
        }
    }
}

/// What the hook answers, with status 200.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
pub struct HookAnswer {
    pub decision: Verdict,
    /// Why, in a sentence: audited in the logs, and shown to the caller of a denied
    /// issuance. Control characters are dropped and it is cut at 200 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    Deny,
}

/// Why the hook gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookFailure {
    #[error("the hook did not answer in time")]
    Timeout,
    #[error("the hook could not be reached: {0}")]
    Unreachable(String),
    #[error("the hook answered with status {0}")]
    Status(u16),
    #[error("the hook's answer is not {{\"decision\": \"allow\" | \"deny\"}}")]
    InvalidAnswer,
}

impl HookFailure {
    /// The metric label.
    pub fn as_str(&self) -> &'static str {
        match self {
            HookFailure::Timeout => "timeout",
            HookFailure::Unreachable(_) => "unreachable",
            HookFailure::Status(_) => "status",
            HookFailure::InvalidAnswer => "invalid_answer",
        }
    }
}

/// The answer in a 200's `body`.
pub fn parse_answer(body: &[u8]) -> Result<HookAnswer, HookFailure> {
    let answer: HookAnswer =
        serde_json::from_slice(body).map_err(|_| HookFailure::InvalidAnswer)?;
    Ok(HookAnswer {
        reason: answer.reason.as_deref().and_then(clean_reason),
        ..answer
    })
}

fn clean_reason(raw: &str) -> Option<String> {
    let clean: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .take(REASON_MAX_CHARS)
        .collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_owned())
}

/// What decides when the hook gives no usable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Issue as if the hook had allowed it.
    FailOpen,
    /// Refuse, as a temporary failure the caller may retry.
    FailClosed,
}

/// What an issuance goes ahead or stops on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Denied { reason: Option<String> },
    FailedOpen(HookFailure),
    FailedClosed(HookFailure),
}

impl Decision {
    /// The decision for what the hook answered (or why it did not).
    pub fn of(answer: Result<HookAnswer, HookFailure>, policy: FailurePolicy) -> Self {
        match (answer, policy) {
            (Ok(answer), _) => match answer.decision {
                Verdict::Allow => Decision::Allowed,
                Verdict::Deny => Decision::Denied {
                    reason: answer.reason,
                },
            },
            (Err(failure), FailurePolicy::FailOpen) => Decision::FailedOpen(failure),
            (Err(failure), FailurePolicy::FailClosed) => Decision::FailedClosed(failure),
        }
    }

    pub fn allows(&self) -> bool {
        matches!(self, Decision::Allowed | Decision::FailedOpen(_))
    }

    /// The metric label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Denied { .. } => "denied",
            Decision::FailedOpen(_) => "failed_open",
            Decision::FailedClosed(_) => "failed_closed",
        }
    }

    pub fn audit_action(&self) -> AuditAction {
        match self {
            Decision::Allowed => AuditAction::IssuanceHookAllowed,
            Decision::Denied { .. } => AuditAction::IssuanceHookDenied,
            Decision::FailedOpen(_) => AuditAction::IssuanceHookFailedOpen,
            Decision::FailedClosed(_) => AuditAction::IssuanceHookFailedClosed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_allow_or_a_deny_is_an_answer() {
        assert_eq!(
            parse_answer(br#"{"decision":"allow"}"#),
            Ok(HookAnswer {
                decision: Verdict::Allow,
                reason: None
            })
        );
        let denied =
            parse_answer(br#"{"decision":"deny","reason":"  impossible\u0007 travel\n ","x":1}"#);
        assert_eq!(denied.unwrap().reason.as_deref(), Some("impossible travel"));
        for garbage in [
            &b""[..],
            b"allow",
            b"null",
            b"[]",
            br#"{"decision":"ALLOW"}"#,
            br#"{"decision":"maybe"}"#,
            br#"{"decision":true}"#,
            br#"{"allow":true}"#,
            br#"{"decision":"deny","reason":5}"#,
        ] {
            assert_eq!(
                parse_answer(garbage),
                Err(HookFailure::InvalidAnswer),
                "{}",
                String::from_utf8_lossy(garbage)
            );
        }
        let long = format!(r#"{{"decision":"deny","reason":"{}"}}"#, "é".repeat(500));
        let reason = parse_answer(long.as_bytes()).unwrap().reason.unwrap();
        assert_eq!(reason.chars().count(), REASON_MAX_CHARS);
    }

    #[test]
    fn without_an_answer_the_policy_decides() {
        let allow = || {
            Ok(HookAnswer {
                decision: Verdict::Allow,
                reason: None,
            })
        };
        for policy in [FailurePolicy::FailOpen, FailurePolicy::FailClosed] {
            assert!(Decision::of(allow(), policy).allows());
            let deny = Decision::of(
                Ok(HookAnswer {
                    decision: Verdict::Deny,
                    reason: Some("no".to_owned()),
                }),
                policy,
            );
            assert!(!deny.allows());
        }
        assert!(Decision::of(Err(HookFailure::Timeout), FailurePolicy::FailOpen).allows());
        assert!(!Decision::of(Err(HookFailure::Timeout), FailurePolicy::FailClosed).allows());
    }
}
