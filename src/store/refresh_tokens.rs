//! Refresh tokens: the current one of each agent session, and the retired ones kept to
//! recognise reuse.

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{INSERT_CHUNK, Reader, StoreError, Tx, on_reader, on_tx, values};
use crate::domain::id::AgentSessionId;
use crate::domain::token::TokenHash;

/// A refresh token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefreshToken {
    pub agent_session_id: AgentSessionId,
    /// When it was exchanged for its successor; `None` while it is current.
    pub rotated_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    tx: &mut Tx,
    hash: &TokenHash,
    agent_session_id: &AgentSessionId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    insert_all(tx, &[(*hash, agent_session_id, now)]).await
}

/// Inserts current refresh tokens `(hash, agent session, issued at)`, multi-row.
pub async fn insert_all(
    tx: &mut Tx,
    tokens: &[(TokenHash, &AgentSessionId, DateTime<Utc>)],
) -> Result<(), StoreError> {
    for chunk in tokens.chunks(INSERT_CHUNK) {
        let values = values(tx.backend(), chunk.len(), 3);
        let sql = format!(
            "INSERT INTO refresh_tokens (token_hash, agent_session_id, issued_at) VALUES {values}"
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (hash, id, at) in chunk {
                query = query
                    .bind(hash.as_bytes().as_slice())
                    .bind(id.as_str())
                    .bind(to_ms(*at));
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

pub async fn find(
    reader: impl Into<Reader<'_>>,
    hash: &TokenHash,
) -> Result<Option<StoredRefreshToken>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        agent_session_id: String,
        rotated_at: Option<i64>,
    }
    let row = on_reader!(reader.into(), |c| sqlx::query_as::<_, Row>(
        "SELECT agent_session_id, rotated_at FROM refresh_tokens WHERE token_hash = $1"
    )
    .bind(hash.as_bytes().as_slice())
    .fetch_optional(c)
    .await)?;
    row.map(|r| {
        Ok(StoredRefreshToken {
            agent_session_id: AgentSessionId::from_stored(r.agent_session_id),
            rotated_at: r.rotated_at.map(from_ms).transpose()?,
        })
    })
    .transpose()
}

/// Retires the token: it was exchanged for its successor at `now`.
pub async fn retire(tx: &mut Tx, hash: &TokenHash, now: DateTime<Utc>) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1"
    )
    .bind(hash.as_bytes().as_slice())
    .bind(to_ms(now))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}
