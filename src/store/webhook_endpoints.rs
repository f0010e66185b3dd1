//! Webhook endpoints and their subscriptions. Signing secrets arrive and leave sealed
//! (`crate::secret_box`); this module never sees one in plain text.

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{Db, LockMode, Reader, StoreError, Tx, on_pool, on_reader, on_tx, placeholders};
use crate::domain::event::EventType;
use crate::domain::id::WebhookEndpointId;
use crate::domain::webhook::{Endpoint, EndpointStatus};

const COLUMNS: &str = "id, url, description, status, consecutive_failures, created_at, \
                       updated_at, disabled_at, previous_secret_expires_at, secret_sealed";

/// An endpoint with its sealed current secret (the one a rotation keeps as previous).
#[derive(Debug, Clone)]
pub struct StoredEndpoint {
    pub endpoint: Endpoint,
    pub secret_sealed: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    url: String,
    description: Option<String>,
    status: String,
    consecutive_failures: i64,
    created_at: i64,
    updated_at: i64,
    disabled_at: Option<i64>,
    previous_secret_expires_at: Option<i64>,
    secret_sealed: Vec<u8>,
}

impl EndpointRow {
    fn into_stored(self, event_types: Vec<EventType>) -> Result<StoredEndpoint, StoreError> {
        Ok(StoredEndpoint {
            endpoint: Endpoint {
                status: EndpointStatus::parse(&self.status).ok_or_else(|| {
                    StoreError::Corrupt(format!("webhook endpoint status {}", self.status))
                })?,
                id: WebhookEndpointId::from_stored(self.id),
                url: self.url,
                description: self.description,
                event_types,
                consecutive_failures: u32::try_from(self.consecutive_failures).unwrap_or(u32::MAX),
                created_at: from_ms(self.created_at)?,
                updated_at: from_ms(self.updated_at)?,
                disabled_at: self.disabled_at.map(from_ms).transpose()?,
                previous_secret_expires_at: self
                    .previous_secret_expires_at
                    .map(from_ms)
                    .transpose()?,
            },
            secret_sealed: self.secret_sealed,
        })
    }
}

pub async fn insert(
    tx: &mut Tx,
    endpoint: &Endpoint,
    secret_sealed: &[u8],
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO webhook_endpoints (id, url, description, status, secret_sealed, \
         consecutive_failures, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6)"
    )
    .bind(endpoint.id.as_str())
    .bind(&endpoint.url)
    .bind(endpoint.description.as_deref())
    .bind(endpoint.status.as_str())
    .bind(secret_sealed)
    .bind(to_ms(endpoint.created_at))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    set_event_types(tx, &endpoint.id, &endpoint.event_types).await
}

/// How many endpoints exist.
pub async fn count(tx: &mut Tx) -> Result<i64, StoreError> {
    let count = on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM webhook_endpoints"
    )
    .fetch_one(c)
    .await)?;
    Ok(count)
}

/// Replaces what the endpoint subscribes to.
async fn set_event_types(
    tx: &mut Tx,
    id: &WebhookEndpointId,
    event_types: &[EventType],
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM webhook_subscriptions WHERE endpoint_id = $1"
    )
    .bind(id.as_str())
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    if event_types.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO webhook_subscriptions (endpoint_id, event_type) VALUES {}",
        super::values(tx.backend(), event_types.len(), 2)
    );
    on_tx!(tx, |c| {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for event_type in event_types {
            query = query.bind(id.as_str()).bind(event_type.as_str());
        }
        query.execute(c).await.map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// The endpoint, read through `reader`; with `lock`, held until the transaction ends.
pub async fn get(
    reader: impl Into<Reader<'_>>,
    id: &WebhookEndpointId,
    lock: Option<LockMode>,
) -> Result<Option<StoredEndpoint>, StoreError> {
    let mut reader = reader.into();
    let lock = match (&reader, lock) {
        (Reader::Tx(tx), Some(mode)) => tx.lock_clause(mode),
        _ => "",
    };
    let sql = format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1{lock}");
    let row = on_reader!(reader.reborrow(), |c| sqlx::query_as::<_, EndpointRow>(
        sqlx::AssertSqlSafe(sql)
    )
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    let types = event_types(reader, std::slice::from_ref(&row.id)).await?;
    Ok(Some(row.into_stored(
        types.into_iter().map(|(_, t)| t).collect(),
    )?))
}

/// The subscriptions of `ids`, as (endpoint id, type) pairs.
async fn event_types(
    reader: Reader<'_>,
    ids: &[String],
) -> Result<Vec<(String, EventType)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT endpoint_id, event_type FROM webhook_subscriptions WHERE endpoint_id IN ({}) \
         ORDER BY endpoint_id, event_type",
        placeholders(1, ids.len())
    );
    let rows: Vec<(String, String)> = on_reader!(reader, |c| {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(c).await
    })?;
    rows.into_iter()
        .map(|(id, raw)| {
            let event_type = EventType::parse(&raw)
                .ok_or_else(|| StoreError::Corrupt(format!("subscribed event type {raw}")))?;
            Ok((id, event_type))
        })
        .collect()
}

/// Endpoints after `after` (an endpoint id), newest first, at most `limit`.
pub async fn list(db: &Db, after: Option<&str>, limit: u32) -> Result<Vec<Endpoint>, StoreError> {
    let rows = on_pool!(db, |c| sqlx::query_as::<_, EndpointRow>(
        sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE ($1 = '' OR id < $1) \
             ORDER BY id DESC LIMIT $2"
        ))
    )
    .bind(after.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(c)
    .await)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let types = event_types(Reader::Db(db), &ids).await?;
    rows.into_iter()
        .map(|row| {
            let mine = types
                .iter()
                .filter(|(id, _)| *id == row.id)
                .map(|(_, t)| *t)
                .collect();
            Ok(row.into_stored(mine)?.endpoint)
        })
        .collect()
}

