//! Connections to upstream providers, their tokens sealed (never read back here except
//! as ciphertext for the use case that opens them).

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{Db, LockMode, Reader, StoreError, Tx, on_pool, on_reader, on_tx, placeholders};
use crate::domain::connection::{Connection, ConnectionStatus};
use crate::domain::id::{ConnectionId, UserId};
use crate::domain::provider::ProviderId;

const COLUMNS: &str = "id, user_id, provider, status, granted_scopes, token_expires_at, \
                       connected_at, last_refreshed_at, disconnected_at";

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    id: String,
    user_id: String,
    provider: String,
    status: String,
    granted_scopes: String,
    token_expires_at: Option<i64>,
    connected_at: i64,
    last_refreshed_at: Option<i64>,
    disconnected_at: Option<i64>,
}

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;

    fn try_from(row: ConnectionRow) -> Result<Self, StoreError> {
        Ok(Connection {
            provider: ProviderId::parse(&row.provider)
                .ok_or_else(|| StoreError::Corrupt(format!("provider {:?}", row.provider)))?,
            status: ConnectionStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("connection status {}", row.status)))?,
            id: ConnectionId::from_stored(row.id),
            user_id: UserId::from_stored(row.user_id),
            granted_scopes: row
                .granted_scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            token_expires_at: row.token_expires_at.map(from_ms).transpose()?,
            connected_at: from_ms(row.connected_at)?,
            last_refreshed_at: row.last_refreshed_at.map(from_ms).transpose()?,
            disconnected_at: row.disconnected_at.map(from_ms).transpose()?,
            receipt: Vec::new(),
        })
    }
}

/// A connection's tokens as stored: sealed, each bound to its row and kind.
pub struct SealedTokens {
    pub access_token: Vec<u8>,
    pub refresh_token: Option<Vec<u8>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The user's live (not disconnected) connection to `provider`, locked for a change.
pub async fn lock_live(
    tx: &mut Tx,
    user_id: &UserId,
    provider: &ProviderId,
) -> Result<Option<Connection>, StoreError> {
    let lock = tx.lock_clause(LockMode::Update);
    let row = on_tx!(tx, |c| sqlx::query_as::<_, ConnectionRow>(
        sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM connections \
             WHERE user_id = $1 AND provider = $2 AND status <> 'disconnected'{lock}"
        ))
    )
    .bind(user_id.as_str())
    .bind(provider.as_str())
    .fetch_optional(c)
    .await)?;
    row.map(Connection::try_from).transpose()
}

/// The connected (live and working) connections of `users`.
pub async fn connected_of(
    reader: impl Into<Reader<'_>>,
    users: &[&UserId],
) -> Result<Vec<Connection>, StoreError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM connections WHERE status = 'connected' AND user_id IN ({})",
        placeholders(1, users.len())
    );
    let rows = on_reader!(reader.into(), |c| {
        let mut query = sqlx::query_as::<_, ConnectionRow>(sqlx::AssertSqlSafe(sql));
        for user in users {
            query = query.bind(user.as_str());
        }
        query.fetch_all(c).await
    })?;
    rows.into_iter().map(Connection::try_from).collect()
}

/// A live connection as a vend reads it: with its sealed tokens, the version its
/// tokens were written at, and until when no refresh is tried after one failed.
pub struct Vendable {
    pub connection: Connection,
    pub tokens: Option<SealedTokens>,
    pub version: i64,
    pub refresh_backoff_until: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct VendableRow {
    #[sqlx(flatten)]
    connection: ConnectionRow,
    access_token_sealed: Option<Vec<u8>>,
    refresh_token_sealed: Option<Vec<u8>>,
    version: i64,
    refresh_backoff_until: Option<i64>,
}

impl TryFrom<VendableRow> for Vendable {
    type Error = StoreError;

