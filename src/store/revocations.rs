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
        Selector::SessionNarrowed {
            agent_session_id,
            allowed,
        } => json!({ "parent_agent_session_id": agent_session_id, "outside_scopes": allowed.to_vec() }),
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

/// Takes the row locks every issuance under what `selector` names also takes (in share
/// mode), for update: the user's row for selectors within one user, the agent's row for
/// selectors across users. An issuance that began before is waited for, and its session
/// is then hit; one that begins after sees the revocation when it judges its subject
/// again under its own locks. A foreign-key check from a new child row does not
/// conflict with updating the parent, so without this lock a child issued meanwhile
/// would escape. SQLite needs none: its write transactions are serialised.
pub async fn lock_selected(tx: &mut Tx, selector: &Selector) -> Result<(), StoreError> {
    let Tx::Postgres(_) = tx else {
        return Ok(());
    };
    let (sql, key) = match selector {
        Selector::UserSession(id) => (
            "SELECT u.id FROM users u WHERE u.id = \
             (SELECT user_id FROM user_sessions WHERE id = $1) FOR UPDATE OF u",
            id.as_str(),
        ),
        Selector::AllOfUser { user_id, .. } => (
            "SELECT u.id FROM users u WHERE u.id = $1 FOR UPDATE OF u",
            user_id.as_str(),
        ),
        Selector::AgentSession(id)
        | Selector::SessionNarrowed {
            agent_session_id: id,
            ..
        } => (
            "SELECT u.id FROM users u WHERE u.id = \
             (SELECT user_id FROM agent_sessions WHERE id = $1) FOR UPDATE OF u",
            id.as_str(),
        ),
        Selector::Grant(id) | Selector::GrantNarrowed { grant_id: id, .. } => (
            "SELECT u.id FROM users u WHERE u.id = \
             (SELECT user_id FROM grants WHERE id = $1) FOR UPDATE OF u",
            id.as_str(),
        ),
        Selector::Agent(id) | Selector::CeilingNarrowed { agent_id: id, .. } => (
            "SELECT a.id FROM agents a WHERE a.id = $1 FOR UPDATE OF a",
            id.as_str(),
        ),
    };
    on_tx!(tx, |c| sqlx::query(sql)
        .bind(key)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
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
