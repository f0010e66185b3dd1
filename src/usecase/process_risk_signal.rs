//! A security system reports a risk signal; the risk policy decides what to do, and it
//! is done in one transaction with the signal's record, its audit entry and its
//! `risk_signal.processed` event. A signal sent again under the same id (by the same
//! sender) is answered from its record and acts nothing a second time. A dry run
//! answers what would be done and changes nothing.

use core::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::event::EventType;
use crate::domain::id::{AgentId, AgentSessionId, RiskSignalId, UserId, UserSessionId};
use crate::domain::ip_range::IpRange;
use crate::domain::revocation::{RevocationCause, Selector};
use crate::domain::risk_policy::{self, RiskAction};
use crate::domain::risk_selector::{RiskSelector, SelectedKinds};
use crate::domain::risk_signal::{
    ActionOutcome, EVIDENCE_MAX_BYTES, OutcomeStatus, ProcessedSignal, RiskSignal, RiskSubject,
    SIGNAL_ID_MAX_LEN,
};
use crate::domain::text;
use crate::store::users::NamedBy;
use crate::store::{self, StoreError, Tx};
use crate::usecase::disable_agent::disable_agent_in;
use crate::usecase::ip_blocks::{self, NewBlock};
use crate::usecase::revoke_sessions::{self, Act, Pending};
use crate::usecase::set_user_status::disable_user_in;
use crate::usecase::{App, UsecaseError, revocations};

/// A signal as answered: processed now, or recorded before under the same id.
#[derive(Debug)]
pub struct Processed {
    pub signal: ProcessedSignal,
    pub replayed: bool,
    pub dry_run: bool,
}

/// Processes `signal` as sent by `actor` (an API key, or a transmitter by its issuer),
/// whose label is the source its `signal_id` is unique among.
#[tracing::instrument(skip_all, fields(kind = %signal.kind))]
pub async fn process_risk_signal(
    app: &App,
    actor: &Actor,
    signal: RiskSignal,
    dry_run: bool,
) -> Result<Processed, UsecaseError> {
    checked(&signal)?;
    let source = &actor.label();
    let decision = app
        .settings
        .risk_policy
        .decide(&signal.kind, signal.severity);
    let now = app.clock.now();
    let id = RiskSignalId::generate();
    let signal_id = signal
        .signal_id
        .clone()
        .unwrap_or_else(|| id.as_str().to_owned());
    let mut tx = app.db.begin().await?;
    if !dry_run
        && !store::risk_signals::claim(&mut tx, &id, source, &signal, &signal_id, now).await?
    {
        let recorded = store::risk_signals::find(&mut tx, source, &signal_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("risk signal {signal_id} vanished")))?;
        tx.commit().await?;
        return Ok(Processed {
            signal: recorded,
            replayed: true,
            dry_run,
        });
    }
    let subject = Resolved::of(&mut tx, &signal.subject).await?;
    let mut acting = Acting {
        app,
        actor,
        dry_run,
        signal_record: id.clone(),
        reason: format!("risk signal {} ({})", signal.kind, signal.severity.as_str()),
        now,
        pending: Vec::new(),
    };
    let mut outcomes = Vec::with_capacity(decision.actions.len());
    for action in &decision.actions {
        let outcome = match subject.step(*action, decision.block_ip_for) {
            Ok(step) => acting.take(&mut tx, *action, step).await?,
            Err(missing) => ActionOutcome::skipped(*action, missing),
        };
        outcomes.push(outcome);
    }
    let processed = ProcessedSignal {
        id,
        signal_id,
        kind: signal.kind,
        severity: signal.severity,
        subject: signal.subject,
        rule: decision.rule,
        outcomes,
        received_at: now,
    };
    if dry_run {
        return Ok(Processed {
            signal: processed,
            replayed: false,
            dry_run,
        });
    }
    store::risk_signals::record_outcome(
        &mut tx,
        &processed.id,
        processed.rule,
        &processed.outcomes,
    )
    .await?;
    store::audit::append(
        &mut tx,
        &AuditEntry::new(
            actor,
            AuditAction::RiskSignalProcessed,
            processed.id.as_str(),
            now,
        ),
    )
    .await?;
    store::events::insert(
        &mut tx,
        EventType::RiskSignalProcessed,
        &json!({
            "risk_signal_id": processed.id,
            "signal_id": processed.signal_id,
            "source": source,
            "kind": processed.kind,
            "severity": processed.severity.as_str(),
            "subject": processed.subject,
            "rule": processed.rule,
            "outcomes": processed.outcomes,
        }),
        now,
    )
    .await?;
    revoke_sessions::commit_all(tx, app, acting.pending).await?;
    Ok(Processed {
        signal: processed,
        replayed: false,
        dry_run,
    })
}

