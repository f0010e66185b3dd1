//! A risk signal: a security system's report that something about a person, a session,
//! an agent or an address is wrong, and what Leash did about it.

use core::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::id::{
    AgentId, AgentSessionId, IpBlockId, RevocationId, RiskSignalId, UserId, UserSessionId,
};
use super::risk_policy::{RiskAction, Severity};

/// The longest id a sender may give a signal.
pub const SIGNAL_ID_MAX_LEN: usize = 200;

/// The largest evidence a signal may carry, as JSON text.
pub const EVIDENCE_MAX_BYTES: usize = 16 * 1024;

/// What a signal is about; any of it may be given, and what is given must agree (a
/// session and a person that are not each other's name nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskSubject {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_session_id: Option<UserSessionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_session_id: Option<AgentSessionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<IpAddr>,
    /// The host application's id for the person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RiskSignal {
    /// The sender's id for it: a signal sent again under it is answered, not acted on.
    pub signal_id: Option<String>,
    pub kind: String,
    pub severity: Severity,
    pub subject: RiskSubject,
    pub evidence: Option<serde_json::Value>,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// What came of one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    Done,
    /// A dry run: what would have been done.
    WouldDo,
    /// The subject does not name what the action needs (or names nothing Leash
    /// knows); `detail` says what.
    Skipped,
}

/// One action of a decision, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOutcome {
    pub action: RiskAction,
    pub status: OutcomeStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_id: Option<RevocationId>,
    /// Sessions revoked (or, on a dry run, that would be).
    #[serde(default)]
    pub user_sessions: u64,
    #[serde(default)]
    pub agent_sessions: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_block_id: Option<IpBlockId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_until: Option<DateTime<Utc>>,
}

impl ActionOutcome {
    pub fn new(action: RiskAction, status: OutcomeStatus) -> Self {
        Self {
            action,
            status,
            detail: None,
            revocation_id: None,
            user_sessions: 0,
            agent_sessions: 0,
            ip_block_id: None,
            blocked_until: None,
        }
    }

    pub fn skipped(action: RiskAction, detail: &str) -> Self {
        Self {
            detail: Some(detail.to_owned()),
            ..Self::new(action, OutcomeStatus::Skipped)
        }
    }
}

/// A signal as recorded, with the policy's decision and its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedSignal {
    pub id: RiskSignalId,
    pub signal_id: String,
    pub kind: String,
    pub severity: Severity,
    pub subject: RiskSubject,
    /// The deciding rule's position in the policy, if one decided.
    pub rule: Option<usize>,
    pub outcomes: Vec<ActionOutcome>,
    pub received_at: DateTime<Utc>,
}

/// An address or block refused sign-ins and token exchanges until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpBlock {
    pub id: IpBlockId,
    pub ip_range: String,
    pub reason: Option<String>,
    pub actor: String,
    pub risk_signal_id: Option<RiskSignalId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
}
