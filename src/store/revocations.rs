//! Revocation records.

use serde_json::json;

use super::time::to_ms;
use super::{StoreError, Tx, on_tx};
use crate::domain::revocation::{Revocation, UserSessionSelector};

fn selector_json(selector: &UserSessionSelector) -> String {
    match selector {
        UserSessionSelector::One(id) => json!({ "user_session_id": id }),
        UserSessionSelector::AllOfUser { user_id, except } => {
            json!({ "user_id": user_id, "except_user_session_id": except })
        }
    }
    .to_string()
}

/// Inserts the record before the rows it revokes point to it; [`set_counts`] fills in
/// what the act hit once the cascade has run.
pub async fn insert(
    tx: &mut Tx,
    revocation: &Revocation,
    selector: &UserSessionSelector,
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

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
