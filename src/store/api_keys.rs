//! API keys: stored by hash, looked up by hash, listed, revoked.

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{Db, StoreError, Tx, on_pool, on_tx};
use crate::domain::api_key::{ApiKey, Role};
use crate::domain::id::ApiKeyId;
use crate::domain::token::TokenHash;

const COLUMNS: &str = "id, role, key_hash, created_at, expires_at, revoked_at, last_used_at";

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: String,
    role: String,
    key_hash: Vec<u8>,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl ApiKeyRow {
    fn into_key(self) -> Result<(ApiKey, TokenHash), StoreError> {
        let role = Role::parse(&self.role)
            .ok_or_else(|| StoreError::Corrupt(format!("role {}", self.role)))?;
        let hash: [u8; 32] = self
            .key_hash
            .try_into()
            .map_err(|_| StoreError::Corrupt("api key hash length".to_owned()))?;
        let key = ApiKey {
            id: ApiKeyId::from_stored(self.id),
            role,
            created_at: from_ms(self.created_at)?,
            expires_at: self.expires_at.map(from_ms).transpose()?,
            revoked_at: self.revoked_at.map(from_ms).transpose()?,
            last_used_at: self.last_used_at.map(from_ms).transpose()?,
        };
        Ok((key, TokenHash::from_bytes(hash)))
    }
}

pub async fn insert(tx: &mut Tx, key: &ApiKey, hash: &TokenHash) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO api_keys (id, role, key_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(key.id.as_str())
    .bind(key.role.as_str())
    .bind(hash.as_bytes().as_slice())
    .bind(to_ms(key.created_at))
    .bind(key.expires_at.map(to_ms))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// The key whose hash is `hash`, with the stored hash for a constant-time comparison.
pub async fn find_by_hash(
    db: &Db,
    hash: &TokenHash,
) -> Result<Option<(ApiKey, TokenHash)>, StoreError> {
    let row = on_pool!(db, |c| sqlx::query_as::<_, ApiKeyRow>(sqlx::AssertSqlSafe(
        format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1")
    ))
    .bind(hash.as_bytes().as_slice())
    .fetch_optional(c)
    .await)?;
    row.map(ApiKeyRow::into_key).transpose()
}

/// Keys, newest first, after `after` (an id), at most `limit`.
pub async fn list(db: &Db, after: Option<&str>, limit: u32) -> Result<Vec<ApiKey>, StoreError> {
    let rows = on_pool!(db, |c| {
        sqlx::query_as::<_, ApiKeyRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_keys WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2"
        )))
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(c)
        .await
    })?;
    rows.into_iter()
        .map(|row| row.into_key().map(|(key, _)| key))
        .collect()
}

/// Locks, for a change, the key `id` and every admin key neither revoked nor expired at
/// `now`, and answers them: two revokes of two admin keys must not each see the other
/// as the one that remains.
pub async fn lock_with_admins(
    tx: &mut Tx,
    id: &ApiKeyId,
    now: DateTime<Utc>,
) -> Result<Vec<ApiKey>, StoreError> {
    let lock = tx.lock_clause(super::LockMode::Update);
    let rows = on_tx!(tx, |c| sqlx::query_as::<_, ApiKeyRow>(sqlx::AssertSqlSafe(
        format!(
            "SELECT {COLUMNS} FROM api_keys WHERE id = $1 OR (role = 'admin' \
             AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)) \
             ORDER BY id{lock}"
        )
    ))
    .bind(id.as_str())
    .bind(to_ms(now))
    .fetch_all(c)
    .await)?;
    rows.into_iter()
        .map(|row| row.into_key().map(|(key, _)| key))
        .collect()
}

pub async fn set_revoked(tx: &mut Tx, id: &ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE api_keys SET revoked_at = $2 WHERE id = $1"
    )
    .bind(id.as_str())
    .bind(to_ms(at))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Records a use of the key (a plain write, at most once a minute per key).
pub async fn touch(db: &Db, id: &ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
    on_pool!(db, |c| {
        sqlx::query(
        "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)"
    )
    .bind(id.as_str())
    .bind(to_ms(at))
    .execute(c)
    .await
    .map(|done| done.rows_affected())
    })?;
    Ok(())
}

pub async fn count(tx: &mut Tx) -> Result<i64, StoreError> {
    let count: i64 = on_tx!(tx, |c| sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
        .fetch_one(c)
        .await)?;
    Ok(count)
}