/// Writes the endpoint's url, description, subscriptions and status.
pub async fn update(tx: &mut Tx, endpoint: &Endpoint) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE webhook_endpoints SET url = $2, description = $3, status = $4, \
         consecutive_failures = $5, updated_at = $6, disabled_at = $7 WHERE id = $1"
    )
    .bind(endpoint.id.as_str())
    .bind(&endpoint.url)
    .bind(endpoint.description.as_deref())
    .bind(endpoint.status.as_str())
    .bind(i64::from(endpoint.consecutive_failures))
    .bind(to_ms(endpoint.updated_at))
    .bind(endpoint.disabled_at.map(to_ms))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    set_event_types(tx, &endpoint.id, &endpoint.event_types).await
}

/// Replaces the signing secret; the one it replaces keeps signing until
/// `previous_expires_at`.
pub async fn set_secret(
    tx: &mut Tx,
    id: &WebhookEndpointId,
    secret_sealed: &[u8],
    previous_sealed: &[u8],
    previous_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE webhook_endpoints SET secret_sealed = $2, previous_secret_sealed = $3, \
         previous_secret_expires_at = $4, updated_at = $5 WHERE id = $1"
    )
    .bind(id.as_str())
    .bind(secret_sealed)
    .bind(previous_sealed)
    .bind(to_ms(previous_expires_at))
    .bind(to_ms(now))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Deletes the endpoint with its subscriptions, deliveries and attempts.
pub async fn delete(tx: &mut Tx, id: &WebhookEndpointId) -> Result<bool, StoreError> {
    let deleted = on_tx!(tx, |c| sqlx::query(
        "DELETE FROM webhook_endpoints WHERE id = $1"
    )
    .bind(id.as_str())
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(deleted > 0)
}

/// Disables those of `ids` not disabled yet and returns them: the ones whose last
/// retry just failed. Nothing more is sent to them until an admin enables them.
pub async fn disable_exhausted(
    tx: &mut Tx,
    ids: &[WebhookEndpointId],
    now: DateTime<Utc>,
) -> Result<Vec<WebhookEndpointId>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "UPDATE webhook_endpoints SET status = 'disabled', disabled_at = $1, updated_at = $1 \
         WHERE id IN ({}) AND status <> 'disabled' RETURNING id",
        placeholders(2, ids.len())
    );
    let rows: Vec<String> = on_tx!(tx, |c| {
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(to_ms(now));
        for id in ids {
            query = query.bind(id.as_str());
        }
        query.fetch_all(c).await
    })?;
    Ok(rows
        .into_iter()
        .map(WebhookEndpointId::from_stored)
        .collect())
}

/// Locks the endpoints `ids` in one order (by id) until the transaction ends. Workers
/// recording outcomes take it first, so two of them wait for each other instead of
/// deadlocking on the rows they both update. The lock is `FOR NO KEY UPDATE`: foreign
/// key checks (the dispatcher inserting deliveries, attempts being inserted) take `KEY
/// SHARE` locks on endpoints, which it lets through, so those never wait on it.
pub async fn lock_in_order(tx: &mut Tx, ids: &[WebhookEndpointId]) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let lock = match tx {
        Tx::Sqlite(_) => "",
        Tx::Postgres(_) => " FOR NO KEY UPDATE",
    };
    let sql = format!(
        "SELECT id FROM webhook_endpoints WHERE id IN ({}) ORDER BY id{lock}",
        placeholders(1, ids.len()),
    );
    on_tx!(tx, |c| {
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id.as_str());
        }
        query.fetch_all(c).await
    })?;
    Ok(())
}

/// Counts attempts against endpoints: `(id, any_success, failures_since_last_success)`
/// per endpoint. A success starts the count again; `failing_after` failures in a row
/// mark an endpoint failing, and a success marks it active again.
pub async fn count_attempts(
    tx: &mut Tx,
    counts: &[(WebhookEndpointId, bool, u32)],
    failing_after: u32,
) -> Result<(), StoreError> {
    if counts.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE webhook_endpoints SET consecutive_failures = \
         (CASE WHEN v.column2 = 1 THEN 0 ELSE consecutive_failures END) + v.column3 \
         FROM (VALUES {}) AS v WHERE webhook_endpoints.id = v.column1",
        super::values(tx.backend(), counts.len(), 3)
    );
    on_tx!(tx, |c| {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, succeeded, failures) in counts {
            query = query
                .bind(id.as_str())
                .bind(i64::from(*succeeded))
                .bind(i64::from(*failures));
        }
        query.execute(c).await.map(|done| done.rows_affected())
    })?;
    let sql = format!(
        "UPDATE webhook_endpoints SET status = CASE WHEN consecutive_failures >= $1 \
         THEN 'failing' ELSE 'active' END WHERE status <> 'disabled' AND id IN ({})",
        placeholders(2, counts.len())
    );
    on_tx!(tx, |c| {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(i64::from(failing_after));
        for (id, ..) in counts {
            query = query.bind(id.as_str());
        }
        query.execute(c).await.map(|done| done.rows_affected())
    })?;
    Ok(())
}
