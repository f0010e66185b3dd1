//! Grants: a user's consent for one agent.

use super::time::{from_ms, to_ms};
use super::{Db, Reader, StoreError, Tx, on_pool, on_reader, on_tx, placeholders, scopes};
use crate::domain::grant::{Grant, GrantStatus};
use crate::domain::id::{AgentId, GrantId, UserId};

const COLUMNS: &str = "id, user_id, agent_id, scopes, status, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: String,
    user_id: String,
    agent_id: String,
    scopes: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<GrantRow> for Grant {
    type Error = StoreError;

    fn try_from(row: GrantRow) -> Result<Self, StoreError> {
        Ok(Grant {
            id: GrantId::from_stored(row.id),
            user_id: UserId::from_stored(row.user_id),
            agent_id: AgentId::from_stored(row.agent_id),
            scopes: scopes::decode(&row.scopes)?,
            status: GrantStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("grant status {}", row.status)))?,
            created_at: from_ms(row.created_at)?,
            updated_at: from_ms(row.updated_at)?,
        })
    }
}

/// Inserts an active grant; [`StoreError::Conflict`] if the user already has an active
/// grant for this agent.
pub async fn insert(tx: &mut Tx, grant: &Grant) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO grants (id, user_id, agent_id, scopes, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(grant.id.as_str())
    .bind(grant.user_id.as_str())
    .bind(grant.agent_id.as_str())
    .bind(grant.scopes.to_space_separated())
    .bind(grant.status.as_str())
    .bind(to_ms(grant.created_at))
    .bind(to_ms(grant.updated_at))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

pub async fn get(reader: impl Into<Reader<'_>>, id: &GrantId) -> Result<Option<Grant>, StoreError> {
    let row = on_reader!(reader.into(), |c| sqlx::query_as::<_, GrantRow>(
        sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM grants WHERE id = $1"))
    )
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    row.map(Grant::try_from).transpose()
}

/// A user's grants after `after` (a grant id), newest first, at most `limit`.
pub async fn list_for_user(
    db: &Db,
    user_id: &UserId,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Grant>, StoreError> {
    let rows = on_pool!(db, |c| {
        sqlx::query_as::<_, GrantRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM grants WHERE user_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3"
    )))
    .bind(user_id.as_str())
    .bind(after.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(c)
    .await
    })?;
    rows.into_iter().map(Grant::try_from).collect()
}

/// The user's active grant for the agent.
pub async fn active_for(
    reader: impl Into<Reader<'_>>,
    user_id: &UserId,
    agent_id: &AgentId,
) -> Result<Option<Grant>, StoreError> {
    let row = on_reader!(reader.into(), |c| {
        sqlx::query_as::<_, GrantRow>(sqlx::AssertSqlSafe(
        format!(
            "SELECT {COLUMNS} FROM grants WHERE user_id = $1 AND agent_id = $2 AND status = 'active'"
        )
    ))
    .bind(user_id.as_str())
    .bind(agent_id.as_str())
    .fetch_optional(c)
    .await
    })?;
    row.map(Grant::try_from).transpose()
}

/// Writes the grant's scopes, status and `updated_at`.
pub async fn update(tx: &mut Tx, grant: &Grant) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE grants SET scopes = $2, status = $3, updated_at = $4 WHERE id = $1"
    )
    .bind(grant.id.as_str())
    .bind(grant.scopes.to_space_separated())
    .bind(grant.status.as_str())
    .bind(to_ms(grant.updated_at))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// The active grants of any of `users` for any of `agents`, in one statement (a batch
/// of issuances); the caller picks the pairs it wants.
pub async fn active_among(
    tx: &mut Tx,
    users: &[&UserId],
    agents: &[&AgentId],
) -> Result<Vec<Grant>, StoreError> {
    if users.is_empty() || agents.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM grants WHERE status = 'active' AND user_id IN ({}) AND agent_id IN ({})",
        placeholders(1, users.len()),
        placeholders(users.len() + 1, agents.len())
    );
    let rows = on_tx!(tx, |c| {
        let mut query = sqlx::query_as::<_, GrantRow>(sqlx::AssertSqlSafe(sql));
        for user in users {
            query = query.bind(user.as_str());
        }
        for agent in agents {
            query = query.bind(agent.as_str());
        }
        query.fetch_all(c).await
    })?;
    rows.into_iter().map(Grant::try_from).collect()
}
