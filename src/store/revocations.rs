//! Revocation acts and their previews, set-based: one statement per session kind, built
//! from the selector's SQL (`super::selection`), never a loop over rows.

use chrono::{DateTime, Utc};

use super::selection::{self, Lock, Selection};
use super::time::{from_ms, to_ms};
use super::{Reader, StoreError, Tx, on_reader, on_tx};
use crate::domain::id::{AgentId, RevocationId, UserId};
use crate::domain::revocation::{
    Preview, PreviewedSession, Reach, Revocation, RevocationCause, Selector, SessionKind,
};

/// Takes the row locks every issuance under what `selector` names also takes (in share
/// mode), for update, and says whose they are: the users' rows for selectors within
/// users, the agent's row for selectors across users. An issuance that began before is
/// waited for, and its session is then hit; one that begins after sees the revocation
/// when it judges its subject again under its own locks. A foreign-key check from a new
/// child row does not conflict with updating the parent, so without this lock a child
/// issued meanwhile would escape. SQLite takes no row locks (its write transactions are
/// serialised) but reads the same rows.
pub async fn lock_selected(tx: &mut Tx, selector: &Selector) -> Result<Reach, StoreError> {
    let selection = Selection::of(selector, 1);
    let postgres = matches!(tx, Tx::Postgres(_));
    let (sql, of_users) = match &selection.lock {
        Lock::Users(predicate) => (
            format!(
                "SELECT u.id FROM users u WHERE {predicate} ORDER BY u.id{}",
                if postgres { " FOR UPDATE OF u" } else { "" }
            ),
            true,
        ),
        Lock::Agent(predicate) => (
            format!(
                "SELECT a.id FROM agents a WHERE {predicate}{}",
                if postgres { " FOR UPDATE OF a" } else { "" }
            ),
            false,
        ),
    };
    let ids: Vec<String> = on_tx!(tx, |c| {
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for key in &selection.keys[..selection.lock_keys] {
            query = query.bind(key.as_ref());
        }
        query.fetch_all(c).await
    })?;
    Ok(if of_users || ids.is_empty() {
        Reach::Users(ids.into_iter().map(UserId::from_stored).collect())
    } else {
        Reach::AcrossUsers
    })
}

/// What the revocation record keeps of `selector`: a JSON object of what it names, the
/// same for the same selector.
pub fn selector_json(selector: &Selector) -> String {
    selection::to_json(selector)
}

/// Inserts the record before the rows it revokes point to it; [`set_counts`] fills in
/// what the act hit once the cascade has run.
pub async fn insert(
    tx: &mut Tx,
    revocation: &Revocation,
    selector: &Selector,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO revocations (id, cause, actor, reason, selector, user_sessions_revoked, \
         agent_sessions_revoked, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(revocation.id.as_str())
    .bind(revocation.cause.as_str())
    .bind(&revocation.actor)
    .bind(revocation.reason.as_deref())
    .bind(selector_json(selector))
    .bind(count(revocation.user_sessions_revoked))
    .bind(count(revocation.agent_sessions_revoked))
    .bind(to_ms(revocation.created_at))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

pub async fn set_counts(tx: &mut Tx, revocation: &Revocation) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE revocations SET user_sessions_revoked = $2, agent_sessions_revoked = $3 WHERE id = $1"
    )
    .bind(revocation.id.as_str())
    .bind(count(revocation.user_sessions_revoked))
    .bind(count(revocation.agent_sessions_revoked))
    .execute(c)
    .await
    .map(|done| done.rows_affected())
    })?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RevocationRow {
    id: String,
    cause: String,
    actor: String,
    reason: Option<String>,
    user_sessions_revoked: i64,
    agent_sessions_revoked: i64,
    created_at: i64,
}

/// The record of one act, as it was answered.
pub async fn find(
    reader: impl Into<Reader<'_>>,
    id: &RevocationId,
) -> Result<Option<Revocation>, StoreError> {
    let row: Option<RevocationRow> = on_reader!(reader.into(), |c| sqlx::query_as(
        "SELECT id, cause, actor, reason, user_sessions_revoked, agent_sessions_revoked, \
         created_at FROM revocations WHERE id = $1"
    )
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    row.map(|row| {
        Ok(Revocation {
            id: RevocationId::from_stored(row.id),
            cause: super::user_sessions::cause(&row.cause)?,
            actor: row.actor,
            reason: row.reason,
            user_sessions_revoked: u64::try_from(row.user_sessions_revoked).unwrap_or(0),
            agent_sessions_revoked: u64::try_from(row.agent_sessions_revoked).unwrap_or(0),
            created_at: from_ms(row.created_at)?,
        })
    })
    .transpose()
}

/// What one act hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub user_sessions: u64,
    pub agent_sessions: u64,
}

