//! Address blocks: the ranges sign-ins and token exchanges are refused from until they
//! expire or are lifted.

use core::net::IpAddr;

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::user_sessions::ip_key_text;
use super::{Reader, StoreError, Tx, on_reader, on_tx};
use crate::domain::id::{IpBlockId, RiskSignalId};
use crate::domain::ip_range::{IpRange, ip_key};
use crate::domain::risk_signal::IpBlock;

const COLUMNS: &str =
    "id, ip_range, reason, actor, risk_signal_id, created_at, expires_at, lifted_at";

#[derive(sqlx::FromRow)]
struct IpBlockRow {
    id: String,
    ip_range: String,
    reason: Option<String>,
    actor: String,
    risk_signal_id: Option<String>,
    created_at: i64,
    expires_at: i64,
    lifted_at: Option<i64>,
}

impl TryFrom<IpBlockRow> for IpBlock {
    type Error = StoreError;

    fn try_from(row: IpBlockRow) -> Result<Self, StoreError> {
        Ok(IpBlock {
            id: IpBlockId::from_stored(row.id),
            ip_range: row.ip_range,
            reason: row.reason,
            actor: row.actor,
            risk_signal_id: row.risk_signal_id.map(RiskSignalId::from_stored),
            created_at: from_ms(row.created_at)?,
            expires_at: from_ms(row.expires_at)?,
            lifted_at: row.lifted_at.map(from_ms).transpose()?,
        })
    }
}

pub async fn insert(tx: &mut Tx, block: &IpBlock, range: &IpRange) -> Result<(), StoreError> {
    let (first, last) = range.keys();
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO ip_blocks (id, ip_range, first_key, last_key, reason, actor, \
         risk_signal_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(block.id.as_str())
    .bind(&block.ip_range)
    .bind(ip_key_text(first))
    .bind(ip_key_text(last))
    .bind(block.reason.as_deref())
    .bind(&block.actor)
    .bind(block.risk_signal_id.as_ref().map(RiskSignalId::as_str))
    .bind(to_ms(block.created_at))
    .bind(to_ms(block.expires_at))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// The block in force at `now` that holds `ip`, if any (the one expiring last).
pub async fn in_force(
    reader: impl Into<Reader<'_>>,
    ip: IpAddr,
    now: DateTime<Utc>,
) -> Result<Option<IpBlock>, StoreError> {
    let key = ip_key_text(ip_key(ip));
    let sql = format!(
        "SELECT {COLUMNS} FROM ip_blocks WHERE lifted_at IS NULL AND first_key <= $1 \
         AND last_key >= $1 AND expires_at > $2 ORDER BY expires_at DESC LIMIT 1"
    );
    let row: Option<IpBlockRow> =
        on_reader!(reader.into(), |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&key)
            .bind(to_ms(now))
            .fetch_optional(c)
            .await)?;
    row.map(IpBlock::try_from).transpose()
}

/// Up to `limit` blocks in force at `now`, newest first, after the one with id `after`.
pub async fn list_in_force(
    reader: impl Into<Reader<'_>>,
    now: DateTime<Utc>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<IpBlock>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM ip_blocks WHERE lifted_at IS NULL AND expires_at > $1 \
         AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3"
    );
    let rows: Vec<IpBlockRow> =
        on_reader!(reader.into(), |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(to_ms(now))
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(c)
            .await)?;
    rows.into_iter().map(IpBlock::try_from).collect()
}

/// Lifts a block in force; returns it, or `None` when no such block is in force.
pub async fn lift(
    tx: &mut Tx,
    id: &IpBlockId,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Option<IpBlock>, StoreError> {
    let sql = format!(
        "UPDATE ip_blocks SET lifted_at = $2, lifted_by = $3 \
         WHERE id = $1 AND lifted_at IS NULL AND expires_at > $2 RETURNING {COLUMNS}"
    );
    let row: Option<IpBlockRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id.as_str())
        .bind(to_ms(now))
        .bind(by)
        .fetch_optional(c)
        .await)?;
    row.map(IpBlock::try_from).transpose()
}
