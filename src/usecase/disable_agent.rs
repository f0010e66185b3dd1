//! Disabling an agent: its credentials stop working and every session it holds goes.

use crate::domain::actor::Actor;
use crate::domain::agent::AgentStatus;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::AgentId;
use crate::domain::invalidation::Invalidation;
use crate::domain::revocation::{Revocation, RevocationCause, Selector};
use crate::store::{self, Tx};
use crate::usecase::revoke_sessions::{Act, Pending, revoke_in};
use crate::usecase::{App, UsecaseError, agents};

/// Disables the agent: its credentials stop working and every session it holds is
/// revoked, with descendants (which other agents may hold). Disabling again revokes
/// nothing more.
pub async fn disable_agent(
    app: &App,
    actor: &Actor,
    id: &AgentId,
) -> Result<Revocation, UsecaseError> {
    let mut tx = app.db.begin().await?;
    disable_agent_in(&mut tx, app, actor, id)
        .await?
        .commit(tx, app)
        .await
}

/// Disables the agent in `tx`, revoking every session it holds.
pub(super) async fn disable_agent_in(
    tx: &mut Tx,
    app: &App,
    actor: &Actor,
    id: &AgentId,
) -> Result<Pending, UsecaseError> {
    let now = app.clock.now();
    let mut agent = agents::lock_one(tx, id).await?;
    if agent.status == AgentStatus::Active {
        agent.status = AgentStatus::Disabled;
        store::agents::update(tx, &agent).await?;
        store::audit::append(
            tx,
            &AuditEntry::new(actor, AuditAction::AgentDisabled, id.as_str(), now),
        )
        .await?;
    }
    let act = Act {
        actor,
        cause: RevocationCause::AgentDisabled,
        selector: Selector::Agent(id.clone()),
        reason: None,
    };
    // Its credentials are refused from the commit on, wherever they were verified.
    revoke_in(tx, app, act)
        .await?
        .also_stale(tx, Invalidation::Agents)
        .await
}
