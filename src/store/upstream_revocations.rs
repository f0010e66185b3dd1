//! Tokens a disconnect asked the provider to revoke: the work, leased like webhook
//! deliveries, and afterwards the receipt.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{Db, Reader, StoreError, Tx, on_pool, on_reader, on_tx, placeholders};
use crate::domain::connection::{Receipt, ReceiptStatus, UpstreamToken};
use crate::domain::id::{ConnectionId, UpstreamRevocationId};
use crate::domain::provider::ProviderId;

/// A token to revoke at its provider, as a disconnect enqueues it.
pub struct NewUpstreamRevocation {
    pub id: UpstreamRevocationId,
    pub connection_id: ConnectionId,
    pub provider: ProviderId,
    pub token: UpstreamToken,
    /// The token sealed for this row; `None` when there is nothing to ask the provider
    /// (it cannot revoke), and the row is born finished.
    pub token_sealed: Option<Vec<u8>>,
    pub status: ReceiptStatus,
}

/// A leased row: what a worker needs to ask the provider.
pub struct LeasedRevocation {
    pub id: UpstreamRevocationId,
    pub connection_id: ConnectionId,
    pub provider: ProviderId,
    pub token: UpstreamToken,
    pub token_sealed: Vec<u8>,
    pub attempts: u32,
}

#[derive(sqlx::FromRow)]
struct ReceiptRow {
    id: String,
    connection_id: String,
    token_kind: String,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    last_answer: Option<String>,
    finished_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct LeasedRow {
    id: String,
    connection_id: String,
    next_attempt_at: i64,
    provider: String,
    token_kind: String,
    token_sealed: Option<Vec<u8>>,
    attempts: i64,
}

fn token_kind(raw: &str) -> Result<UpstreamToken, StoreError> {
    UpstreamToken::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("token kind {raw}")))
}

pub async fn insert(
    tx: &mut Tx,
    rows: &[NewUpstreamRevocation],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for row in rows {
        let finished = (row.status != ReceiptStatus::Pending).then_some(to_ms(now));
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO upstream_revocations (id, connection_id, provider, token_kind, \
             token_sealed, status, attempts, next_attempt_at, created_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7, $8)"
        )
        .bind(row.id.as_str())
        .bind(row.connection_id.as_str())
        .bind(row.provider.as_str())
        .bind(row.token.as_str())
        .bind(row.token_sealed.as_deref())
        .bind(row.status.as_str())
        .bind(to_ms(now))
        .bind(finished)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    }
    Ok(())
}

/// The receipt of a connection's disconnect, refresh token first.
pub async fn receipt(
    reader: impl Into<Reader<'_>>,
    connection_id: &ConnectionId,
) -> Result<Vec<Receipt>, StoreError> {
    Ok(receipts(reader, std::slice::from_ref(connection_id))
        .await?
        .remove(connection_id)
        .unwrap_or_default())
}

/// [`receipt`] of several connections in one statement, by connection.
pub async fn receipts(
    reader: impl Into<Reader<'_>>,
    connection_ids: &[ConnectionId],
) -> Result<HashMap<ConnectionId, Vec<Receipt>>, StoreError> {
    if connection_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT id, connection_id, token_kind, status, attempts, next_attempt_at, last_answer, \
         finished_at FROM upstream_revocations WHERE connection_id IN ({}) \
         ORDER BY connection_id, token_kind DESC, id",
        placeholders(1, connection_ids.len())
    );
    let rows = on_reader!(reader.into(), |c| {
        let mut query = sqlx::query_as::<_, ReceiptRow>(sqlx::AssertSqlSafe(sql));
        for id in connection_ids {
            query = query.bind(id.as_str());
        }
        query.fetch_all(c).await
    })?;
    let mut by_connection: HashMap<ConnectionId, Vec<Receipt>> = HashMap::new();
    for row in rows {
        let status = ReceiptStatus::parse(&row.status)
            .ok_or_else(|| StoreError::Corrupt(format!("receipt status {}", row.status)))?;
        by_connection
            .entry(ConnectionId::from_stored(row.connection_id))
            .or_default()
            .push(Receipt {
                id: UpstreamRevocationId::from_stored(row.id),
                token: token_kind(&row.token_kind)?,
                status,
                attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
                next_attempt_at: (status == ReceiptStatus::Pending)
                    .then(|| from_ms(row.next_attempt_at))
                    .transpose()?,
                last_answer: row.last_answer,
                finished_at: row.finished_at.map(from_ms).transpose()?,
            });
    }
    Ok(by_connection)
}

