//! API keys: stored by hash, looked up by hash.

use super::time::{from_ms, to_ms};
use super::{Db, StoreError, Tx, on_pool, on_tx};
use crate::domain::api_key::{ApiKey, Role};
use crate::domain::id::ApiKeyId;
use crate::domain::token::TokenHash;

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: String,
    role: String,
    key_hash: Vec<u8>,
    created_at: i64,
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
        };
        Ok((key, TokenHash::from_bytes(hash)))
    }
}

pub async fn insert(tx: &mut Tx, key: &ApiKey, hash: &TokenHash) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO api_keys (id, role, key_hash, created_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(key.id.as_str())
    .bind(key.role.as_str())
    .bind(hash.as_bytes().as_slice())
    .bind(to_ms(key.created_at))
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
    let row = on_pool!(db, |c| sqlx::query_as::<_, ApiKeyRow>(
        "SELECT id, role, key_hash, created_at FROM api_keys WHERE key_hash = $1"
    )
    .bind(hash.as_bytes().as_slice())
    .fetch_optional(c)
    .await)?;
    row.map(ApiKeyRow::into_key).transpose()
}

pub async fn count(tx: &mut Tx) -> Result<i64, StoreError> {
    let count: i64 = on_tx!(tx, |c| sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
        .fetch_one(c)
        .await)?;
    Ok(count)
}
