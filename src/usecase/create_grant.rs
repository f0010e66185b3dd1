//! Recording a user's consent for an agent, within the agent's ceiling.

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::grant::{self, Grant, GrantStatus};
use crate::domain::id::{AgentId, GrantId, UserId};
use crate::domain::scope::ScopeSet;
use crate::store::LockMode;
use crate::store::{self, StoreError};
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Records that `user_id` lets `agent_id` use `scopes` for them. The scopes must lie
/// within the agent's ceiling; a user has at most one active grant per agent.
pub async fn create_grant(
    app: &App,
    actor: &Actor,
    user_id: &UserId,
    agent_id: &AgentId,
    scopes: &[String],
) -> Result<Grant, UsecaseError> {
    let scopes = ScopeSet::from_list(scopes)?;
    let agent = store::agents::get(&app.db, agent_id)
        .await?
        .ok_or(UsecaseError::AgentNotFound)?;
    if let Some(missing) = grant::beyond_ceiling(&scopes, &agent.scopes) {
        return Err(UsecaseError::ScopesBeyondCeiling(missing));
    }
    let now = app.clock.now();
    let grant = Grant {
        id: GrantId::generate(),
        user_id: user_id.clone(),
        agent_id: agent_id.clone(),
        scopes,
        status: GrantStatus::Active,
        created_at: now,
        updated_at: now,
    };
    let mut tx = app.db.begin().await?;
    store::users::lock(&mut tx, user_id, LockMode::Update)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    match store::grants::insert(&mut tx, &grant).await {
        Err(StoreError::Conflict) => return Err(UsecaseError::GrantExists),
        other => other?,
    }
    store::audit::append(
        &mut tx,
        &AuditEntry::new(actor, AuditAction::GrantCreated, grant.id.as_str(), now),
    )
    .await?;
    tx.commit().await?;
    Ok(grant)
}