/// Whether any row is due at `now` (a read, so an idle worker takes no write lock).
pub async fn any_due(db: &Db, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let due: Option<i64> = on_pool!(db, |c| sqlx::query_scalar(
        "SELECT next_attempt_at FROM upstream_revocations \
         WHERE status = 'pending' AND next_attempt_at <= $1 \
         AND (leased_until IS NULL OR leased_until <= $1) LIMIT 1"
    )
    .bind(to_ms(now))
    .fetch_optional(c)
    .await)?;
    Ok(due.is_some())
}

/// Leases up to `limit` due rows until `until`, in one statement: pending, due at
/// `now`, and not held by a live lease. Other instances skip what this one leased
/// (PostgreSQL).
pub async fn lease_due(
    tx: &mut Tx,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<LeasedRevocation>, StoreError> {
    let skip_locked = match tx {
        Tx::Sqlite(_) => "",
        Tx::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    let rows = on_tx!(tx, |c| sqlx::query_as::<_, LeasedRow>(sqlx::AssertSqlSafe(
        format!(
            "UPDATE upstream_revocations SET leased_until = $2 WHERE id IN (\
               SELECT id FROM upstream_revocations \
               WHERE status = 'pending' AND next_attempt_at <= $1 \
                 AND (leased_until IS NULL OR leased_until <= $1) \
               ORDER BY next_attempt_at LIMIT $3{skip_locked}) \
             RETURNING id, connection_id, next_attempt_at, provider, token_kind, token_sealed, \
             attempts"
        )
    ))
    .bind(to_ms(now))
    .bind(to_ms(until))
    .bind(i64::from(limit))
    .fetch_all(c)
    .await)?;
    // RETURNING keeps no order: the due first, and a connection's refresh token before
    // its access token.
    let mut rows = rows;
    rows.sort_by(|a, b| {
        (a.next_attempt_at, &b.token_kind).cmp(&(b.next_attempt_at, &a.token_kind))
    });
    rows.into_iter()
        .map(|row| {
            let token_sealed = row.token_sealed.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "pending upstream revocation {} holds no token",
                    row.id
                ))
            })?;
            Ok(LeasedRevocation {
                provider: ProviderId::parse(&row.provider)
                    .ok_or_else(|| StoreError::Corrupt(format!("provider {:?}", row.provider)))?,
                token: token_kind(&row.token_kind)?,
                id: UpstreamRevocationId::from_stored(row.id),
                connection_id: ConnectionId::from_stored(row.connection_id),
                token_sealed,
                attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

/// Records a finished row: the provider's word, and the token's copy destroyed.
pub async fn finish(
    tx: &mut Tx,
    id: &UpstreamRevocationId,
    status: ReceiptStatus,
    attempts: u32,
    answer: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE upstream_revocations SET status = $2, attempts = $3, last_answer = $4, \
         token_sealed = NULL, leased_until = NULL, finished_at = $5 WHERE id = $1"
    )
    .bind(id.as_str())
    .bind(status.as_str())
    .bind(i64::from(attempts))
    .bind(answer)
    .bind(to_ms(now))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Records a failed attempt, to be tried again at `next`.
pub async fn retry_at(
    tx: &mut Tx,
    id: &UpstreamRevocationId,
    attempts: u32,
    answer: &str,
    next: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE upstream_revocations SET attempts = $2, last_answer = $3, \
         next_attempt_at = $4, leased_until = NULL WHERE id = $1"
    )
    .bind(id.as_str())
    .bind(i64::from(attempts))
    .bind(answer)
    .bind(to_ms(next))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}
