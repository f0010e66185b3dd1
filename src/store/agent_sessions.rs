//! Agent sessions: insert, look up by access-token hash, list, rotate the access token,
//! and revoke by selector, descendants included, in one set-based statement.

use chrono::{DateTime, Utc};

use super::time::{delta_from_ms, from_ms, to_ms};
use super::user_sessions::revoked_mark;
use super::{
    Db, INSERT_CHUNK, Reader, StoreError, Tx, on_pool, on_reader, on_tx, placeholders, scopes,
    token_hash, values,
};
use crate::domain::agent::AgentStatus;
use crate::domain::agent_session::{AgentSession, AgentValidity};
use crate::domain::id::{AgentId, AgentSessionId, GrantId, UserId, UserSessionId};
use crate::domain::pagination::ListFilter;
use crate::domain::scope::ScopeSet;
use crate::domain::token::TokenHash;
use crate::domain::user::UserStatus;

const COLUMNS: &str = "s.id, s.user_id, s.agent_id, s.grant_id, s.user_session_id, s.parent_id, \
                       s.depth, s.agent_chain, s.ancestor_ids, s.scopes, s.status, s.created_at, \
                       s.last_used_at, s.expires_at, s.idle_timeout_ms, s.revoked_at, \
                       s.revocation_id, s.revocation_cause";

/// The access token an agent session currently answers to.
#[derive(Debug, Clone, Copy)]
pub struct AccessToken {
    pub hash: TokenHash,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A session to store, with its first access token.
#[derive(Debug, Clone)]
pub struct NewAgentSession {
    pub session: AgentSession,
    pub access: AccessToken,
}

#[derive(sqlx::FromRow)]
struct AgentSessionRow {
    id: String,
    user_id: String,
    agent_id: String,
    grant_id: String,
    user_session_id: String,
    parent_id: Option<String>,
    depth: i32,
    agent_chain: String,
    ancestor_ids: String,
    scopes: String,
    status: String,
    created_at: i64,
    last_used_at: i64,
    expires_at: i64,
    idle_timeout_ms: i64,
    revoked_at: Option<i64>,
    revocation_id: Option<String>,
    revocation_cause: Option<String>,
}

fn ids_json<T: AsRef<str>>(ids: &[T]) -> String {
    serde_json::to_string(&ids.iter().map(AsRef::as_ref).collect::<Vec<&str>>())
        .unwrap_or_else(|_| "[]".to_owned())
}

fn ids_from_json<T>(raw: &str, wrap: fn(String) -> T) -> Result<Vec<T>, StoreError> {
    let ids: Vec<String> = serde_json::from_str(raw)
        .map_err(|e| StoreError::Corrupt(format!("id list {raw:?}: {e}")))?;
    Ok(ids.into_iter().map(wrap).collect())
}

impl TryFrom<AgentSessionRow> for AgentSession {
    type Error = StoreError;

