//! A user's consent for an agent: record it and read it (`update_grant` changes its
//! scopes, `revoke_grant` withdraws it).

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::grant::{self, Grant, GrantStatus};
use crate::domain::id::{AgentId, GrantId, UserId};
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::domain::scope::ScopeSet;
use crate::store::LockMode;
use crate::store::{self, StoreError};
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Records that `user_id` lets `agent_id` use `scopes` for them. The scopes must lie
/// within the agent's ceiling; a user has at most one active grant per agent.
pub async fn create(
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

pub async fn get(app: &App, id: &GrantId) -> Result<Grant, UsecaseError> {
    store::grants::get(&app.db, id)
        .await?
        .ok_or(UsecaseError::GrantNotFound)
}

/// One page of the user's grants, newest first.
pub async fn list_for_user(
    app: &App,
    user_id: &UserId,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Grant>, UsecaseError> {
    let size = PageSize::new(limit)?;
    let after = cursor.map(Cursor::decode).transpose()?;
    store::users::get(&app.db, user_id)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    let rows = store::grants::list_for_user(
        &app.db,
        user_id,
        after.as_ref().map(Cursor::key),
        size.get() + 1,
    )
    .await?;
    Ok(Page::from_overfetch(rows, size, |g| g.id.as_str()))
}
