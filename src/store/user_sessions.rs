//! User sessions: insert, look up by token hash, list, and revoke by selector in one
//! set-based statement. Last use is written by `super::last_use`.

use core::net::IpAddr;

use chrono::{DateTime, Utc};

use super::time::{delta_from_ms, from_ms, to_ms};
use super::{
    Db, Reader, StoreError, Tx, on_pool, on_reader, on_tx, placeholders, token_hash, values,
};
use crate::domain::id::{RevocationId, UserId, UserSessionId};
use crate::domain::ip_range::{IpKey, ip_key};
use crate::domain::pagination::ListFilter;
use crate::domain::revocation::RevocationCause;
use crate::domain::token::TokenHash;
use crate::domain::user::UserStatus;
use crate::domain::user_session::{RevokedMark, UserSession, Validity};

const COLUMNS: &str = "id, user_id, status, ip_address, user_agent, created_at, last_seen_at, \
                       expires_at, idle_timeout_ms, revoked_at, revocation_id, revocation_cause";

use super::INSERT_CHUNK;

/// A session to store, with the hash of its token.
#[derive(Debug, Clone)]
pub struct NewUserSession {
    pub session: UserSession,
    pub token_hash: TokenHash,
}

#[derive(sqlx::FromRow)]
struct UserSessionRow {
    id: String,
    user_id: String,
    status: String,
    ip_address: Option<String>,
    user_agent: Option<String>,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    idle_timeout_ms: i64,
    revoked_at: Option<i64>,
    revocation_id: Option<String>,
    revocation_cause: Option<String>,
}

pub(super) fn cause(raw: &str) -> Result<RevocationCause, StoreError> {
    RevocationCause::parse(raw)
        .ok_or_else(|| StoreError::Corrupt(format!("revocation cause {raw}")))
}

/// The revocation a session row carries, if its status says revoked.
pub(super) fn revoked_mark(
    status: &str,
    revoked_at: Option<i64>,
    revocation_id: Option<String>,
    revocation_cause: Option<String>,
) -> Result<Option<RevokedMark>, StoreError> {
    match (status, revoked_at, revocation_id, revocation_cause) {
        ("active", ..) => Ok(None),
        ("revoked", Some(at), Some(id), Some(raw_cause)) => Ok(Some(RevokedMark {
            at: from_ms(at)?,
            revocation_id: RevocationId::from_stored(id),
            cause: cause(&raw_cause)?,
        })),
        (status, ..) => Err(StoreError::Corrupt(format!("session status {status}"))),
    }
}

impl TryFrom<UserSessionRow> for UserSession {
    type Error = StoreError;

    fn try_from(row: UserSessionRow) -> Result<Self, StoreError> {
        let revoked = revoked_mark(
            &row.status,
            row.revoked_at,
            row.revocation_id,
            row.revocation_cause,
        )?;
        Ok(UserSession {
            id: UserSessionId::from_stored(row.id),
            user_id: UserId::from_stored(row.user_id),
            ip_address: row.ip_address,
            user_agent: row.user_agent,
            created_at: from_ms(row.created_at)?,
            last_seen_at: from_ms(row.last_seen_at)?,
            expires_at: from_ms(row.expires_at)?,
            idle_timeout: delta_from_ms(row.idle_timeout_ms),
            revoked,
        })
    }
}

