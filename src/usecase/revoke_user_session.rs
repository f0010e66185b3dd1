//! Revoking one user session (one device signs out), and the agent sessions delegated
//! from it.

use crate::domain::actor::Actor;
use crate::domain::id::UserSessionId;
use crate::domain::revocation::{Revocation, RevocationCause, Selector};
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::revoke_sessions::{Act, checked_reason, revoke_in};

/// Revokes the session if it is still active; revoking it again revokes nothing and
/// answers a revocation that hit zero sessions.
pub async fn revoke_user_session(
    app: &App,
    actor: &Actor,
    id: &UserSessionId,
    reason: Option<&str>,
) -> Result<Revocation, UsecaseError> {
    let reason = checked_reason(reason)?;
    let mut tx = app.db.begin().await?;
    store::user_sessions::owner(&mut tx, id)
        .await?
        .ok_or(UsecaseError::UserSessionNotFound)?;
    let act = Act {
        actor,
        cause: RevocationCause::UserSessionRevoked,
        selector: Selector::UserSession(id.clone()),
        reason,
    };
    revoke_in(&mut tx, app, act).await?.commit(tx, app).await
}
