//! The audit log: append-only.

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{Db, INSERT_CHUNK, StoreError, Tx, on_pool, on_tx, values};

use crate::domain::audit::AuditEntry;

pub async fn append(tx: &mut Tx, entry: &AuditEntry) -> Result<(), StoreError> {
    append_all(tx, std::slice::from_ref(entry)).await
}

/// Appends entries in order, with multi-row `INSERT`s.
pub async fn append_all(tx: &mut Tx, entries: &[AuditEntry]) -> Result<(), StoreError> {
    for chunk in entries.chunks(INSERT_CHUNK) {
        let values = values(chunk.len(), 8);
        let sql = format!(
            "INSERT INTO audit_log (id, at, actor, action, target, cause, revocation_id, request_id) \
             VALUES {values}"
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for entry in chunk {
                query = query
                    .bind(entry.id.as_str())
                    .bind(to_ms(entry.at))
                    .bind(&entry.actor)
                    .bind(entry.action.as_str())
                    .bind(&entry.target)
                    .bind(entry.cause.map(|cause| cause.as_str()))
                    .bind(entry.revocation_id.as_ref().map(|id| id.as_str()))
                    .bind(entry.request_id.as_deref());
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// An audit entry as stored, with the action and cause as their names.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredAuditEntry {
    pub seq: i64,
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub cause: Option<String>,
    pub revocation_id: Option<String>,
    pub request_id: Option<String>,
}

impl StoredAuditEntry {
    pub fn at(&self) -> Result<DateTime<Utc>, StoreError> {
        from_ms(self.at)
    }
}

/// Entries after `after_seq`, oldest first.
pub async fn list_after(
    db: &Db,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<StoredAuditEntry>, StoreError> {
    let rows = on_pool!(db, |c| sqlx::query_as::<_, StoredAuditEntry>(
        "SELECT seq, id, at, actor, action, target, cause, revocation_id, request_id \
         FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
    )
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(c)
    .await)?;
    Ok(rows)
}
