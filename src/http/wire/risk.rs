//! Risk signals and address blocks as the API carries them.

use core::net::IpAddr;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::id::{
    AgentId, AgentSessionId, IpBlockId, RevocationId, RiskSignalId, UserId, UserSessionId,
};
use crate::domain::pagination::Page;
use crate::domain::revocation;
use crate::domain::risk_policy::{self, RiskAction, Severity};
use crate::domain::risk_signal::{
    ActionOutcome, IpBlock, OutcomeStatus, ProcessedSignal, RiskSignal, RiskSubject,
    SIGNAL_ID_MAX_LEN,
};
use crate::domain::text;
use crate::usecase::process_risk_signal::Processed;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeverityBody {
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityBody> for Severity {
    fn from(body: SeverityBody) -> Self {
        match body {
            SeverityBody::Low => Severity::Low,
            SeverityBody::Medium => Severity::Medium,
            SeverityBody::High => Severity::High,
            SeverityBody::Critical => Severity::Critical,
        }
    }
}

impl From<Severity> for SeverityBody {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Low => SeverityBody::Low,
            Severity::Medium => SeverityBody::Medium,
            Severity::High => SeverityBody::High,
            Severity::Critical => SeverityBody::Critical,
        }
    }
}

/// What the signal is about. Fields given must agree: a session and a person that are
/// not each other's name nothing, and the actions that need them are skipped.
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskSubjectBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_session_id: Option<UserSessionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_session_id: Option<AgentSessionId>,
    /// An IPv4 or IPv6 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "ip_address_schema")]
    pub ip_address: Option<IpAddr>,
    /// The host application's id for the person.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255), pattern(text::PATTERN))]
    pub external_id: Option<String>,
    /// The person's email (case-insensitive; names no one when several people share it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 320), pattern(text::PATTERN))]
    pub email: Option<String>,
}

/// An IPv4 or IPv6 address, in the formats JSON Schema names.
fn ip_address_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "anyOf": [
            { "type": "string", "format": "ipv4" },
            { "type": "string", "format": "ipv6" },
            { "type": "null" },
        ]
    })
}

impl From<RiskSubjectBody> for RiskSubject {
    fn from(body: RiskSubjectBody) -> Self {
        Self {
            user_id: body.user_id,
            user_session_id: body.user_session_id,
            agent_id: body.agent_id,
            agent_session_id: body.agent_session_id,
            ip_address: body.ip_address,
            external_id: body.external_id,
            email: body.email,
        }
    }
}

