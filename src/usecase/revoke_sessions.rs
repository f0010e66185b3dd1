//! The revocation core every revoking act shares: inside the caller's transaction it
//! takes the row locks the selector implies (the ones issuance takes in share mode, so
//! no session issued meanwhile escapes), records the act, revokes what the selector names (user sessions, then agent sessions
//! with their descendants, one statement each), writes one outbox event per revoked
//! session and one audit entry for the act, and tells the other instances. After the
//! caller commits, [`forget_cached`] drops this instance's cached tokens before the act
//! is answered.

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::RevocationId;
use crate::domain::invalidation::Invalidation;
use crate::domain::revocation::{self, Revocation, RevocationCause, Selector};
use crate::store::{self, Tx};
use crate::usecase::App;
use crate::usecase::UsecaseError;

pub(super) async fn revoke_in(
    tx: &mut Tx,
    app: &App,
    actor: &Actor,
    cause: RevocationCause,
    selector: &Selector,
    reason: Option<String>,
    stale: &Invalidation,
) -> Result<Revocation, UsecaseError> {
    store::revocations::lock_selected(tx, selector).await?;
    let now = app.clock.now();
    let mut revocation = Revocation {
        id: RevocationId::generate(),
        cause,
        actor: actor.label(),
        reason,
        user_sessions_revoked: 0,
        agent_sessions_revoked: 0,
        created_at: now,
    };
    store::revocations::insert(tx, &revocation, selector).await?;
    revocation.user_sessions_revoked =
        store::user_sessions::revoke(tx, selector, &revocation.id, cause, now).await?;
    revocation.agent_sessions_revoked =
        store::agent_sessions::revoke(tx, selector, &revocation.id, cause, now).await?;
    store::revocations::set_counts(tx, &revocation).await?;
    store::events::insert_user_session_revoked(tx, &revocation.id, actor, now).await?;
    store::events::insert_agent_session_revoked(tx, &revocation.id, actor, now).await?;
    let action = if selector.targets_user_sessions() {
        AuditAction::UserSessionsRevoked
    } else {
        AuditAction::AgentSessionsRevoked
    };
    let entry = AuditEntry::new(actor, action, selector.target(), now)
        .for_revocation(cause, revocation.id.clone());
    store::audit::append(tx, &entry).await?;
    store::invalidation::announce(tx, stale).await?;
    Ok(revocation)
}

/// Checks the free-text reason a caller gave for a revocation (before any transaction).
pub(super) fn checked_reason(raw: Option<&str>) -> Result<Option<String>, UsecaseError> {
    revocation::reason(raw).map_err(|reason| UsecaseError::TextRefused {
        field: "reason",
        reason,
    })
}

/// Drops this instance's cached tokens that `stale` names; call after the commit.
pub(super) fn forget_cached(app: &App, stale: &Invalidation) {
    app.invalidate(stale);
}
