//! Webhook delivery, at least once: dispatch outbox events into deliveries, lease the
//! due ones, send them (outside any transaction), record every attempt and what follows
//! from it: success, a retry later, or giving up, which disables the endpoint and
//! announces it (`webhook_endpoint.disabled`).
//!
//! An idle worker only reads: it opens a write transaction once a read saw work.
//!
//! Crash safety comes from the order: a lease is committed before sending, and an
//! outcome after. A worker that dies between the two leaves its deliveries leased; when
//! the lease runs out another worker (or the same one, restarted) sends them again.

use std::collections::BTreeMap;

use serde_json::json;
use tokio::task::JoinSet;

use crate::domain::actor::Actor;
use crate::domain::id::{WebhookAttemptId, WebhookEndpointId};
use crate::domain::webhook::{self, AfterAttempt, FAILING_AFTER};
use crate::store::webhook_deliveries::{AttemptRecord, LeasedDelivery};
use crate::store::{self, StoreError};
use crate::upstream::webhook_sender::{Message, Sent, WebhookSender};
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::webhook_endpoints::{DisabledBecause, announce_disabled, signing_secrets};

/// Events turned into deliveries per transaction.
const DISPATCH_BATCH: u32 = 10_000;

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub deliveries_created: u64,
    pub attempts: u64,
    pub succeeded: u64,
    pub endpoints_disabled: u64,
}

impl Round {
    /// Whether the round found work, so another may find more at once.
    pub fn found_work(&self) -> bool {
        self.deliveries_created > 0 || self.attempts > 0
    }
}

/// Turns every undispatched outbox event into deliveries, a batch per transaction.
pub async fn dispatch(app: &App) -> Result<u64, UsecaseError> {
    let mut created = 0;
    if !store::webhook_deliveries::undispatched(&app.db).await? {
        return Ok(0);
    }
    loop {
        let mut tx = app.db.begin().await?;
        let (read, made) =
            store::webhook_deliveries::dispatch(&mut tx, DISPATCH_BATCH, app.clock.now()).await?;
        tx.commit().await?;
        created += made;
        if read < u64::from(DISPATCH_BATCH) {
            return Ok(created);
        }
    }
}

/// Leases a batch of due deliveries for this worker.
pub async fn lease(app: &App) -> Result<Vec<LeasedDelivery>, UsecaseError> {
    let now = app.clock.now();
    if !store::webhook_deliveries::any_due(&app.db, now).await? {
        return Ok(Vec::new());
    }
    let settings = &app.settings.webhooks;
    let mut tx = app.db.begin().await?;
    let leased = store::webhook_deliveries::lease_due(
        &mut tx,
        now,
        now + settings.lease,
        settings.batch_size,
    )
    .await?;
    tx.commit().await?;
    Ok(leased)
}

/// One round: dispatch, then lease, send and record one batch.
pub async fn run_once(app: &App, sender: &WebhookSender) -> Result<Round, UsecaseError> {
    let deliveries_created = dispatch(app).await?;
    let leased = lease(app).await?;
    let mut round = send_and_record(app, sender, leased).await?;
    round.deliveries_created = deliveries_created;
    Ok(round)
}

/// Sends leased deliveries concurrently, then records every outcome in one transaction.
pub async fn send_and_record(
    app: &App,
    sender: &WebhookSender,
    leased: Vec<LeasedDelivery>,
) -> Result<Round, UsecaseError> {
    let mut sending = JoinSet::new();
    for delivery in leased {
        let message = message(app, &delivery)?;
        let sender = sender.clone();
        sending.spawn(async move {
            let sent = sender.send(message).await;
            (delivery, sent)
        });
    }
    let mut outcomes = Vec::with_capacity(sending.len());
    while let Some(joined) = sending.join_next().await {
        match joined {
            Ok(outcome) => outcomes.push(outcome),
            // A send that panicked keeps its lease; it is retried when the lease runs out.
            Err(error) => tracing::error!(%error, "a webhook send task failed"),
        }
    }
    record(app, outcomes).await
}