    fn try_from(row: AgentSessionRow) -> Result<Self, StoreError> {
        let revoked = revoked_mark(
            &row.status,
            row.revoked_at,
            row.revocation_id,
            row.revocation_cause,
        )?;
        Ok(AgentSession {
            id: AgentSessionId::from_stored(row.id),
            user_id: UserId::from_stored(row.user_id),
            agent_id: AgentId::from_stored(row.agent_id),
            grant_id: GrantId::from_stored(row.grant_id),
            user_session_id: UserSessionId::from_stored(row.user_session_id),
            parent_id: row.parent_id.map(AgentSessionId::from_stored),
            depth: u32::try_from(row.depth)
                .map_err(|_| StoreError::Corrupt(format!("depth {}", row.depth)))?,
            agent_chain: ids_from_json(&row.agent_chain, AgentId::from_stored)?,
            ancestor_ids: ids_from_json(&row.ancestor_ids, AgentSessionId::from_stored)?,
            scopes: scopes::decode(&row.scopes)?,
            created_at: from_ms(row.created_at)?,
            last_used_at: from_ms(row.last_used_at)?,
            expires_at: from_ms(row.expires_at)?,
            idle_timeout: delta_from_ms(row.idle_timeout_ms),
            revoked,
        })
    }
}

/// Inserts active sessions, and their scopes one per row, with multi-row `INSERT`s.
pub async fn insert(tx: &mut Tx, sessions: &[NewAgentSession]) -> Result<(), StoreError> {
    const PER_ROW: usize = 18;
    for chunk in sessions.chunks(INSERT_CHUNK) {
        let values = values(tx.backend(), chunk.len(), PER_ROW);
        let sql = format!(
            "INSERT INTO agent_sessions (id, user_id, agent_id, grant_id, user_session_id, \
             parent_id, depth, agent_chain, ancestor_ids, scopes, access_hash, access_issued_at, \
             access_expires_at, created_at, last_used_at, expires_at, idle_timeout_ms, status) \
             VALUES {values}"
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for new in chunk {
                let s = &new.session;
                query = query
                    .bind(s.id.as_str())
                    .bind(s.user_id.as_str())
                    .bind(s.agent_id.as_str())
                    .bind(s.grant_id.as_str())
                    .bind(s.user_session_id.as_str())
                    .bind(s.parent_id.as_ref().map(AgentSessionId::as_str))
                    .bind(i32::try_from(s.depth).unwrap_or(i32::MAX))
                    .bind(ids_json(&s.agent_chain))
                    .bind(ids_json(&s.ancestor_ids))
                    .bind(s.scopes.to_space_separated())
                    .bind(new.access.hash.as_bytes().as_slice())
                    .bind(to_ms(new.access.issued_at))
                    .bind(to_ms(new.access.expires_at))
                    .bind(to_ms(s.created_at))
                    .bind(to_ms(s.last_used_at))
                    .bind(to_ms(s.expires_at))
                    .bind(s.idle_timeout.num_milliseconds())
                    .bind("active");
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
    }
    let scope_rows: Vec<(&str, &str)> = sessions
        .iter()
        .flat_map(|n| {
            n.session
                .scopes
                .iter()
                .map(|scope| (n.session.id.as_str(), scope.as_str()))
        })
        .collect();
    for chunk in scope_rows.chunks(INSERT_CHUNK) {
        let values = values(tx.backend(), chunk.len(), 2);
        let sql =
            format!("INSERT INTO agent_session_scopes (agent_session_id, scope) VALUES {values}");
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, scope) in chunk {
                query = query.bind(*id).bind(*scope);
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ValidityRow {
    #[sqlx(flatten)]
    session: AgentSessionRow,
    access_hash: Vec<u8>,
    access_issued_at: i64,
    access_expires_at: i64,
    user_status: String,
    agent_status: String,
    chain_active: i32,
}

/// What introspection needs to judge an access token, and when its session was last used.
pub async fn find_validity(
    reader: impl Into<Reader<'_>>,
    access_hash: &TokenHash,
) -> Result<Option<(AgentValidity, DateTime<Utc>)>, StoreError> {
    Ok(find_validities(reader, std::slice::from_ref(access_hash))
        .await?
        .pop()
        .map(|(_, validity, last_used)| (validity, last_used)))
}

/// [`find_validity`] for many access tokens in one statement (a batch of issuances);
/// each found one comes with its hash.
pub async fn find_validities(
    reader: impl Into<Reader<'_>>,
    access_hashes: &[TokenHash],
) -> Result<Vec<(TokenHash, AgentValidity, DateTime<Utc>)>, StoreError> {
    if access_hashes.is_empty() {
        return Ok(Vec::new());
    }
    let reader = reader.into();
    // The whole chain, not the row alone: the user session at the root and every
    // ancestor must be active too, so a session that escaped a revocation (it cannot,
    // under the revocation core's locks) would still not be served.
    let sql = format!(
        "SELECT {COLUMNS}, s.access_hash, s.access_issued_at, s.access_expires_at, \
                u.status AS user_status, a.status AS agent_status, \
                {chain_active} AS chain_active \
         FROM agent_sessions s JOIN users u ON u.id = s.user_id \
         JOIN agents a ON a.id = s.agent_id JOIN user_sessions r ON r.id = s.user_session_id \
         WHERE s.access_hash IN ({})",
        placeholders(1, access_hashes.len()),
        chain_active = chain_active_sql(&reader),
    );
    let rows = on_reader!(reader, |c| {
        let mut query = sqlx::query_as::<_, ValidityRow>(sqlx::AssertSqlSafe(sql));
        for hash in access_hashes {
            query = query.bind(hash.as_bytes().as_slice());
        }
        query.fetch_all(c).await
    })?;
    rows.into_iter().map(validity_from_row).collect()
}

/// 1 when the user session `r` at the root of session `s` and every ancestor of `s` are
/// active, else 0.
fn chain_active_sql(reader: &Reader<'_>) -> String {
    format!(
        "CASE WHEN r.status = 'active' AND NOT EXISTS ( \
           SELECT 1 FROM {} JOIN agent_sessions p ON p.id = j.value \
           WHERE p.status <> 'active') THEN 1 ELSE 0 END",
        reader.json_ids_table("s.ancestor_ids")
    )
}

/// Whether the user session at the root of `id` and all its ancestors are active.
pub async fn chain_active(tx: &mut Tx, id: &AgentSessionId) -> Result<bool, StoreError> {
    let reader = Reader::Tx(tx);
    let sql = format!(
        "SELECT {} FROM agent_sessions s JOIN user_sessions r ON r.id = s.user_session_id \
         WHERE s.id = $1",
        chain_active_sql(&reader)
    );
    let active: Option<i32> = on_reader!(reader, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(id.as_str())
        .fetch_optional(c)
        .await)?;
    Ok(active == Some(1))
}

fn validity_from_row(
    row: ValidityRow,
) -> Result<(TokenHash, AgentValidity, DateTime<Utc>), StoreError> {
    let user_status = UserStatus::parse(&row.user_status)
        .ok_or_else(|| StoreError::Corrupt(format!("user status {}", row.user_status)))?;
    let agent_status = AgentStatus::parse(&row.agent_status)
        .ok_or_else(|| StoreError::Corrupt(format!("agent status {}", row.agent_status)))?;
    let session = AgentSession::try_from(row.session)?;
    let validity = AgentValidity {
        revoked: session.revoked.as_ref().map(|mark| mark.cause),
        session_id: session.id,
        user_id: session.user_id,
        agent_id: session.agent_id,
        user_session_id: session.user_session_id,
        agent_chain: session.agent_chain,
        ancestor_ids: session.ancestor_ids,
        scopes: session.scopes,
        access_issued_at: from_ms(row.access_issued_at)?,
        access_expires_at: from_ms(row.access_expires_at)?,
        expires_at: session.expires_at,
        idle_timeout: session.idle_timeout,
        user_status,
        agent_status,
        chain_active: row.chain_active == 1,
    };
    Ok((token_hash(row.access_hash)?, validity, session.last_used_at))
}

pub async fn get(
    reader: impl Into<Reader<'_>>,
    id: &AgentSessionId,
) -> Result<Option<AgentSession>, StoreError> {
    let row = on_reader!(reader.into(), |c| sqlx::query_as::<_, AgentSessionRow>(
        sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM agent_sessions s WHERE s.id = $1"
        ))
    )
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    row.map(AgentSession::try_from).transpose()
}

/// The session an access token belongs to.
pub async fn by_access_hash(
    reader: impl Into<Reader<'_>>,
    hash: &TokenHash,
) -> Result<Option<AgentSession>, StoreError> {
    let row = on_reader!(reader.into(), |c| sqlx::query_as::<_, AgentSessionRow>(
        sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM agent_sessions s WHERE s.access_hash = $1"
        ))
    )
    .bind(hash.as_bytes().as_slice())
    .fetch_optional(c)
    .await)?;
    row.map(AgentSession::try_from).transpose()
}

/// The expiry of the session's current access token, inside a write transaction.
pub async fn access_expiry_in(
    tx: &mut Tx,
    id: &AgentSessionId,
) -> Result<DateTime<Utc>, StoreError> {
    let ms: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT access_expires_at FROM agent_sessions WHERE id = $1"
    )
    .bind(id.as_str())
    .fetch_one(c)
    .await)?;
    from_ms(ms)
}

