//! Idempotency keys of selector revocations: claimed at the start of the act's
//! transaction, so a retry racing the first request waits for it (PostgreSQL holds the
//! second insert of a key until the first commits; SQLite serialises them) and then
//! finds its answer.

use chrono::{DateTime, Utc};

use super::time::to_ms;
use super::{StoreError, Tx, on_tx};
use crate::domain::id::RevocationId;

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: act, then [`answered`].
    New,
    /// An earlier request used the key.
    Used {
        request_hash: String,
        revocation_id: Option<RevocationId>,
    },
}

/// Claims `key` of `caller` (an actor's label) for a request hashing to `request_hash`, until
/// `expires_at`; a claim expired at `now` is forgotten first.
pub async fn claim(
    tx: &mut Tx,
    caller: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Claim, StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2 AND expires_at <= $3"
    )
    .bind(caller)
    .bind(key)
    .bind(to_ms(now))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    let claimed = on_tx!(tx, |c| sqlx::query(
        "INSERT INTO idempotency_keys (caller, key, request_hash, expires_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (caller, key) DO NOTHING"
    )
    .bind(caller)
    .bind(key)
    .bind(request_hash)
    .bind(to_ms(expires_at))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    if claimed == 1 {
        return Ok(Claim::New);
    }
    let (request_hash, revocation_id): (String, Option<String>) = on_tx!(tx, |c| sqlx::query_as(
        "SELECT request_hash, revocation_id FROM idempotency_keys \
         WHERE caller = $1 AND key = $2"
    )
    .bind(caller)
    .bind(key)
    .fetch_one(c)
    .await)?;
    Ok(Claim::Used {
        request_hash,
        revocation_id: revocation_id.map(RevocationId::from_stored),
    })
}

/// Records the revocation that answers a claimed key.
pub async fn answered(
    tx: &mut Tx,
    caller: &str,
    key: &str,
    revocation_id: &RevocationId,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE idempotency_keys SET revocation_id = $3 WHERE caller = $1 AND key = $2"
    )
    .bind(caller)
    .bind(key)
    .bind(revocation_id.as_str())
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Deletes keys expired before `now`; returns how many.
pub async fn prune(tx: &mut Tx, now: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query(
        "DELETE FROM idempotency_keys WHERE expires_at <= $1"
    )
    .bind(to_ms(now))
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?)
}
