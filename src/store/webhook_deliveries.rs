//! Deliveries (one event on its way to one endpoint) and their attempts: dispatch from
//! the outbox, leases, outcomes, replays, and pruning.

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{Db, INSERT_CHUNK, NumberedIds, StoreError, Tx, on_pool, on_tx, placeholders, values};
use crate::domain::id::{EventId, WebhookAttemptId, WebhookDeliveryId, WebhookEndpointId};
use crate::domain::webhook::Attempt;

/// The join condition "endpoint `w` receives event `e`": it subscribes to nothing (so to
/// every type) or to the event's type.
const SUBSCRIBED: &str = "(NOT EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.endpoint_id = w.id) \
     OR EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.endpoint_id = w.id AND s.event_type = e.type))";

/// Turns up to `max_events` outbox events after the dispatcher's place into deliveries
/// for every endpoint that is not disabled, existed when the event was written and
/// receives its type; moves the place on. The place's row is locked, so one dispatcher
/// runs at a time across instances. Returns (events read, deliveries created).
pub async fn dispatch(
    tx: &mut Tx,
    max_events: u32,
    now: DateTime<Utc>,
) -> Result<(u64, u64), StoreError> {
    let lock = tx.lock_clause(super::LockMode::Update);
    let after: i64 = on_tx!(tx, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT last_event_seq FROM webhook_dispatch WHERE id = 1{lock}"
    )))
    .fetch_one(c)
    .await)?;
    let (read, upto): (i64, Option<i64>) = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT COUNT(*), MAX(seq) FROM (SELECT seq FROM events WHERE seq > $1 ORDER BY seq LIMIT $2) AS batch"
    )
    .bind(after)
    .bind(i64::from(max_events))
    .fetch_one(c)
    .await
    })?;
    let Some(upto) = upto else { return Ok((0, 0)) };
    let sql = format!(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_seq, status, attempts, \
         next_attempt_at, created_at) \
         SELECT {id}, w.id, e.seq, 'pending', 0, $3, $3 \
         FROM events e JOIN webhook_endpoints w ON w.status <> 'disabled' AND w.created_at <= e.created_at \
         WHERE e.seq > $1 AND e.seq <= $2 AND {SUBSCRIBED}",
        id = tx.numbered_id_sql(4)
    );
    let ids = NumberedIds::like(WebhookDeliveryId::generate().as_str());
    let created = on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .bind(upto)
        .bind(to_ms(now))
        .bind(&ids.prefix)
        .bind(ids.base)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    on_tx!(tx, |c| sqlx::query(
        "UPDATE webhook_dispatch SET last_event_seq = $1 WHERE id = 1"
    )
    .bind(upto)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok((u64::try_from(read).unwrap_or(0), created))
}

/// Whether events wait to be dispatched: a read, so an idle worker takes no write lock.
pub async fn undispatched(db: &Db) -> Result<bool, StoreError> {
    let waiting = on_pool!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE seq > \
         (SELECT last_event_seq FROM webhook_dispatch WHERE id = 1) LIMIT 1) AS waiting"
    )
    .fetch_one(c)
    .await)?;
    Ok(waiting > 0)
}

/// Whether a delivery is due and not leased at `now`: a read, like [`undispatched`].
pub async fn any_due(db: &Db, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let due = on_pool!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM (SELECT 1 FROM webhook_deliveries \
         WHERE status = 'pending' AND next_attempt_at <= $1 \
         AND (leased_until IS NULL OR leased_until <= $1) LIMIT 1) AS due"
    )
    .bind(to_ms(now))
    .fetch_one(c)
    .await)?;
    Ok(due > 0)
}