/// Inserts sessions with multi-row `INSERT`s. Sessions are always created active.
pub async fn insert(tx: &mut Tx, sessions: &[NewUserSession]) -> Result<(), StoreError> {
    for chunk in sessions.chunks(INSERT_CHUNK) {
        let values = values(tx.backend(), chunk.len(), 11);
        let sql = format!(
            "INSERT INTO user_sessions (id, user_id, token_hash, ip_address, ip_key, \
             user_agent, created_at, last_seen_at, expires_at, idle_timeout_ms, status) \
             VALUES {values}"
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for new in chunk {
                let s = &new.session;
                query = query
                    .bind(s.id.as_str())
                    .bind(s.user_id.as_str())
                    .bind(new.token_hash.as_bytes().as_slice())
                    .bind(s.ip_address.as_deref())
                    .bind(stored_ip_key(s.ip_address.as_deref()))
                    .bind(s.user_agent.as_deref())
                    .bind(to_ms(s.created_at))
                    .bind(to_ms(s.last_seen_at))
                    .bind(to_ms(s.expires_at))
                    .bind(s.idle_timeout.num_milliseconds())
                    .bind("active");
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// How an address is stored in `ip_key`: 32 lowercase hex digits, which sort as the
/// key's bytes do.
pub(super) fn ip_key_text(key: IpKey) -> String {
    format!("{:032x}", u128::from_be_bytes(key))
}

/// The `ip_key` of a sign-in's `ip_address`: none without one, `''` when it is not an
/// address (the host sends what it has).
fn stored_ip_key(ip_address: Option<&str>) -> Option<String> {
    ip_address.map(|raw| {
        raw.trim()
            .parse::<IpAddr>()
            .map_or_else(|_| String::new(), |ip| ip_key_text(ip_key(ip)))
    })
}

/// Fills in `ip_key` on sessions stored before it existed, a batch per transaction;
/// returns how many. Run at start-up: what a stop interrupts, the next start finishes.
pub async fn fill_ip_keys(db: &Db) -> Result<u64, StoreError> {
    const BATCH: i64 = 500;
    let mut filled = 0;
    loop {
        let mut tx = db.begin().await?;
        let rows: Vec<(String, String)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT id, ip_address FROM user_sessions \
             WHERE ip_key IS NULL AND ip_address IS NOT NULL ORDER BY id LIMIT $1"
        )
        .bind(BATCH)
        .fetch_all(c)
        .await)?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(filled);
        }
        // One statement per batch: each id ($odd) with its key ($even).
        let cases: Vec<String> = (0..rows.len())
            .map(|i| format!("WHEN ${} THEN ${}", 2 * i + 1, 2 * i + 2))
            .collect();
        let ids: Vec<String> = (0..rows.len()).map(|i| format!("${}", 2 * i + 1)).collect();
        let sql = format!(
            "UPDATE user_sessions SET ip_key = CASE id {} END WHERE id IN ({})",
            cases.join(" "),
            ids.join(", ")
        );
        on_tx!(&mut tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, ip_address) in &rows {
                query = query.bind(id).bind(stored_ip_key(Some(ip_address)));
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
        tx.commit().await?;
        filled += rows.len() as u64;
    }
}

#[derive(sqlx::FromRow)]
struct ValidityRow {
    token_hash: Vec<u8>,
    id: String,
    user_id: String,
    status: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    idle_timeout_ms: i64,
    revocation_cause: Option<String>,
    user_status: String,
}

/// What introspection needs to judge a token, and when the session was last seen.
pub async fn find_validity(
    reader: impl Into<Reader<'_>>,
    hash: &TokenHash,
) -> Result<Option<(Validity, DateTime<Utc>)>, StoreError> {
    Ok(find_validities(reader, std::slice::from_ref(hash))
        .await?
        .pop()
        .map(|(_, validity, last_seen)| (validity, last_seen)))
}

/// [`find_validity`] for many tokens in one statement (a batch of issuances); each
/// found one comes with its hash.
pub async fn find_validities(
    reader: impl Into<Reader<'_>>,
    hashes: &[TokenHash],
) -> Result<Vec<(TokenHash, Validity, DateTime<Utc>)>, StoreError> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = validity_sql(&format!(
        "s.token_hash IN ({})",
        placeholders(1, hashes.len())
    ));
    let rows = on_reader!(reader.into(), |c| {
        let mut query = sqlx::query_as::<_, ValidityRow>(sqlx::AssertSqlSafe(sql));
        for hash in hashes {
            query = query.bind(hash.as_bytes().as_slice());
        }
        query.fetch_all(c).await
    })?;
    rows.into_iter().map(validity_from_row).collect()
}

/// [`find_validity`] of the session `id`, with its token's hash.
pub async fn find_validity_by_id(
    reader: impl Into<Reader<'_>>,
    id: &UserSessionId,
) -> Result<Option<(TokenHash, Validity, DateTime<Utc>)>, StoreError> {
    let row = on_reader!(reader.into(), |c| sqlx::query_as::<_, ValidityRow>(
        sqlx::AssertSqlSafe(validity_sql("s.id = $1"))
    )
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    row.map(validity_from_row).transpose()
}

/// What judging a session reads, for the sessions `predicate` (over `s`) names.
fn validity_sql(predicate: &str) -> String {
    format!(
        "SELECT s.token_hash, s.id, s.user_id, s.status, s.created_at, s.last_seen_at, s.expires_at, \
                s.idle_timeout_ms, s.revocation_cause, u.status AS user_status \
         FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE {predicate}"
    )
}

fn validity_from_row(row: ValidityRow) -> Result<(TokenHash, Validity, DateTime<Utc>), StoreError> {
    let revoked = match (row.status.as_str(), row.revocation_cause) {
        ("active", _) => None,
        ("revoked", Some(raw)) => Some(cause(&raw)?),
        (status, _) => return Err(StoreError::Corrupt(format!("user session status {status}"))),
    };
    let validity = Validity {
        session_id: UserSessionId::from_stored(row.id),
        user_id: UserId::from_stored(row.user_id),
        created_at: from_ms(row.created_at)?,
        expires_at: from_ms(row.expires_at)?,
        idle_timeout: delta_from_ms(row.idle_timeout_ms),
        revoked,
        user_status: UserStatus::parse(&row.user_status)
            .ok_or_else(|| StoreError::Corrupt(format!("user status {}", row.user_status)))?,
    };
    Ok((
        token_hash(row.token_hash)?,
        validity,
        from_ms(row.last_seen_at)?,
    ))
}

pub async fn get(
    reader: impl Into<Reader<'_>>,
    id: &UserSessionId,
) -> Result<Option<UserSession>, StoreError> {
    let row = on_reader!(reader.into(), |c| sqlx::query_as::<_, UserSessionRow>(
        sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM user_sessions WHERE id = $1"))
    )
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    row.map(UserSession::try_from).transpose()
}

/// The user a session belongs to, read inside a write transaction.
pub async fn owner(tx: &mut Tx, id: &UserSessionId) -> Result<Option<UserId>, StoreError> {
    let owner: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT user_id FROM user_sessions WHERE id = $1"
    )
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    Ok(owner.map(UserId::from_stored))
}

/// A user's sessions, newest first, after `after` (a session id), at most `limit`.
/// How many active user sessions the user holds, counting no further than `cap`.
pub async fn count_active(
    tx: &mut Tx,
    user_id: &UserId,
    now: DateTime<Utc>,
    cap: u32,
) -> Result<u64, StoreError> {
    super::count_capped(
        tx,
        "SELECT COUNT(*) FROM (SELECT 1 FROM user_sessions WHERE user_id = $1 \
         AND status = 'active' AND expires_at > $2 LIMIT $3) c",
        user_id.as_str(),
        now,
        cap,
    )
    .await
}

pub async fn list(
    db: &Db,
    user_id: &UserId,
    filter: ListFilter,
    now: DateTime<Utc>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<UserSession>, StoreError> {
    let live = match filter {
        ListFilter::Active => {
            "AND status = 'active' AND expires_at > $4 AND last_seen_at + idle_timeout_ms > $4"
        }
        ListFilter::All => "",
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM user_sessions WHERE user_id = $1 AND ($2 = '' OR id < $2) {live} \
         ORDER BY id DESC LIMIT $3"
    );
    let rows = on_pool!(db, |c| {
        let query = sqlx::query_as::<_, UserSessionRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id.as_str())
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit));
        let query = match filter {
            ListFilter::Active => query.bind(to_ms(now)),
            ListFilter::All => query,
        };
        query.fetch_all(c).await
    })?;
    rows.into_iter().map(UserSession::try_from).collect()
}

/// Gives the session the cookie token hashing to `hash` (replacing any earlier one).
pub async fn set_cookie_token(
    tx: &mut Tx,
    id: &UserSessionId,
    hash: &TokenHash,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE user_sessions SET cookie_token_hash = $2 WHERE id = $1"
    )
    .bind(id.as_str())
    .bind(hash.as_bytes().as_slice())
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// The session whose cookie token hashes to `hash`, if any.
pub async fn id_by_cookie(
    reader: impl Into<Reader<'_>>,
    hash: &TokenHash,
) -> Result<Option<UserSessionId>, StoreError> {
    let id: Option<String> = on_reader!(reader.into(), |c| sqlx::query_scalar(
        "SELECT id FROM user_sessions WHERE cookie_token_hash = $1"
    )
    .bind(hash.as_bytes().as_slice())
    .fetch_optional(c)
    .await)?;
    Ok(id.map(UserSessionId::from_stored))
}
