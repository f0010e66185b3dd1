//! Authorizations in flight: stored by the hash of their `state`, taken once.

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{StoreError, Tx, on_tx};
use crate::domain::connection::PendingAuthorization;
use crate::domain::id::{UserId, UserSessionId};
use crate::domain::provider::ProviderId;
use crate::domain::token::TokenHash;

#[derive(sqlx::FromRow)]
struct StateRow {
    user_id: String,
    user_session_id: String,
    provider: String,
    pkce_verifier_sealed: Option<Vec<u8>>,
    requested_scopes: String,
    return_to: Option<String>,
    cookie_bound: bool,
    expires_at: i64,
}

pub async fn insert(
    tx: &mut Tx,
    hash: &TokenHash,
    pending: &PendingAuthorization,
    pkce_verifier_sealed: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO oauth_states (state_hash, user_id, user_session_id, provider, \
         pkce_verifier_sealed, requested_scopes, return_to, cookie_bound, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )
    .bind(hash.as_bytes().as_slice())
    .bind(pending.user_id.as_str())
    .bind(pending.user_session_id.as_str())
    .bind(pending.provider.as_str())
    .bind(pkce_verifier_sealed)
    .bind(pending.requested_scopes.join(" "))
    .bind(pending.return_to.as_deref())
    .bind(pending.cookie_bound)
    .bind(to_ms(now))
    .bind(to_ms(pending.expires_at))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Marks the authorization whose state hashes to `hash` used, if it is unused and
/// unexpired at `now`, and answers it with its sealed PKCE verifier: one caller at most
/// ever gets it.
pub async fn take(
    tx: &mut Tx,
    hash: &TokenHash,
    now: DateTime<Utc>,
) -> Result<Option<(PendingAuthorization, Option<Vec<u8>>)>, StoreError> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, StateRow>(
        "UPDATE oauth_states SET used_at = $2 \
         WHERE state_hash = $1 AND used_at IS NULL AND expires_at > $2 \
         RETURNING user_id, user_session_id, provider, pkce_verifier_sealed, \
         requested_scopes, return_to, cookie_bound, expires_at"
    )
    .bind(hash.as_bytes().as_slice())
    .bind(to_ms(now))
    .fetch_optional(c)
    .await)?;
    row.map(|row| {
        let provider = ProviderId::parse(&row.provider)
            .ok_or_else(|| StoreError::Corrupt(format!("provider {:?}", row.provider)))?;
        Ok((
            PendingAuthorization {
                user_id: UserId::from_stored(row.user_id),
                user_session_id: UserSessionId::from_stored(row.user_session_id),
                provider,
                requested_scopes: row
                    .requested_scopes
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                return_to: row.return_to,
                cookie_bound: row.cookie_bound,
                expires_at: from_ms(row.expires_at)?,
            },
            row.pkce_verifier_sealed,
        ))
    })
    .transpose()
}

/// Deletes authorizations that expired before `before`; answers how many.
pub async fn prune(tx: &mut Tx, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let pruned = on_tx!(tx, |c| sqlx::query(
        "DELETE FROM oauth_states WHERE expires_at < $1"
    )
    .bind(to_ms(before))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(pruned)
}