/// Re-sends to `endpoint` every retained event written at or after `since` that it
/// receives: new deliveries, due now. Returns how many.
pub async fn replay(
    tx: &mut Tx,
    endpoint: &WebhookEndpointId,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let sql = format!(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_seq, status, attempts, \
         next_attempt_at, created_at) \
         SELECT {id}, w.id, e.seq, 'pending', 0, $3, $3 \
         FROM events e JOIN webhook_endpoints w ON w.id = $1 \
         WHERE e.created_at >= $2 AND {SUBSCRIBED}",
        id = tx.numbered_id_sql(4)
    );
    let ids = NumberedIds::like(WebhookDeliveryId::generate().as_str());
    let created = on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(endpoint.as_str())
        .bind(to_ms(since))
        .bind(to_ms(now))
        .bind(&ids.prefix)
        .bind(ids.base)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(created)
}

/// A delivery a worker holds, with all it needs to send it.
#[derive(Debug, Clone)]
pub struct LeasedDelivery {
    pub id: WebhookDeliveryId,
    /// Attempts made before this one.
    pub attempts: u32,
    pub endpoint_id: WebhookEndpointId,
    pub url: String,
    pub secret_sealed: Vec<u8>,
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub event_id: EventId,
    pub event_type: String,
    pub event_created_at: DateTime<Utc>,
    pub event_data: String,
}

#[derive(sqlx::FromRow)]
struct LeasedRow {
    id: String,
    attempts: i64,
    endpoint_id: String,
    url: String,
    secret_sealed: Vec<u8>,
    previous_secret_sealed: Option<Vec<u8>>,
    previous_secret_expires_at: Option<i64>,
    event_id: String,
    event_type: String,
    event_created_at: i64,
    event_data: String,
}

/// Leases up to `limit` due deliveries of endpoints that are not disabled until
/// `leased_until`, oldest due first, and reads what sending them needs. On PostgreSQL
/// the candidates are locked `FOR UPDATE SKIP LOCKED`, so workers on several instances
/// take disjoint sets without waiting on each other; a lease not yet run out hides a
/// delivery from every other worker.
pub async fn lease_due(
    tx: &mut Tx,
    now: DateTime<Utc>,
    leased_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<LeasedDelivery>, StoreError> {
    let skip_locked = match tx {
        Tx::Sqlite(_) => "",
        Tx::Postgres(_) => " FOR UPDATE OF d SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET leased_until = $2 WHERE id IN (\
           SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id \
           WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
             AND (d.leased_until IS NULL OR d.leased_until <= $1) AND w.status <> 'disabled' \
           ORDER BY d.next_attempt_at LIMIT $3{skip_locked}) \
         RETURNING id"
    );
    let ids: Vec<String> = on_tx!(tx, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(to_ms(now))
        .bind(to_ms(leased_until))
        .bind(i64::from(limit))
        .fetch_all(c)
        .await)?;
    let mut leased = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(INSERT_CHUNK) {
        let sql = format!(
            "SELECT d.id, d.attempts, w.id AS endpoint_id, w.url, w.secret_sealed, \
             w.previous_secret_sealed, w.previous_secret_expires_at, e.id AS event_id, \
             e.type AS event_type, e.created_at AS event_created_at, e.data AS event_data \
             FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id \
             JOIN events e ON e.seq = d.event_seq WHERE d.id IN ({}) ORDER BY d.next_attempt_at",
            placeholders(1, chunk.len())
        );
        let rows = on_tx!(tx, |c| {
            let mut query = sqlx::query_as::<_, LeasedRow>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id);
            }
            query.fetch_all(c).await
        })?;
        for row in rows {
            leased.push(LeasedDelivery {
                id: WebhookDeliveryId::from_stored(row.id),
                attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
                endpoint_id: WebhookEndpointId::from_stored(row.endpoint_id),
                url: row.url,
                secret_sealed: row.secret_sealed,
                previous_secret_sealed: row.previous_secret_sealed,
                previous_secret_expires_at: row
                    .previous_secret_expires_at
                    .map(from_ms)
                    .transpose()?,
                event_id: EventId::from_stored(row.event_id),
                event_type: row.event_type,
                event_created_at: from_ms(row.event_created_at)?,
                event_data: row.event_data,
            });
        }
    }
    Ok(leased)
}