    fn try_from(row: VendableRow) -> Result<Self, StoreError> {
        let connection = Connection::try_from(row.connection)?;
        let tokens = row.access_token_sealed.map(|access_token| SealedTokens {
            access_token,
            refresh_token: row.refresh_token_sealed,
            expires_at: connection.token_expires_at,
        });
        Ok(Vendable {
            connection,
            tokens,
            version: row.version,
            refresh_backoff_until: row.refresh_backoff_until.map(from_ms).transpose()?,
        })
    }
}

const VENDABLE_COLUMNS: &str =
    "access_token_sealed, refresh_token_sealed, version, refresh_backoff_until";

/// The live (not disconnected) connections of these users to these providers.
pub async fn vendable(
    tx: &mut Tx,
    pairs: &[(&UserId, &ProviderId)],
) -> Result<Vec<Vendable>, StoreError> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<String> = (0..pairs.len())
        .map(|i| format!("(user_id = ${} AND provider = ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "SELECT {COLUMNS}, {VENDABLE_COLUMNS} FROM connections \
         WHERE status <> 'disconnected' AND ({})",
        wanted.join(" OR ")
    );
    let rows = on_tx!(tx, |c| {
        let mut query = sqlx::query_as::<_, VendableRow>(sqlx::AssertSqlSafe(sql));
        for (user, provider) in pairs {
            query = query.bind(user.as_str()).bind(provider.as_str());
        }
        query.fetch_all(c).await
    })?;
    rows.into_iter().map(Vendable::try_from).collect()
}

/// The connection `id` as a vend reads it, whatever its status.
pub async fn vendable_by_id(db: &Db, id: &ConnectionId) -> Result<Option<Vendable>, StoreError> {
    let row = on_pool!(db, |c| sqlx::query_as::<_, VendableRow>(
        sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, {VENDABLE_COLUMNS} FROM connections WHERE id = $1"
        ))
    )
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    row.map(Vendable::try_from).transpose()
}

