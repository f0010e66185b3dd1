//! Risk signals as received, each with the policy's decision and its outcome. A signal is
//! claimed (inserted) at the start of its act's transaction, so one sent twice at once
//! is acted on once: the second waits for the first and is answered from its row.

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{StoreError, Tx, on_tx};
use crate::domain::id::RiskSignalId;
use crate::domain::risk_policy::Severity;
use crate::domain::risk_signal::{ActionOutcome, ProcessedSignal, RiskSignal, RiskSubject};

/// Claims `signal_id` of `source` for a new signal row; `None` when a signal of that id
/// is recorded already (it is answered instead).
pub async fn claim(
    tx: &mut Tx,
    id: &RiskSignalId,
    source: &str,
    signal: &RiskSignal,
    signal_id: &str,
    received_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let subject =
        serde_json::to_string(&signal.subject).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let evidence = signal.evidence.as_ref().map(ToString::to_string);
    let claimed = on_tx!(tx, |c| sqlx::query(
        "INSERT INTO risk_signals (id, source, signal_id, kind, severity, subject, evidence, \
         occurred_at, received_at, outcomes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '[]') \
         ON CONFLICT (source, signal_id) DO NOTHING"
    )
    .bind(id.as_str())
    .bind(source)
    .bind(signal_id)
    .bind(&signal.kind)
    .bind(signal.severity.as_str())
    .bind(subject)
    .bind(evidence)
    .bind(signal.occurred_at.map(to_ms))
    .bind(to_ms(received_at))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(claimed == 1)
}

/// Records what the policy decided and what came of it.
pub async fn record_outcome(
    tx: &mut Tx,
    id: &RiskSignalId,
    rule: Option<usize>,
    outcomes: &[ActionOutcome],
) -> Result<(), StoreError> {
    let outcomes =
        serde_json::to_string(outcomes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    on_tx!(tx, |c| sqlx::query(
        "UPDATE risk_signals SET rule_position = $2, outcomes = $3 WHERE id = $1"
    )
    .bind(id.as_str())
    .bind(rule.map(|r| i64::try_from(r).unwrap_or(i64::MAX)))
    .bind(outcomes)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SignalRow {
    id: String,
    signal_id: String,
    kind: String,
    severity: String,
    subject: String,
    rule_position: Option<i64>,
    outcomes: String,
    received_at: i64,
}

/// The signal `source` sent under `signal_id`.
pub async fn find(
    tx: &mut Tx,
    source: &str,
    signal_id: &str,
) -> Result<Option<ProcessedSignal>, StoreError> {
    let row: Option<SignalRow> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, signal_id, kind, severity, subject, rule_position, outcomes, received_at \
         FROM risk_signals WHERE source = $1 AND signal_id = $2"
    )
    .bind(source)
    .bind(signal_id)
    .fetch_optional(c)
    .await)?;
    row.map(|row| {
        let corrupt = |what: &str| StoreError::Corrupt(format!("risk signal {}: {what}", row.id));
        Ok(ProcessedSignal {
            id: RiskSignalId::from_stored(row.id.clone()),
            signal_id: row.signal_id.clone(),
            kind: row.kind.clone(),
            severity: Severity::parse(&row.severity).ok_or_else(|| corrupt("severity"))?,
            subject: serde_json::from_str::<RiskSubject>(&row.subject)
                .map_err(|_| corrupt("subject"))?,
            rule: row.rule_position.and_then(|r| usize::try_from(r).ok()),
            outcomes: serde_json::from_str(&row.outcomes).map_err(|_| corrupt("outcomes"))?,
            received_at: from_ms(row.received_at)?,
        })
    })
    .transpose()
}