fn checked(signal: &RiskSignal) -> Result<(), UsecaseError> {
    if !risk_policy::is_kind(&signal.kind) {
        return Err(UsecaseError::OutOfRange {
            field: "kind",
            detail: "must be lowercase letters, digits, '.', ':', '_' or '-', at most 100"
                .to_owned(),
        });
    }
    let text = |field: &'static str, value: &Option<String>, max: usize| {
        value
            .as_deref()
            .map(|v| text::required(v, max).map(|_| ()))
            .transpose()
            .map_err(|reason| UsecaseError::TextRefused { field, reason })
    };
    text("signal_id", &signal.signal_id, SIGNAL_ID_MAX_LEN)?;
    text("subject.external_id", &signal.subject.external_id, 255)?;
    text("subject.email", &signal.subject.email, 320)?;
    if signal
        .evidence
        .as_ref()
        .is_some_and(|e| e.to_string().len() > EVIDENCE_MAX_BYTES)
    {
        return Err(UsecaseError::OutOfRange {
            field: "evidence",
            detail: format!("at most {EVIDENCE_MAX_BYTES} bytes of JSON"),
        });
    }
    Ok(())
}

/// What a signal's subject names, as Leash knows it.
struct Resolved {
    /// The person, when every field naming one names the same one.
    user: Result<UserId, &'static str>,
    user_session: Option<UserSessionId>,
    agent: Result<AgentId, &'static str>,
    agent_session: Option<AgentSessionId>,
    ip: Option<IpAddr>,
}

const NO_USER: &str = "the subject names no person Leash knows";
const NAMES_NO_USER: &str = "the subject names no person";
const SEVERAL_USERS: &str = "the subject's fields name different people";
const NO_AGENT: &str = "the subject names no agent Leash knows";
const NAMES_NO_AGENT: &str = "the subject names no agent";
const SEVERAL_AGENTS: &str = "the subject's fields name different agents";

impl Resolved {
    async fn of(tx: &mut Tx, subject: &RiskSubject) -> Result<Self, UsecaseError> {
        let mut users: Vec<Option<UserId>> = Vec::new();
        let mut agents: Vec<Option<AgentId>> = Vec::new();
        let one_of =
            async |tx: &mut Tx, named: NamedBy<'_>| -> Result<Option<UserId>, StoreError> {
                let mut ids = store::users::named(tx, named).await?;
                Ok(if ids.len() == 1 { ids.pop() } else { None })
            };
        if let Some(id) = &subject.user_id {
            users.push(one_of(tx, NamedBy::Id(id.as_str())).await?);
        }
        if let Some(external_id) = &subject.external_id {
            users.push(one_of(tx, NamedBy::ExternalId(external_id)).await?);
        }
        if let Some(email) = &subject.email {
            users.push(one_of(tx, NamedBy::Email(email)).await?);
        }
        let mut user_session = None;
        if let Some(id) = &subject.user_session_id {
            let owner = store::user_sessions::owner(tx, id).await?;
            user_session = owner.is_some().then(|| id.clone());
            users.push(owner);
        }
        let mut agent_session = None;
        if let Some(id) = &subject.agent_session_id {
            let session = store::agent_sessions::get(&mut *tx, id).await?;
            agent_session = session.as_ref().map(|s| s.id.clone());
            users.push(session.as_ref().map(|s| s.user_id.clone()));
            agents.push(session.map(|s| s.agent_id));
        }
        if let Some(id) = &subject.agent_id {
            agents.push(store::agents::exists_in(tx, id).await?.then(|| id.clone()));
        }
        Ok(Self {
            user: agreed(users, [NAMES_NO_USER, NO_USER, SEVERAL_USERS]),
            user_session,
            agent: agreed(agents, [NAMES_NO_AGENT, NO_AGENT, SEVERAL_AGENTS]),
            agent_session,
            ip: subject.ip_address,
        })
    }

    /// What `action` does to this subject, or why it cannot.
    fn step(&self, action: RiskAction, block_for: Option<TimeDelta>) -> Result<Step, &'static str> {
        let user = || self.user.clone();
        let ip = || self.ip.ok_or("the subject names no ip_address");
        Ok(match action {
            RiskAction::RevokeSession => match (&self.agent_session, &self.user_session) {
                (Some(id), _) => revoke(Selector::AgentSessions(vec![id.clone()])),
                (None, Some(id)) => revoke(Selector::UserSession(id.clone())),
                (None, None) => return Err("the subject names no session Leash knows"),
            },
            RiskAction::RevokeAgentSessionsOfUser => revoke(Selector::Risk(RiskSelector {
                user_id: Some(user()?),
                kinds: SelectedKinds::Agent,
                ..RiskSelector::default()
            })),
            RiskAction::SignOutEverywhere => revoke(Selector::AllOfUser {
                user_id: user()?,
                except: None,
            }),
            RiskAction::DisableUser => Step::DisableUser(user()?),
            RiskAction::DisableAgent => Step::DisableAgent(self.agent.clone()?),
            RiskAction::RevokeSessionsFromIp => revoke(Selector::Risk(RiskSelector {
                ip: Some(IpRange::from(ip()?)),
                ..RiskSelector::default()
            })),
            RiskAction::BlockIp => Step::Block(ip()?, block_for.unwrap_or(TimeDelta::hours(1))),
            RiskAction::NotifyOnly => Step::Notify,
        })
    }
}

