//! Changing the scopes a user consents to; narrowing revokes what holds more.

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::grant::{self, Grant, GrantStatus};
use crate::domain::id::GrantId;
use crate::domain::revocation::{Revocation, RevocationCause, Selector};
use crate::domain::scope::ScopeSet;
use crate::store;
use crate::usecase::revoke_sessions::{Act, commit_maybe, revoke_in};
use crate::usecase::{App, UsecaseError, grants};

/// Changes the scopes a user consents to, within the agent's ceiling. Narrowing revokes
/// every agent session under the grant that holds a scope no longer granted, with its
/// descendants (cause `scope_reduced`), in the same transaction.
pub async fn update_scopes(
    app: &App,
    actor: &Actor,
    id: &GrantId,
    scopes: &[String],
) -> Result<(Grant, Option<Revocation>), UsecaseError> {
    let scopes = ScopeSet::from_list(scopes)?;
    let known = grants::get(app, id).await?;
    let agent = store::agents::get(&app.db, &known.agent_id)
        .await?
        .ok_or(UsecaseError::AgentNotFound)?;
    if let Some(missing) = grant::beyond_ceiling(&scopes, &agent.scopes) {
        return Err(UsecaseError::ScopesBeyondCeiling(missing));
    }
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let mut grant = grants::locked(&mut tx, &known.user_id, id).await?;
    if grant.status == GrantStatus::Revoked {
        return Err(UsecaseError::GrantRevoked);
    }
    let narrowed = !grant.scopes.is_subset(&scopes);
    grant.scopes = scopes;
    grant.updated_at = now;
    store::grants::update(&mut tx, &grant).await?;
    store::audit::append(
        &mut tx,
        &AuditEntry::new(actor, AuditAction::GrantUpdated, grant.id.as_str(), now),
    )
    .await?;
    let pending = if narrowed {
        let act = Act {
            actor,
            cause: RevocationCause::ScopeReduced,
            selector: Selector::GrantNarrowed {
                grant_id: grant.id.clone(),
                allowed: grant.scopes.clone(),
            },
            reason: None,
        };
        Some(revoke_in(&mut tx, app, act).await?)
    } else {
        None
    };
    let revocation = commit_maybe(tx, app, pending).await?;
    Ok((grant, revocation))
}
