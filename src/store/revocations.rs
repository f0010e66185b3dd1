//! Revocation records.

use serde_json::json;

use super::time::to_ms;
use super::{StoreError, Tx, on_tx};
use crate::domain::revocation::{Revocation, Selector};

fn selector_json(selector: &Selector) -> String {
    match selector {
        Selector::UserSession(id) => json!({ "user_session_id": id }),
        Selector::AllOfUser { user_id, except } => {
            json!({ "user_id": user_id, "except_user_session_id": except })
        }
        Selector::AgentSession(id) => json!({ "agent_session_id": id }),
        Selector::Grant(id) => json!({ "grant_id": id }),
        Selector::GrantNarrowed { grant_id, allowed } => {
            json!({ "grant_id": grant_id, "outside_scopes": allowed.to_vec() })
        }
        Selector::Agent(id) => json!({ "agent_id": id }),
        Selector::CeilingNarrowed { agent_id, allowed } => {
            json!({ "agent_id": agent_id, "outside_scopes": allowed.to_vec() })
        }
    }
    .to_string()
}

/// Inserts the record before the rows it revokes point to it; [`set_counts`] fills in
/// what the act hit once the cascade has run.
pub async fn insert(
    tx: &mut Tx,
    revocation: &Revocation,
    selector: &Selector,
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