/// The one value every field agrees on, or why there is none: no field names one, a
/// field names one Leash does not know, or fields name different ones.
fn agreed<T: PartialEq>(
    named: Vec<Option<T>>,
    [none, unknown, several]: [&'static str; 3],
) -> Result<T, &'static str> {
    let mut found: Option<T> = None;
    for value in named {
        match (value, &found) {
            (None, _) => return Err(unknown),
            (Some(value), Some(seen)) if value != *seen => return Err(several),
            (Some(value), _) => found = Some(value),
        }
    }
    found.ok_or(none)
}

/// One action, made concrete.
enum Step {
    Revoke(Box<Selector>),
    DisableUser(UserId),
    DisableAgent(AgentId),
    Block(IpAddr, TimeDelta),
    Notify,
}

fn revoke(selector: Selector) -> Step {
    Step::Revoke(Box::new(selector))
}

/// The act in progress: what it committed to so far.
struct Acting<'a> {
    app: &'a App,
    actor: &'a Actor,
    dry_run: bool,
    signal_record: RiskSignalId,
    reason: String,
    now: DateTime<Utc>,
    pending: Vec<Pending>,
}

impl Acting<'_> {
    async fn take(
        &mut self,
        tx: &mut Tx,
        action: RiskAction,
        step: Step,
    ) -> Result<ActionOutcome, UsecaseError> {
        let status = if self.dry_run {
            OutcomeStatus::WouldDo
        } else {
            OutcomeStatus::Done
        };
        let mut outcome = ActionOutcome::new(action, status);
        let revoking = match &step {
            Step::Revoke(selector) => Some((**selector).clone()),
            Step::DisableUser(user_id) => Some(Selector::for_user(
                RevocationCause::UserDisabled,
                user_id.clone(),
                None,
            )),
            Step::DisableAgent(agent_id) => Some(Selector::Agent(agent_id.clone())),
            Step::Block(..) | Step::Notify => None,
        };
        if self.dry_run {
            if let Some(selector) = revoking {
                let preview = revocations::preview_in(tx, self.app, &selector).await?;
                outcome.user_sessions = preview.user_sessions;
                outcome.agent_sessions = preview.agent_sessions;
            }
            if let Step::Block(_, duration) = step {
                outcome.blocked_until = Some(self.now + duration);
            }
            return Ok(outcome);
        }
        let pending = match step {
            Step::Revoke(selector) => Some(
                revoke_sessions::revoke_in(
                    tx,
                    self.app,
                    Act {
                        actor: self.actor,
                        cause: RevocationCause::RiskRevocation,
                        selector: *selector,
                        reason: Some(self.reason.clone()),
                    },
                )
                .await?,
            ),
            Step::DisableUser(user_id) => {
                Some(disable_user_in(tx, self.app, self.actor, &user_id).await?.1)
            }
            Step::DisableAgent(agent_id) => {
                Some(disable_agent_in(tx, self.app, self.actor, &agent_id).await?)
            }
            Step::Block(ip, duration) => {
                let new = NewBlock {
                    range: &IpRange::from(ip),
                    now: self.now,
                    duration,
                    reason: Some(self.reason.clone()),
                    risk_signal_id: Some(&self.signal_record),
                };
                let block = ip_blocks::block_in(tx, self.actor, new).await?;
                outcome.ip_block_id = Some(block.id);
                outcome.blocked_until = Some(block.expires_at);
                None
            }
            Step::Notify => None,
        };
        if let Some(pending) = pending {
            let revocation = pending.revocation();
            outcome.revocation_id = Some(revocation.id.clone());
            outcome.user_sessions = revocation.user_sessions_revoked;
            outcome.agent_sessions = revocation.agent_sessions_revoked;
            self.pending.push(pending);
        }
        Ok(outcome)
    }
}
