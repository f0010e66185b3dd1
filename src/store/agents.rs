//! Agents: stored with the hash of their client secret.

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{Db, StoreError, Tx, on_pool, on_tx, scopes};
use crate::domain::agent::{Agent, AgentStatus};
use crate::domain::id::AgentId;
use crate::domain::token::TokenHash;

const COLUMNS: &str = "id, name, scopes, status, created_at, secret_rotated_at";

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: String,
    name: String,
    scopes: String,
    status: String,
    created_at: i64,
    secret_rotated_at: i64,
}

impl TryFrom<AgentRow> for Agent {
    type Error = StoreError;

    fn try_from(row: AgentRow) -> Result<Self, StoreError> {
        Ok(Agent {
            id: AgentId::from_stored(row.id),
            name: row.name,
            scopes: scopes::decode(&row.scopes)?,
            status: AgentStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("agent status {}", row.status)))?,
            created_at: from_ms(row.created_at)?,
            secret_rotated_at: from_ms(row.secret_rotated_at)?,
        })
    }
}

pub async fn insert(tx: &mut Tx, agent: &Agent, secret_hash: &TokenHash) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO agents (id, name, scopes, secret_hash, status, created_at, secret_rotated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(agent.id.as_str())
    .bind(&agent.name)
    .bind(agent.scopes.to_space_separated())
    .bind(secret_hash.as_bytes().as_slice())
    .bind(agent.status.as_str())
    .bind(to_ms(agent.created_at))
    .bind(to_ms(agent.secret_rotated_at))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

pub async fn get(db: &Db, id: &AgentId) -> Result<Option<Agent>, StoreError> {
    let row = on_pool!(db, |c| sqlx::query_as::<_, AgentRow>(sqlx::AssertSqlSafe(
        format!("SELECT {COLUMNS} FROM agents WHERE id = $1")
    ))
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    row.map(Agent::try_from).transpose()
}

/// Agents after `after` (an agent id), newest first, at most `limit`.
pub async fn list(db: &Db, after: Option<&str>, limit: u32) -> Result<Vec<Agent>, StoreError> {
    let rows = on_pool!(db, |c| sqlx::query_as::<_, AgentRow>(sqlx::AssertSqlSafe(
        format!(
            "SELECT {COLUMNS} FROM agents WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2"
        )
    ))
    .bind(after.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(c)
    .await)?;
    rows.into_iter().map(Agent::try_from).collect()
}

/// Replaces the client secret; the old one stops working at commit.
pub async fn set_secret(
    tx: &mut Tx,
    id: &AgentId,
    secret_hash: &TokenHash,
    now: DateTime<Utc>,
) -> Result<Agent, StoreError> {
    let row = on_tx!(tx, |c| {
        sqlx::query_as::<_, AgentRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE agents SET secret_hash = $2, secret_rotated_at = $3 WHERE id = $1 RETURNING {COLUMNS}"
    )))
    .bind(id.as_str())
    .bind(secret_hash.as_bytes().as_slice())
    .bind(to_ms(now))
    .fetch_optional(c)
    .await
    })?;
    row.ok_or(StoreError::NotFound)?.try_into()
}