impl From<RiskSubject> for RiskSubjectBody {
    fn from(subject: RiskSubject) -> Self {
        Self {
            user_id: subject.user_id,
            user_session_id: subject.user_session_id,
            agent_id: subject.agent_id,
            agent_session_id: subject.agent_session_id,
            ip_address: subject.ip_address,
            external_id: subject.external_id,
            email: subject.email,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskSignalRequest {
    /// Your id for the signal: sent again under it, it is answered and not acted on.
    #[schemars(length(min = 1, max = SIGNAL_ID_MAX_LEN), pattern(text::PATTERN))]
    pub signal_id: Option<String>,
    /// What happened, as your system names it (`edr.host_compromised`); the policy's
    /// rules match on it.
    #[schemars(pattern(risk_policy::KIND_PATTERN))]
    pub kind: String,
    pub severity: SeverityBody,
    pub subject: RiskSubjectBody,
    /// Anything that explains the signal (at most 16 KiB of JSON); kept with it.
    pub evidence: Option<serde_json::Value>,
    pub occurred_at: Option<DateTime<Utc>>,
}

impl From<RiskSignalRequest> for RiskSignal {
    fn from(body: RiskSignalRequest) -> Self {
        Self {
            signal_id: body.signal_id,
            kind: body.kind,
            severity: body.severity.into(),
            subject: body.subject.into(),
            evidence: body.evidence,
            occurred_at: body.occurred_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunQuery {
    /// Change nothing; answer what would be done.
    pub dry_run: Option<bool>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskActionBody {
    RevokeSession,
    RevokeAgentSessionsOfUser,
    SignOutEverywhere,
    DisableUser,
    DisableAgent,
    RevokeSessionsFromIp,
    BlockIp,
    NotifyOnly,
}

impl From<RiskAction> for RiskActionBody {
    fn from(action: RiskAction) -> Self {
        match action {
            RiskAction::RevokeSession => Self::RevokeSession,
            RiskAction::RevokeAgentSessionsOfUser => Self::RevokeAgentSessionsOfUser,
            RiskAction::SignOutEverywhere => Self::SignOutEverywhere,
            RiskAction::DisableUser => Self::DisableUser,
            RiskAction::DisableAgent => Self::DisableAgent,
            RiskAction::RevokeSessionsFromIp => Self::RevokeSessionsFromIp,
            RiskAction::BlockIp => Self::BlockIp,
            RiskAction::NotifyOnly => Self::NotifyOnly,
        }
    }
}

/// `done`; `would_do` on a dry run; `skipped` when the subject does not name what the
/// action needs (`detail` says what).
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatusBody {
    Done,
    WouldDo,
    Skipped,
}

/// One action the policy decided, and what came of it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ActionOutcomeBody {
    pub action: RiskActionBody,
    pub status: OutcomeStatusBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The revocation the action made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_id: Option<RevocationId>,
    /// Sessions revoked (on a dry run: that would be), cascades included.
    pub user_sessions: u64,
    pub agent_sessions: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_block_id: Option<IpBlockId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_until: Option<DateTime<Utc>>,
}

impl From<ActionOutcome> for ActionOutcomeBody {
    fn from(outcome: ActionOutcome) -> Self {
        Self {
            action: outcome.action.into(),
            status: match outcome.status {
                OutcomeStatus::Done => OutcomeStatusBody::Done,
                OutcomeStatus::WouldDo => OutcomeStatusBody::WouldDo,
                OutcomeStatus::Skipped => OutcomeStatusBody::Skipped,
            },
            detail: outcome.detail,
            revocation_id: outcome.revocation_id,
            user_sessions: outcome.user_sessions,
            agent_sessions: outcome.agent_sessions,
            ip_block_id: outcome.ip_block_id,
            blocked_until: outcome.blocked_until,
        }
    }
}

/// A risk signal as recorded, with what the policy did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RiskSignalAnswer {
    /// Leash's id for the signal (absent on a dry run, which records nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<RiskSignalId>,
    /// The sender's id for the signal, or Leash's when it gave none.
    pub signal_id: String,
    pub kind: String,
    pub severity: SeverityBody,
    pub subject: RiskSubjectBody,
    /// The deciding rule's position in the policy (from 1); null when none matched.
    pub rule: Option<u64>,
    pub actions: Vec<ActionOutcomeBody>,
    pub dry_run: bool,
    /// The signal was sent before under this `signal_id`: this is that answer, and
    /// nothing was done again.
    pub replayed: bool,
    pub received_at: DateTime<Utc>,
}

impl From<Processed> for RiskSignalAnswer {
    fn from(processed: Processed) -> Self {
        let ProcessedSignal {
            id,
            signal_id,
            kind,
            severity,
            subject,
            rule,
            outcomes,
            received_at,
        } = processed.signal;
        Self {
            id: (!processed.dry_run).then_some(id),
            signal_id,
            kind,
            severity: severity.into(),
            subject: subject.into(),
            rule: rule.map(|r| r as u64),
            actions: outcomes.into_iter().map(Into::into).collect(),
            dry_run: processed.dry_run,
            replayed: processed.replayed,
            received_at,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIpBlockRequest {
    /// An address (`203.0.113.7`) or a CIDR block (`203.0.113.0/24`).
    #[schemars(length(max = 64))]
    pub ip_address: String,
    /// How long the block lasts: 1 s to 30 days.
    #[schemars(range(min = 1, max = 2_592_000))]
    pub duration_seconds: i64,
    #[schemars(length(max = revocation::REASON_MAX_LEN), pattern(text::PATTERN))]
    pub reason: Option<String>,
}

/// An address or block refused sign-ins and token exchanges until it expires or is
/// lifted.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IpBlockBody {
    pub id: IpBlockId,
    pub ip_address: String,
    pub reason: Option<String>,
    /// The signal whose policy made it, if one did.
    pub risk_signal_id: Option<RiskSignalId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
}

impl From<IpBlock> for IpBlockBody {
    fn from(block: IpBlock) -> Self {
        Self {
            id: block.id,
            ip_address: block.ip_range,
            reason: block.reason,
            risk_signal_id: block.risk_signal_id,
            created_at: block.created_at,
            expires_at: block.expires_at,
            lifted_at: block.lifted_at,
        }
    }
}

/// One page of the blocks in force, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IpBlockList {
    pub data: Vec<IpBlockBody>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl From<Page<IpBlock>> for IpBlockList {
    fn from(page: Page<IpBlock>) -> Self {
        Self {
            data: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}
