//! The outbox: one row per change a caller must hear of, written in the transaction that
//! made the change. Delivery and the events API read it in `seq` order, which is also
//! the order the rows became visible (see [`hold_outbox`]), so a cursor never skips a
//! row that commits late.

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{Db, NumberedIds, StoreError, Tx, on_pool, on_tx, placeholders};
use crate::domain::actor::Actor;
use crate::domain::event::{EventType, RecordedEvent};
use crate::domain::id::{EventId, RevocationId};

/// One `user_session.revoked` event per user session `revocation_id` hit, in one
/// statement. The JSON is assembled in SQL from ids and enum names, which need no escaping.
pub async fn insert_user_session_revoked(
    tx: &mut Tx,
    revocation_id: &RevocationId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    const DATA: &str = "'{\"session\":{\"kind\":\"user_session\",\"id\":\"' || id || \
                        '\"},\"user_id\":\"' || user_id || '\",\"revocation_id\":\"' || revocation_id || \
                        '\",\"cause\":\"' || revocation_cause || '\",\"actor\":\"' || $4 || '\"}'";
    insert_revoked(
        tx,
        "user_sessions",
        DATA,
        EventType::UserSessionRevoked,
        revocation_id,
        actor,
        now,
    )
    .await
}

/// One `agent_session.revoked` event per agent session `revocation_id` hit, in one
/// statement. The delegation chain is stored as a JSON array and copied in as it is.
pub async fn insert_agent_session_revoked(
    tx: &mut Tx,
    revocation_id: &RevocationId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    const DATA: &str = "'{\"session\":{\"kind\":\"agent_session\",\"id\":\"' || id || \
                        '\"},\"user_id\":\"' || user_id || '\",\"agent_id\":\"' || agent_id || \
                        '\",\"user_session_id\":\"' || user_session_id || '\",\"chain\":' || agent_chain || \
                        ',\"revocation_id\":\"' || revocation_id || '\",\"cause\":\"' || revocation_cause || \
                        '\",\"actor\":\"' || $4 || '\"}'";
    insert_revoked(
        tx,
        "agent_sessions",
        DATA,
        EventType::AgentSessionRevoked,
        revocation_id,
        actor,
        now,
    )
    .await
}

/// Makes the transactions that write events commit one after another from here on. On
/// PostgreSQL `seq` values are handed out at insert time but become visible at commit:
/// without this a reader could see seq 11 committed, move its cursor past it, and never
/// see seq 10 commit a moment later. With it, the next writer takes its first `seq` only
/// after the last one committed. Taken right before a transaction's first event, after
/// its row locks, so it is held only for the tail of the act. SQLite writers are
/// serialised already.
async fn hold_outbox(tx: &mut Tx) -> Result<(), StoreError> {
    if let Tx::Postgres(c) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.leash_outbox'))")
            .execute(&mut **c)
            .await?;
    }
    Ok(())
}

/// Writes one event.
pub async fn insert(
    tx: &mut Tx,
    event_type: EventType,
    data: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<EventId, StoreError> {
    hold_outbox(tx).await?;
    let id = EventId::generate();
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO events (id, type, created_at, data) VALUES ($1, $2, $3, $4)"
    )
    .bind(id.as_str())
    .bind(event_type.as_str())
    .bind(to_ms(now))
    .bind(data.to_string())
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(id)
}

/// `INSERT … SELECT` of one event per row of `table` marked with `revocation_id`, its
/// data built by the SQL expression `data` (`$4` is the actor).
async fn insert_revoked(
    tx: &mut Tx,
    table: &str,
    data: &str,
    event_type: EventType,
    revocation_id: &RevocationId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    hold_outbox(tx).await?;
    let sql = format!(
        "INSERT INTO events (id, type, created_at, data) \
         SELECT {id}, $2, $3, {data} FROM {table} WHERE revocation_id = $1",
        id = tx.numbered_id_sql(5)
    );
    let ids = NumberedIds::like(EventId::generate().as_str());
    let result = on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(revocation_id.as_str())
        .bind(event_type.as_str())
        .bind(to_ms(now))
        .bind(actor.label())
        .bind(&ids.prefix)
        .bind(ids.base)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(result)
}

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    id: String,
    r#type: String,
    created_at: i64,
    data: String,
}

/// Events after `after_seq`, oldest first.
pub async fn list_after(
    db: &Db,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<RecordedEvent>, StoreError> {
    list(db, after_seq, &[], limit).await
}

/// Events after `after_seq` of any of `types` (all types when empty), in `seq` order:
/// the cursor order of the events API.
pub async fn list(
    db: &Db,
    after_seq: i64,
    types: &[EventType],
    limit: u32,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let of_types = if types.is_empty() {
        String::new()
    } else {
        format!("AND type IN ({})", placeholders(3, types.len()))
    };
    let sql = format!(
        "SELECT seq, id, type, created_at, data FROM events WHERE seq > $1 {of_types} \
         ORDER BY seq LIMIT $2"
    );
    let rows = on_pool!(db, |c| {
        let mut query = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql))
            .bind(after_seq)
            .bind(i64::from(limit));
        for event_type in types {
            query = query.bind(event_type.as_str());
        }
        query.fetch_all(c).await
    })?;
    rows.into_iter()
        .map(|row| {
            Ok(RecordedEvent {
                seq: row.seq,
                id: EventId::from_stored(row.id),
                event_type: row.r#type,
                created_at: from_ms(row.created_at)?,
                data: serde_json::from_str(&row.data)
                    .map_err(|e| StoreError::Corrupt(format!("event data: {e}")))?,
            })
        })
        .collect()
}