/// The signed message for a delivery: the event as the events API shows it.
fn message(app: &App, delivery: &LeasedDelivery) -> Result<Message, UsecaseError> {
    let now = app.clock.now();
    let data: serde_json::Value = serde_json::from_str(&delivery.event_data)
        .map_err(|e| StoreError::Corrupt(format!("event data: {e}")))?;
    let body = json!({
        "id": delivery.event_id,
        "type": delivery.event_type,
        "created_at": delivery.event_created_at,
        "data": data,
    })
    .to_string()
    .into_bytes();
    let secrets = signing_secrets(
        app,
        &delivery.endpoint_id,
        &delivery.secret_sealed,
        delivery.previous_secret_sealed.as_deref(),
        delivery.previous_secret_expires_at,
        now,
    )?;
    let timestamp = now.timestamp();
    Ok(Message {
        url: delivery.url.clone(),
        id: delivery.event_id.to_string(),
        timestamp,
        signature: webhook::signature_header(
            &secrets,
            delivery.event_id.as_str(),
            timestamp,
            &body,
        ),
        body,
    })
}

/// Writes the attempts, moves deliveries on, counts failures against endpoints, and
/// disables (and announces) the endpoints whose delivery just ran out of retries.
async fn record(app: &App, sent: Vec<(LeasedDelivery, Sent)>) -> Result<Round, UsecaseError> {
    let now = app.clock.now();
    let mut round = Round::default();
    let mut records = Vec::with_capacity(sent.len());
    // Per endpoint: whether any attempt succeeded, and failures after the last success.
    let mut counts: BTreeMap<WebhookEndpointId, (bool, u32)> = BTreeMap::new();
    let mut exhausted = Vec::new();
    let mut outcomes = Vec::with_capacity(sent.len());
    for (delivery, sent) in sent {
        let attempt = delivery.attempts + 1;
        let count = counts.entry(delivery.endpoint_id.clone()).or_default();
        let (status, next_attempt_at) =
            match webhook::after_attempt(sent.succeeded(), attempt, now, rand::random()) {
                AfterAttempt::Succeeded => {
                    *count = (true, 0);
                    round.succeeded += 1;
                    outcomes.push("succeeded");
                    ("succeeded", now)
                }
                AfterAttempt::RetryAt(at) => {
                    count.1 += 1;
                    outcomes.push("retrying");
                    ("pending", at)
                }
                AfterAttempt::GaveUp => {
                    count.1 += 1;
                    exhausted.push(delivery.endpoint_id.clone());
                    outcomes.push("gave_up");
                    ("failed", now)
                }
            };
        records.push(AttemptRecord {
            id: WebhookAttemptId::generate(),
            delivery_id: delivery.id,
            endpoint_id: delivery.endpoint_id,
            event_id: delivery.event_id,
            attempt,
            attempted_at: now,
            status_code: sent.status_code,
            duration_ms: i64::try_from(sent.duration.as_millis()).unwrap_or(i64::MAX),
            error: sent.error,
            delivery_status: status,
            next_attempt_at,
        });
    }
    round.attempts = records.len() as u64;
    if records.is_empty() {
        return Ok(round);
    }
    let counts: Vec<_> = counts
        .into_iter()
        .map(|(id, (succeeded, failures))| (id, succeeded, failures))
        .collect();
    exhausted.sort();
    exhausted.dedup();
    let endpoints: Vec<_> = counts.iter().map(|(id, ..)| id.clone()).collect();
    let mut tx = app.db.begin().await?;
    store::webhook_endpoints::lock_in_order(&mut tx, &endpoints).await?;
    store::webhook_deliveries::record(&mut tx, &records).await?;
    store::webhook_endpoints::count_attempts(&mut tx, &counts, FAILING_AFTER).await?;
    let disabled = store::webhook_endpoints::disable_exhausted(&mut tx, &exhausted, now).await?;
    for id in &disabled {
        announce_disabled(
            &mut tx,
            &Actor::system(),
            id,
            DisabledBecause::RetriesExhausted,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    round.endpoints_disabled = disabled.len() as u64;
    for outcome in outcomes {
        app.counters.attempted(outcome);
    }
    app.counters.endpoints_disabled(round.endpoints_disabled);
    for id in &disabled {
        tracing::warn!(webhook_endpoint_id = %id, "webhook endpoint disabled: a delivery ran out of retries");
    }
    Ok(round)
}
