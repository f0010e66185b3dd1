//! The revocation core every revoking act goes through. Inside the act's transaction it
//! takes the row locks its selector implies (the ones issuance takes in share mode, so
//! no session issued meanwhile escapes), records the act, revokes what the selector
//! names (user sessions, then agent sessions with their descendants, one statement
//! each), writes one outbox event per revoked session and the act's audit entry, and
//! tells the other instances what may be stale. [`Pending::commit`] commits, then drops
//! this instance's cached tokens and counts the act, before the act is answered. An act
//! chooses none of this: it says why (cause), what (selector) and who (actor).

use crate::domain::actor::Actor;
use crate::domain::audit::AuditEntry;
use crate::domain::id::RevocationId;
use crate::domain::invalidation::Invalidation;
use crate::domain::revocation::{self, Revocation, RevocationCause, Selector};
use crate::store::{self, Tx};
use crate::usecase::{App, UsecaseError};

/// One revoking act: why, what, who, and the caller's words.
pub(super) struct Act<'a> {
    pub actor: &'a Actor,
    pub cause: RevocationCause,
    pub selector: Selector,
    pub reason: Option<String>,
}

/// A revocation written in a transaction not yet committed.
#[must_use = "commit it: until then this instance may still answer for what it revoked"]
pub(super) struct Pending {
    revocation: Revocation,
    stale: Vec<Invalidation>,
}

pub(super) async fn revoke_in(
    tx: &mut Tx,
    app: &App,
    act: Act<'_>,
) -> Result<Pending, UsecaseError> {
    let Act {
        actor,
        cause,
        selector,
        reason,
    } = act;
    let reach = store::revocations::lock_selected(tx, &selector).await?;
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
    store::revocations::insert(tx, &revocation, &selector).await?;
    let hit = store::revocations::revoke(tx, &selector, &revocation.id, cause, now).await?;
    revocation.user_sessions_revoked = hit.user_sessions;
    revocation.agent_sessions_revoked = hit.agent_sessions;
    store::revocations::set_counts(tx, &revocation).await?;
    store::events::insert_user_session_revoked(tx, &revocation.id, actor, now).await?;
    store::events::insert_agent_session_revoked(tx, &revocation.id, actor, now).await?;
    let entry = AuditEntry::new(actor, selector.audit_action(), selector.target(), now)
        .for_revocation(cause, revocation.id.clone());
    store::audit::append(tx, &entry).await?;
    let stale = reach.invalidations();
    for message in &stale {
        store::invalidation::announce(tx, message).await?;
    }
    Ok(Pending { revocation, stale })
}

impl Pending {
    /// The act as it will be answered.
    pub(super) fn revocation(&self) -> &Revocation {
        &self.revocation
    }

    /// Also makes `message` stale: announced in the act's transaction, forgotten on this
    /// instance once it commits.
    pub(super) async fn also_stale(
        mut self,
        tx: &mut Tx,
        message: Invalidation,
    ) -> Result<Self, UsecaseError> {
        store::invalidation::announce(tx, &message).await?;
        self.stale.push(message);
        Ok(self)
    }

    /// Commits the act's transaction, then forgets on this instance what it made stale
    /// and counts it.
    pub(super) async fn commit(self, tx: Tx, app: &App) -> Result<Revocation, UsecaseError> {
        tx.commit().await?;
        Ok(self.committed(app))
    }

    /// Once the transaction committed: forgets what the act made stale, and counts it.
    fn committed(self, app: &App) -> Revocation {
        for message in &self.stale {
            app.invalidate(message);
        }
        app.counters.revoked(&self.revocation);
        self.revocation
    }
}

/// Commits an act that may or may not have revoked anything.
pub(super) async fn commit_maybe(
    tx: Tx,
    app: &App,
    pending: Option<Pending>,
) -> Result<Option<Revocation>, UsecaseError> {
    match pending {
        Some(pending) => pending.commit(tx, app).await.map(Some),
        None => {
            tx.commit().await?;
            Ok(None)
        }
    }
}

/// Commits an act of several revocations at once, then forgets what each made stale.
pub(super) async fn commit_all(
    tx: Tx,
    app: &App,
    pending: Vec<Pending>,
) -> Result<Vec<Revocation>, UsecaseError> {
    tx.commit().await?;
    Ok(pending
        .into_iter()
        .map(|pending| pending.committed(app))
        .collect())
}

/// Checks the free-text reason a caller gave for a revocation (before any transaction).
pub(super) fn checked_reason(raw: Option<&str>) -> Result<Option<String>, UsecaseError> {
    revocation::reason(raw).map_err(|reason| UsecaseError::TextRefused {
        field: "reason",
        reason,
    })
}
