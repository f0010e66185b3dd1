//! Withdrawing a user's consent for an agent, and every agent session under it.

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::grant::GrantStatus;
use crate::domain::id::GrantId;
use crate::domain::revocation::{Revocation, RevocationCause, Selector};
use crate::store;
use crate::usecase::revoke_sessions::{Act, revoke_in};
use crate::usecase::{App, UsecaseError, grants};

/// Withdraws the consent: every agent session under the grant goes, with descendants
/// (cause `grant_revoked`). Revoking a revoked grant revokes nothing more.
pub async fn revoke_grant(
    app: &App,
    actor: &Actor,
    id: &GrantId,
) -> Result<Revocation, UsecaseError> {
    let known = grants::get(app, id).await?;
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let mut grant = grants::locked(&mut tx, &known.user_id, id).await?;
    if grant.status == GrantStatus::Active {
        grant.status = GrantStatus::Revoked;
        grant.updated_at = now;
        store::grants::update(&mut tx, &grant).await?;
        store::audit::append(
            &mut tx,
            &AuditEntry::new(actor, AuditAction::GrantRevoked, grant.id.as_str(), now),
        )
        .await?;
    }
    let act = Act {
        actor,
        cause: RevocationCause::GrantRevoked,
        selector: Selector::Grant(grant.id.clone()),
        reason: None,
    };
    revoke_in(&mut tx, app, act).await?.commit(tx, app).await
}