/// Replaces the session's access token (a refresh), and records the use.
pub async fn rotate_access(
    tx: &mut Tx,
    id: &AgentSessionId,
    access: &AccessToken,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE agent_sessions SET access_hash = $2, access_issued_at = $3, access_expires_at = $4, \
         last_used_at = CASE WHEN last_used_at < $3 THEN $3 ELSE last_used_at END WHERE id = $1"
    )
    .bind(id.as_str())
    .bind(access.hash.as_bytes().as_slice())
    .bind(to_ms(access.issued_at))
    .bind(to_ms(access.expires_at))
    .execute(c)
    .await
    .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// A user's agent sessions, newest first, after `after` (an id), at most `limit`, each
/// with its agent's name.
pub async fn list(
    db: &Db,
    user_id: &UserId,
    filter: ListFilter,
    now: DateTime<Utc>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<(AgentSession, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        session: AgentSessionRow,
        agent_name: String,
    }
    let live = match filter {
        ListFilter::Active => {
            "AND s.status = 'active' AND s.expires_at > $4 AND s.last_used_at + s.idle_timeout_ms > $4"
        }
        ListFilter::All => "AND $4 = $4",
    };
    let sql = format!(
        "SELECT {COLUMNS}, a.name AS agent_name FROM agent_sessions s JOIN agents a ON a.id = s.agent_id \
         WHERE s.user_id = $1 AND ($2 = '' OR s.id < $2) {live} ORDER BY s.id DESC LIMIT $3"
    );
    let rows = on_pool!(db, |c| sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(user_id.as_str())
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .bind(to_ms(now))
        .fetch_all(c)
        .await)?;
    rows.into_iter()
        .map(|r| Ok((r.session.try_into()?, r.agent_name)))
        .collect()
}

