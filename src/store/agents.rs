//! Agents: stored with the hash of their client secret.

use chrono::{DateTime, Utc};

use super::time::{delta_from_ms, from_ms, to_ms};
use super::{Db, LockMode, StoreError, Tx, on_pool, on_tx, placeholders, scopes, token_hash};
use crate::domain::agent::{Agent, AgentStatus};
use crate::domain::id::AgentId;
use crate::domain::token::TokenHash;
use crate::domain::user_session::Lifetime;

const COLUMNS: &str = "id, name, scopes, status, session_ttl_ms, session_idle_timeout_ms, \
                       created_at, secret_rotated_at";

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: String,
    name: String,
    scopes: String,
    status: String,
    session_ttl_ms: Option<i64>,
    session_idle_timeout_ms: Option<i64>,
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
            session_lifetime: match (row.session_ttl_ms, row.session_idle_timeout_ms) {
                (Some(ttl), Some(idle)) => Some(Lifetime {
                    ttl: delta_from_ms(ttl),
                    idle_timeout: delta_from_ms(idle),
                }),
                _ => None,
            },
            created_at: from_ms(row.created_at)?,
            secret_rotated_at: from_ms(row.secret_rotated_at)?,
        })
    }
}

fn lifetime_ms(agent: &Agent) -> (Option<i64>, Option<i64>) {
    agent.session_lifetime.map_or((None, None), |l| {
        (
            Some(l.ttl.num_milliseconds()),
            Some(l.idle_timeout.num_milliseconds()),
        )
    })
}

pub async fn insert(tx: &mut Tx, agent: &Agent, secret_hash: &TokenHash) -> Result<(), StoreError> {
    let (ttl, idle) = lifetime_ms(agent);
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO agents (id, name, scopes, secret_hash, status, session_ttl_ms, \
         session_idle_timeout_ms, created_at, secret_rotated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(agent.id.as_str())
    .bind(&agent.name)
    .bind(agent.scopes.to_space_separated())
    .bind(secret_hash.as_bytes().as_slice())
    .bind(agent.status.as_str())
    .bind(ttl)
    .bind(idle)
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

/// The agent and the hash of its client secret, to authenticate it.
pub async fn with_secret_hash(
    db: &Db,
    id: &AgentId,
) -> Result<Option<(Agent, TokenHash)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        agent: AgentRow,
        secret_hash: Vec<u8>,
    }
    let row = on_pool!(db, |c| sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(
        format!("SELECT {COLUMNS}, secret_hash FROM agents WHERE id = $1")
    ))
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((row.agent.try_into()?, token_hash(row.secret_hash)?)))
}

/// Reads the agents `ids` and holds their row locks until the transaction ends, so an
/// issuance and a change of one of its agents never interleave. SQLite needs no row
/// lock: every write transaction already holds the database's write lock.
/// Whether an agent of this id is registered (whatever its status).
pub async fn exists_in(tx: &mut Tx, id: &AgentId) -> Result<bool, StoreError> {
    let found: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT id FROM agents WHERE id = $1"
    )
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    Ok(found.is_some())
}

pub async fn lock(tx: &mut Tx, ids: &[AgentId], mode: LockMode) -> Result<Vec<Agent>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM agents WHERE id IN ({}) ORDER BY id{}",
        placeholders(1, ids.len()),
        tx.lock_clause(mode)
    );
    let rows = on_tx!(tx, |c| {
        let mut query = sqlx::query_as::<_, AgentRow>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id.as_str());
        }
        query.fetch_all(c).await
    })?;
    rows.into_iter().map(Agent::try_from).collect()
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

/// Writes the agent's name, ceiling, status and session lifetime.
pub async fn update(tx: &mut Tx, agent: &Agent) -> Result<(), StoreError> {
    let (ttl, idle) = lifetime_ms(agent);
    on_tx!(tx, |c| sqlx::query(
        "UPDATE agents SET name = $2, scopes = $3, status = $4, session_ttl_ms = $5, \
         session_idle_timeout_ms = $6 WHERE id = $1"
    )
    .bind(agent.id.as_str())
    .bind(&agent.name)
    .bind(agent.scopes.to_space_separated())
    .bind(agent.status.as_str())
    .bind(ttl)
    .bind(idle)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// The names of the agents `ids` names, in one statement.
pub async fn names(
    db: &Db,
    ids: &[&AgentId],
) -> Result<std::collections::HashMap<AgentId, String>, StoreError> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let sql = format!(
        "SELECT id, name FROM agents WHERE id IN ({})",
        super::placeholders(1, ids.len())
    );
    let rows: Vec<(String, String)> = on_pool!(db, |c| {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id.as_str());
        }
        query.fetch_all(c).await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| (AgentId::from_stored(id), name))
        .collect())
}
