//! Enabling a disabled agent again.

use crate::domain::actor::Actor;
use crate::domain::agent::{Agent, AgentStatus};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::AgentId;
use crate::domain::invalidation::Invalidation;
use crate::store;
use crate::usecase::{App, UsecaseError, agents};

/// Enables the agent again; nothing it held comes back.
pub async fn enable_agent(app: &App, actor: &Actor, id: &AgentId) -> Result<Agent, UsecaseError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let mut agent = agents::lock_one(&mut tx, id).await?;
    if agent.status == AgentStatus::Disabled {
        agent.status = AgentStatus::Active;
        store::agents::update(&mut tx, &agent).await?;
        store::audit::append(
            &mut tx,
            &AuditEntry::new(actor, AuditAction::AgentEnabled, id.as_str(), now),
        )
        .await?;
        store::invalidation::announce(&mut tx, &Invalidation::Agents).await?;
    }
    tx.commit().await?;
    app.invalidate(&Invalidation::Agents);
    Ok(agent)
}
