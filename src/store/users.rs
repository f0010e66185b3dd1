//! Users.

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{Db, LockMode, StoreError, Tx, on_pool, on_tx, placeholders};
use crate::domain::id::UserId;
use crate::domain::user::{NewUser, User, UserStatus};

const COLUMNS: &str = "id, external_id, email, display_name, status, created_at, disabled_at";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    external_id: String,
    email: Option<String>,
    display_name: Option<String>,
    status: String,
    created_at: i64,
    disabled_at: Option<i64>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId::from_stored(row.id),
            external_id: row.external_id,
            email: row.email,
            display_name: row.display_name,
            status: UserStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("user status {}", row.status)))?,
            created_at: from_ms(row.created_at)?,
            disabled_at: row.disabled_at.map(from_ms).transpose()?,
        })
    }
}

/// Inserts the user unless one with the same `external_id` exists. Returns the stored
/// user and whether this call created it.
pub async fn insert_or_get(
    tx: &mut Tx,
    id: &UserId,
    new: &NewUser,
    now: DateTime<Utc>,
) -> Result<(User, bool), StoreError> {
    let inserted = on_tx!(tx, |c| {
        sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (id, external_id, email, display_name, status, created_at) \
         VALUES ($1, $2, $3, $4, 'active', $5) ON CONFLICT (external_id) DO NOTHING RETURNING {COLUMNS}"
    )))
    .bind(id.as_str())
    .bind(&new.external_id)
    .bind(&new.email)
    .bind(&new.display_name)
    .bind(to_ms(now))
    .fetch_optional(c)
    .await
    })?;
    if let Some(row) = inserted {
        return Ok((row.try_into()?, true));
    }
    let existing = on_tx!(tx, |c| sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(
        format!("SELECT {COLUMNS} FROM users WHERE external_id = $1")
    ))
    .bind(&new.external_id)
    .fetch_one(c)
    .await)?;
    Ok((existing.try_into()?, false))
}

pub async fn get(db: &Db, id: &UserId) -> Result<Option<User>, StoreError> {
    let row = on_pool!(db, |c| sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(
        format!("SELECT {COLUMNS} FROM users WHERE id = $1")
    ))
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    row.map(User::try_from).transpose()
}

/// How a security system may name a person.
#[derive(Debug, Clone, Copy)]
pub enum NamedBy<'a> {
    Id(&'a str),
    ExternalId(&'a str),
    /// Case-insensitively; emails are not unique, so this may name several.
    Email(&'a str),
}

/// The ids of the users `named` names (at most two: one more than a person).
pub async fn named(tx: &mut Tx, named: NamedBy<'_>) -> Result<Vec<UserId>, StoreError> {
    let (predicate, value) = match named {
        NamedBy::Id(id) => ("id = $1", id.to_owned()),
        NamedBy::ExternalId(external_id) => ("external_id = $1", external_id.to_owned()),
        NamedBy::Email(email) => ("lower(email) = $1", email.to_lowercase()),
    };
    let ids: Vec<String> = on_tx!(tx, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM users WHERE {predicate} ORDER BY id LIMIT 2"
    )))
    .bind(value)
    .fetch_all(c)
    .await)?;
    Ok(ids.into_iter().map(UserId::from_stored).collect())
}

/// Reads the user and holds its row lock until the transaction ends, so acts on one user
/// (new session, sign out everywhere, disable) are serialised, and issuing agent sessions
/// (`LockMode::Share`) never interleaves with revoking them.
pub async fn lock(tx: &mut Tx, id: &UserId, mode: LockMode) -> Result<Option<User>, StoreError> {
    let lock = tx.lock_clause(mode);
    let row = on_tx!(tx, |c| sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(
        format!("SELECT {COLUMNS} FROM users WHERE id = $1{lock}")
    ))
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    row.map(User::try_from).transpose()
}

/// Locks the users `ids` in `mode`, in id order (as every act that locks several does);
/// answers the ids locked.
pub async fn lock_all(
    tx: &mut Tx,
    ids: &[&UserId],
    mode: LockMode,
) -> Result<Vec<UserId>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id FROM users WHERE id IN ({}) ORDER BY id{}",
        placeholders(1, ids.len()),
        tx.lock_clause(mode)
    );
    let locked: Vec<String> = on_tx!(tx, |c| {
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id.as_str());
        }
        query.fetch_all(c).await
    })?;
    Ok(locked.into_iter().map(UserId::from_stored).collect())
}

pub async fn set_status(
    tx: &mut Tx,
    id: &UserId,
    status: UserStatus,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    let disabled_at = (status == UserStatus::Disabled).then(|| to_ms(now));
    let row = on_tx!(tx, |c| sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(
        format!("UPDATE users SET status = $2, disabled_at = $3 WHERE id = $1 RETURNING {COLUMNS}")
    ))
    .bind(id.as_str())
    .bind(status.as_str())
    .bind(disabled_at)
    .fetch_one(c)
    .await)?;
    row.try_into()
}