/// Marks every session `selector` names that is still active at `now` as revoked by
/// `revocation_id`: its user sessions, then its agent sessions with their descendants,
/// one statement each.
pub async fn revoke(
    tx: &mut Tx,
    selector: &Selector,
    revocation_id: &RevocationId,
    cause: RevocationCause,
    now: DateTime<Utc>,
) -> Result<Hit, StoreError> {
    const SET: &str = "SET status = 'revoked', revoked_at = $1, revocation_id = $2, \
                       revocation_cause = $3";
    let selection = Selection::of(selector, 4);
    let act = Act {
        now,
        revocation_id,
        cause,
        selection: &selection,
    };
    let user_sessions = match &selection.user_sessions {
        Some(predicate) => {
            act.mark(
                tx,
                selection::user_sessions(&format!("UPDATE user_sessions {SET}"), predicate),
            )
            .await?
        }
        None => 0,
    };
    let agent_sessions = act
        .mark(
            tx,
            selection
                .agent_sessions
                .apply(&format!("UPDATE agent_sessions {SET}")),
        )
        .await?;
    Ok(Hit {
        user_sessions,
        agent_sessions,
    })
}

/// The parameters every statement of one act binds.
struct Act<'a> {
    now: DateTime<Utc>,
    revocation_id: &'a RevocationId,
    cause: RevocationCause,
    selection: &'a Selection<'a>,
}

impl Act<'_> {
    /// Runs one `UPDATE` of the act; returns how many rows it marked.
    async fn mark(&self, tx: &mut Tx, sql: String) -> Result<u64, StoreError> {
        let rows = on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(to_ms(self.now))
                .bind(self.revocation_id.as_str())
                .bind(self.cause.as_str());
            for key in &self.selection.keys {
                query = query.bind(key.as_ref());
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
        Ok(rows)
    }
}

/// What [`revoke`] would hit at `now`, changing nothing: the counts, and up to `sample`
/// sessions of each kind, oldest first.
pub async fn preview(
    mut reader: Reader<'_>,
    selector: &Selector,
    now: DateTime<Utc>,
    sample: u32,
) -> Result<Preview, StoreError> {
    let selection = Selection::of(selector, 2);
    let mut preview = Preview::default();
    if let Some(predicate) = &selection.user_sessions {
        let count_sql = selection::user_sessions("SELECT COUNT(*) FROM user_sessions", predicate);
        preview.user_sessions = scalar(reader.reborrow(), count_sql, &selection, now).await?;
        let sample_sql = selection::user_sessions(
            "SELECT id, user_id, NULL AS agent_id, ip_address, created_at FROM user_sessions",
            predicate,
        );
        preview.sample.extend(
            sampled(
                reader.reborrow(),
                sample_sql,
                &selection,
                now,
                sample,
                SessionKind::User,
            )
            .await?,
        );
    }
    let count_sql = selection
        .agent_sessions
        .apply("SELECT COUNT(*) FROM agent_sessions");
    preview.agent_sessions = scalar(reader.reborrow(), count_sql, &selection, now).await?;
    let sample_sql = selection
        .agent_sessions
        .apply("SELECT id, user_id, agent_id, NULL AS ip_address, created_at FROM agent_sessions");
    preview.sample.extend(
        sampled(
            reader,
            sample_sql,
            &selection,
            now,
            sample,
            SessionKind::Agent,
        )
        .await?,
    );
    Ok(preview)
}

async fn scalar(
    reader: Reader<'_>,
    sql: String,
    selection: &Selection<'_>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let n: i64 = on_reader!(reader, |c| {
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(to_ms(now));
        for key in &selection.keys {
            query = query.bind(key.as_ref());
        }
        query.fetch_one(c).await
    })?;
    Ok(u64::try_from(n).unwrap_or(0))
}

#[derive(sqlx::FromRow)]
struct SampledRow {
    id: String,
    user_id: String,
    agent_id: Option<String>,
    ip_address: Option<String>,
    created_at: i64,
}

async fn sampled(
    reader: Reader<'_>,
    sql: String,
    selection: &Selection<'_>,
    now: DateTime<Utc>,
    limit: u32,
    kind: SessionKind,
) -> Result<Vec<PreviewedSession>, StoreError> {
    let sql = format!("{sql} ORDER BY created_at, id LIMIT {limit}");
    let rows: Vec<SampledRow> = on_reader!(reader, |c| {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(to_ms(now));
        for key in &selection.keys {
            query = query.bind(key.as_ref());
        }
        query.fetch_all(c).await
    })?;
    rows.into_iter()
        .map(|row| {
            Ok(PreviewedSession {
                kind,
                id: row.id,
                user_id: UserId::from_stored(row.user_id),
                agent_id: row.agent_id.map(AgentId::from_stored),
                ip_address: row.ip_address,
                created_at: from_ms(row.created_at)?,
            })
        })
        .collect()
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
