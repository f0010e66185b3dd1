//! One-time login links to the self-service page: stored by the hash of their token,
//! taken once.

use chrono::{DateTime, Utc};

use super::time::to_ms;
use super::{StoreError, Tx, on_tx};
use crate::domain::id::UserSessionId;
use crate::domain::token::TokenHash;

pub async fn insert(
    tx: &mut Tx,
    hash: &TokenHash,
    user_session_id: &UserSessionId,
    return_to: Option<&str>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO login_links (token_hash, user_session_id, return_to, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(hash.as_bytes().as_slice())
    .bind(user_session_id.as_str())
    .bind(return_to)
    .bind(to_ms(now))
    .bind(to_ms(expires_at))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Marks the link whose token hashes to `hash` used, if it is unused and unexpired at
/// `now`, and answers its session and `return_to`: one caller at most ever gets them.
pub async fn take(
    tx: &mut Tx,
    hash: &TokenHash,
    now: DateTime<Utc>,
) -> Result<Option<(UserSessionId, Option<String>)>, StoreError> {
    let row: Option<(String, Option<String>)> = on_tx!(tx, |c| sqlx::query_as(
        "UPDATE login_links SET used_at = $2 \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
         RETURNING user_session_id, return_to"
    )
    .bind(hash.as_bytes().as_slice())
    .bind(to_ms(now))
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|(id, return_to)| (UserSessionId::from_stored(id), return_to)))
}

/// Deletes links that expired before `before`; answers how many.
pub async fn prune(tx: &mut Tx, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let pruned = on_tx!(tx, |c| sqlx::query(
        "DELETE FROM login_links WHERE expires_at < $1"
    )
    .bind(to_ms(before))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(pruned)
}
