//! Renaming an agent and changing its ceiling; narrowing revokes, across users, what
//! holds more.

use crate::domain::actor::Actor;
use crate::domain::agent::Agent;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::AgentId;
use crate::domain::invalidation::Invalidation;
use crate::domain::revocation::{Revocation, RevocationCause, Selector};
use crate::domain::scope::ScopeSet;
use crate::store;
use crate::usecase::revoke_sessions::{Act, commit_maybe, revoke_in};
use crate::usecase::{App, UsecaseError, agents};

/// Changes an agent's name and ceiling. Narrowing the ceiling revokes, across users,
/// every session of the agent holding a scope now beyond it, with descendants (cause
/// `scope_reduced`), in the same transaction.
pub async fn update_agent(
    app: &App,
    actor: &Actor,
    id: &AgentId,
    name: Option<&str>,
    scopes: Option<&[String]>,
) -> Result<(Agent, Option<Revocation>), UsecaseError> {
    let name = name.map(agents::checked_name).transpose()?;
    let scopes = scopes.map(ScopeSet::from_list).transpose()?;
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let mut agent = agents::lock_one(&mut tx, id).await?;
    if let Some(name) = name {
        name.clone_into(&mut agent.name);
    }
    let narrowed = scopes.as_ref().is_some_and(|s| !agent.scopes.is_subset(s));
    if let Some(scopes) = scopes {
        agent.scopes = scopes;
    }
    store::agents::update(&mut tx, &agent).await?;
    store::audit::append(
        &mut tx,
        &AuditEntry::new(actor, AuditAction::AgentUpdated, id.as_str(), now),
    )
    .await?;
    store::invalidation::announce(&mut tx, &Invalidation::Agents).await?;
    let revocation = if narrowed {
        let act = Act {
            actor,
            cause: RevocationCause::ScopeReduced,
            selector: Selector::CeilingNarrowed {
                agent_id: id.clone(),
                allowed: agent.scopes.clone(),
            },
            reason: None,
        };
        Some(revoke_in(&mut tx, app, act).await?)
    } else {
        None
    };
    let revocation = commit_maybe(tx, app, revocation).await?;
    app.invalidate(&Invalidation::Agents);
    Ok((agent, revocation))
}