/// What became of one attempt, and of its delivery.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub id: WebhookAttemptId,
    pub delivery_id: WebhookDeliveryId,
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub duration_ms: i64,
    pub error: Option<String>,
    /// `succeeded`, `failed` or `pending` (with `next_attempt_at`).
    pub delivery_status: &'static str,
    pub next_attempt_at: DateTime<Utc>,
}

/// Writes the attempts and moves their deliveries on, releasing their leases. An
/// attempt whose delivery is gone (its endpoint was deleted while it was being sent) is
/// dropped with it.
pub async fn record(tx: &mut Tx, records: &[AttemptRecord]) -> Result<(), StoreError> {
    for chunk in records.chunks(INSERT_CHUNK / 2) {
        let sql = format!(
            "INSERT INTO webhook_attempts (id, delivery_id, endpoint_id, event_id, attempt, \
             attempted_at, status_code, duration_ms, error) \
             SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, \
             v.column8, v.column9 FROM (VALUES {}) AS v \
             WHERE EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = v.column2)",
            values(tx.backend(), chunk.len(), 9)
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                query = query
                    .bind(r.id.as_str())
                    .bind(r.delivery_id.as_str())
                    .bind(r.endpoint_id.as_str())
                    .bind(r.event_id.as_str())
                    .bind(i64::from(r.attempt))
                    .bind(to_ms(r.attempted_at))
                    .bind(r.status_code.map(i64::from))
                    .bind(r.duration_ms)
                    .bind(r.error.as_deref());
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
        let sql = format!(
            "UPDATE webhook_deliveries SET status = v.column2, attempts = v.column3, \
             next_attempt_at = v.column4, leased_until = NULL \
             FROM (VALUES {}) AS v WHERE webhook_deliveries.id = v.column1",
            values(tx.backend(), chunk.len(), 4)
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                query = query
                    .bind(r.delivery_id.as_str())
                    .bind(r.delivery_status)
                    .bind(i64::from(r.attempt))
                    .bind(to_ms(r.next_attempt_at));
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: String,
    delivery_id: String,
    event_id: String,
    attempt: i64,
    attempted_at: i64,
    status_code: Option<i64>,
    duration_ms: i64,
    error: Option<String>,
}

/// An endpoint's attempts after `after` (an attempt id), newest first.
pub async fn list_attempts(
    db: &Db,
    endpoint: &WebhookEndpointId,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Attempt>, StoreError> {
    let rows = on_pool!(db, |c| {
        sqlx::query_as::<_, AttemptRow>(
        "SELECT id, delivery_id, event_id, attempt, attempted_at, status_code, duration_ms, error \
         FROM webhook_attempts WHERE endpoint_id = $1 AND ($2 = '' OR id < $2) \
         ORDER BY id DESC LIMIT $3"
    )
    .bind(endpoint.as_str())
    .bind(after.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(c)
    .await
    })?;
    rows.into_iter()
        .map(|row| {
            Ok(Attempt {
                attempted_at: from_ms(row.attempted_at)?,
                id: row.id,
                delivery_id: row.delivery_id,
                event_id: EventId::from_stored(row.event_id),
                attempt: row.attempt,
                status_code: row.status_code,
                duration_ms: row.duration_ms,
                error: row.error,
            })
        })
        .collect()
}

/// Deletes finished deliveries and attempts older than `before`, and events older than
/// it that are dispatched and needed by no pending delivery. Returns events deleted.
pub async fn prune(tx: &mut Tx, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let before = to_ms(before);
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM webhook_attempts WHERE attempted_at < $1"
    )
    .bind(before)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1"
    )
    .bind(before)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    let events = on_tx!(tx, |c| sqlx::query(
        "DELETE FROM events WHERE created_at < $1 \
         AND seq <= (SELECT last_event_seq FROM webhook_dispatch WHERE id = 1) \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d \
                         WHERE d.event_seq = events.seq AND d.status = 'pending')"
    )
    .bind(before)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(events)
}
