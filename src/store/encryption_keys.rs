//! The encryption keys that may have sealed a stored value (their ids), and every
//! sealed column, read and rewritten by a key rotation.

use chrono::{DateTime, Utc};

use super::time::to_ms;
use super::{Db, StoreError, on_pool};

/// The ids (hex) of the keys that may have sealed a stored value.
pub async fn registered(db: &Db) -> Result<Vec<String>, StoreError> {
    Ok(on_pool!(db, |c| sqlx::query_scalar(
        "SELECT key_id FROM encryption_keys ORDER BY key_id"
    )
    .fetch_all(c)
    .await)?)
}

/// Records that the key `id` seals from now on (nothing if it is known).
pub async fn register(db: &Db, id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    on_pool!(db, |c| sqlx::query(
        "INSERT INTO encryption_keys (key_id, registered_at) VALUES ($1, $2) \
         ON CONFLICT (key_id) DO NOTHING"
    )
    .bind(id)
    .bind(to_ms(now))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Forgets every key but `kept`: nothing stored is sealed with them any more.
pub async fn retire_all_but(db: &Db, kept: &str) -> Result<(), StoreError> {
    on_pool!(db, |c| sqlx::query(
        "DELETE FROM encryption_keys WHERE key_id <> $1"
    )
    .bind(kept)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// A column holding sealed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    ConnectionAccessToken,
    ConnectionRefreshToken,
    /// A disconnect's copy of a token it owes the provider a revocation of.
    UpstreamRevocationToken,
    WebhookSecret,
    WebhookPreviousSecret,
    /// An authorization in flight's PKCE verifier (keyed by its state's hash).
    PkceVerifier,
}

impl SealedColumn {
    pub const ALL: [SealedColumn; 6] = [
        Self::ConnectionAccessToken,
        Self::ConnectionRefreshToken,
        Self::UpstreamRevocationToken,
        Self::WebhookSecret,
        Self::WebhookPreviousSecret,
        Self::PkceVerifier,
    ];

    /// Table, key column, sealed column.
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::ConnectionAccessToken => ("connections", "id", "access_token_sealed"),
            Self::ConnectionRefreshToken => ("connections", "id", "refresh_token_sealed"),
            Self::UpstreamRevocationToken => ("upstream_revocations", "id", "token_sealed"),
            Self::WebhookSecret => ("webhook_endpoints", "id", "secret_sealed"),
            Self::WebhookPreviousSecret => ("webhook_endpoints", "id", "previous_secret_sealed"),
            Self::PkceVerifier => ("oauth_states", "state_hash", "pkce_verifier_sealed"),
        }
    }

    pub fn describe(self) -> String {
        let (table, _, column) = self.sql();
        format!("{table}.{column}")
    }
}

/// A row's key: text ids, or a state's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKey {
    Text(String),
    Bytes(Vec<u8>),
}

#[derive(sqlx::FromRow)]
struct TextKeyed {
    key: String,
    sealed: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct BytesKeyed {
    key: Vec<u8>,
    sealed: Vec<u8>,
}

/// The next `limit` sealed values of `column` after `after`, in key order.
pub async fn batch(
    db: &Db,
    column: SealedColumn,
    after: Option<&RowKey>,
    limit: u32,
) -> Result<Vec<(RowKey, Vec<u8>)>, StoreError> {
    let (table, key, sealed) = column.sql();
    let cursor = if after.is_some() {
        format!("AND {key} > $2")
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT {key} AS key, {sealed} AS sealed FROM {table} \
         WHERE {sealed} IS NOT NULL {cursor} ORDER BY {key} LIMIT $1"
    );
    let limit = i64::from(limit);
    Ok(match column {
        SealedColumn::PkceVerifier => {
            let after = match after {
                Some(RowKey::Bytes(bytes)) => Some(bytes.clone()),
                _ => None,
            };
            let rows = on_pool!(db, |c| {
                let query = sqlx::query_as::<_, BytesKeyed>(sqlx::AssertSqlSafe(sql)).bind(limit);
                match after {
                    Some(after) => query.bind(after),
                    None => query,
                }
                .fetch_all(c)
                .await
            })?;
            rows.into_iter()
                .map(|r| (RowKey::Bytes(r.key), r.sealed))
                .collect()
        }
        _ => {
            let after = match after {
                Some(RowKey::Text(text)) => Some(text.clone()),
                _ => None,
            };
            let rows = on_pool!(db, |c| {
                let query = sqlx::query_as::<_, TextKeyed>(sqlx::AssertSqlSafe(sql)).bind(limit);
                match after {
                    Some(after) => query.bind(after),
                    None => query,
                }
                .fetch_all(c)
                .await
            })?;
            rows.into_iter()
                .map(|r| (RowKey::Text(r.key), r.sealed))
                .collect()
        }
    })
}

/// Replaces the sealed value of `column` at `key` with `new`, only if it still is
/// `old` (a writer since sealed it anew): answers whether it did.
pub async fn replace(
    db: &Db,
    column: SealedColumn,
    key: &RowKey,
    old: &[u8],
    new: &[u8],
) -> Result<bool, StoreError> {
    let (table, key_column, sealed) = column.sql();
    let sql = format!("UPDATE {table} SET {sealed} = $1 WHERE {key_column} = $2 AND {sealed} = $3");
    let replaced = on_pool!(db, |c| {
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(new);
        match key {
            RowKey::Text(text) => query.bind(text.clone()),
            RowKey::Bytes(bytes) => query.bind(bytes.clone()),
        }
        .bind(old)
        .execute(c)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(replaced == 1)
}