/// Claims the refresh of connection `id` until `until`, if its tokens are still those
/// of `version`, it is connected, and no claim or backoff is in force at `now`. One
/// statement: of instances racing for it, one wins.
pub async fn claim_refresh(
    db: &Db,
    id: &ConnectionId,
    version: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let claimed = on_pool!(db, |c| sqlx::query(
        "UPDATE connections SET refresh_claimed_until = $3 \
         WHERE id = $1 AND version = $2 AND status = 'connected' \
           AND (refresh_claimed_until IS NULL OR refresh_claimed_until <= $4) \
           AND (refresh_backoff_until IS NULL OR refresh_backoff_until <= $4)"
    )
    .bind(id.as_str())
    .bind(version)
    .bind(to_ms(until))
    .bind(to_ms(now))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(claimed == 1)
}

/// Stores what a refresh of `version` brought (a refresh token only when the provider
/// rotated it), ends the claim and bumps the version, unless the connection changed
/// meanwhile (disconnected, or connected again): answers whether it was stored.
pub async fn store_refreshed(
    db: &Db,
    id: &ConnectionId,
    version: i64,
    tokens: &SealedTokens,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let stored = on_pool!(db, |c| sqlx::query(
        "UPDATE connections SET access_token_sealed = $3, \
         refresh_token_sealed = COALESCE($4, refresh_token_sealed), token_expires_at = $5, \
         version = version + 1, last_refreshed_at = $6, updated_at = $6, \
         refresh_claimed_until = NULL, refresh_backoff_until = NULL \
         WHERE id = $1 AND version = $2 AND status = 'connected'"
    )
    .bind(id.as_str())
    .bind(version)
    .bind(tokens.access_token.as_slice())
    .bind(tokens.refresh_token.as_deref())
    .bind(tokens.expires_at.map(to_ms))
    .bind(to_ms(now))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(stored == 1)
}

/// Ends the claim on `version`'s refresh without new tokens: no refresh is tried again
/// before `backoff_until`.
pub async fn refresh_failed(
    db: &Db,
    id: &ConnectionId,
    version: i64,
    backoff_until: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_pool!(db, |c| sqlx::query(
        "UPDATE connections SET refresh_claimed_until = NULL, refresh_backoff_until = $3 \
         WHERE id = $1 AND version = $2"
    )
    .bind(id.as_str())
    .bind(version)
    .bind(to_ms(backoff_until))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Marks the connection as needing the person to connect again and destroys its tokens
/// (the provider no longer honours them), if they are still those of `version`:
/// answers whether it did.
pub async fn needs_reauthorization(
    tx: &mut Tx,
    id: &ConnectionId,
    version: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let marked = on_tx!(tx, |c| sqlx::query(
        "UPDATE connections SET status = 'needs_reauthorization', access_token_sealed = NULL, \
         refresh_token_sealed = NULL, version = version + 1, refresh_claimed_until = NULL, \
         updated_at = $3 WHERE id = $1 AND version = $2 AND status = 'connected'"
    )
    .bind(id.as_str())
    .bind(version)
    .bind(to_ms(now))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(marked == 1)
}

/// Stores a new connection with its tokens.
pub async fn insert(
    tx: &mut Tx,
    connection: &Connection,
    tokens: &SealedTokens,
) -> Result<(), StoreError> {
    let now = to_ms(connection.connected_at);
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO connections (id, user_id, provider, status, granted_scopes, \
         access_token_sealed, refresh_token_sealed, token_expires_at, version, connected_at, \
         updated_at) VALUES ($1, $2, $3, 'connected', $4, $5, $6, $7, 1, $8, $8)"
    )
    .bind(connection.id.as_str())
    .bind(connection.user_id.as_str())
    .bind(connection.provider.as_str())
    .bind(connection.granted_scopes.join(" "))
    .bind(tokens.access_token.as_slice())
    .bind(tokens.refresh_token.as_deref())
    .bind(tokens.expires_at.map(to_ms))
    .bind(now)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// A connect over a live connection: new grant, new tokens, connected again.
pub async fn reconnect(
    tx: &mut Tx,
    id: &ConnectionId,
    granted_scopes: &[String],
    tokens: &SealedTokens,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE connections SET status = 'connected', granted_scopes = $2, \
         access_token_sealed = $3, refresh_token_sealed = $4, token_expires_at = $5, \
         version = version + 1, connected_at = $6, updated_at = $6, \
         refresh_claimed_until = NULL, refresh_backoff_until = NULL WHERE id = $1"
    )
    .bind(id.as_str())
    .bind(granted_scopes.join(" "))
    .bind(tokens.access_token.as_slice())
    .bind(tokens.refresh_token.as_deref())
    .bind(tokens.expires_at.map(to_ms))
    .bind(to_ms(now))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// The connection `id`, locked for a change, with its sealed tokens (none once
/// disconnected).
pub async fn lock(
    tx: &mut Tx,
    id: &ConnectionId,
) -> Result<Option<(Connection, Option<SealedTokens>)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct LockedRow {
        #[sqlx(flatten)]
        connection: ConnectionRow,
        access_token_sealed: Option<Vec<u8>>,
        refresh_token_sealed: Option<Vec<u8>>,
    }
    let lock = tx.lock_clause(LockMode::Update);
    let row = on_tx!(tx, |c| sqlx::query_as::<_, LockedRow>(sqlx::AssertSqlSafe(
        format!(
            "SELECT {COLUMNS}, access_token_sealed, refresh_token_sealed FROM connections \
             WHERE id = $1{lock}"
        )
    ))
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let connection = Connection::try_from(row.connection)?;
    let tokens = row.access_token_sealed.map(|access_token| SealedTokens {
        access_token,
        refresh_token: row.refresh_token_sealed,
        expires_at: connection.token_expires_at,
    });
    Ok(Some((connection, tokens)))
}

/// Marks the connection disconnected at `now` and destroys its tokens.
pub async fn disconnect(
    tx: &mut Tx,
    id: &ConnectionId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE connections SET status = 'disconnected', access_token_sealed = NULL, \
         refresh_token_sealed = NULL, version = version + 1, disconnected_at = $2, \
         updated_at = $2 WHERE id = $1"
    )
    .bind(id.as_str())
    .bind(to_ms(now))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

pub async fn get(
    reader: impl Into<Reader<'_>>,
    id: &ConnectionId,
) -> Result<Option<Connection>, StoreError> {
    let row = on_reader!(reader.into(), |c| sqlx::query_as::<_, ConnectionRow>(
        sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM connections WHERE id = $1"))
    )
    .bind(id.as_str())
    .fetch_optional(c)
    .await)?;
    row.map(Connection::try_from).transpose()
}

/// A user's connections, newest first, after `after` (an id), at most `limit`.
pub async fn list(
    db: &Db,
    user_id: &UserId,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Connection>, StoreError> {
    let rows = on_pool!(db, |c| sqlx::query_as::<_, ConnectionRow>(
        sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM connections WHERE user_id = $1 AND ($2 = '' OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        ))
    )
    .bind(user_id.as_str())
    .bind(after.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(c)
    .await)?;
    rows.into_iter().map(Connection::try_from).collect()
}