/// How many active agent sessions the user holds, counting no further than `cap`.
pub async fn count_active_of_user(
    tx: &mut Tx,
    user_id: &UserId,
    now: DateTime<Utc>,
    cap: u32,
) -> Result<u64, StoreError> {
    super::count_capped(
        tx,
        "SELECT COUNT(*) FROM (SELECT 1 FROM agent_sessions WHERE user_id = $1 \
         AND status = 'active' AND expires_at > $2 LIMIT $3) c",
        user_id.as_str(),
        now,
        cap,
    )
    .await
}

/// How many active sub-delegations `parent` has, counting no further than `cap`.
pub async fn count_active_children(
    tx: &mut Tx,
    parent: &AgentSessionId,
    now: DateTime<Utc>,
    cap: u32,
) -> Result<u64, StoreError> {
    super::count_capped(
        tx,
        "SELECT COUNT(*) FROM (SELECT 1 FROM agent_sessions WHERE parent_id = $1 \
         AND status = 'active' AND expires_at > $2 LIMIT $3) c",
        parent.as_str(),
        now,
        cap,
    )
    .await
}

/// Narrows a session's scopes to `scopes` (a subset of what it holds).
pub async fn narrow(tx: &mut Tx, id: &AgentSessionId, scopes: &ScopeSet) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE agent_sessions SET scopes = $2 WHERE id = $1"
    )
    .bind(id.as_str())
    .bind(scopes.to_space_separated())
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    let sql = format!(
        "DELETE FROM agent_session_scopes WHERE agent_session_id = $1 AND scope NOT IN ({})",
        placeholders(2, scopes.len())
    );
    on_tx!(tx, |c| {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.as_str());
        for scope in scopes.iter() {
            query = query.bind(scope.as_str());
        }
        query.execute(c).await.map(|done| done.rows_affected())
    })?;
    Ok(())
}
