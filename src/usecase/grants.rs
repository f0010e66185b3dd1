//! A user's consent for an agent: record it, read it, narrow or widen it, withdraw it.

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::grant::{self, Grant, GrantStatus};
use crate::domain::id::{AgentId, GrantId, UserId};
use crate::domain::invalidation::Invalidation;
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::domain::revocation::{Revocation, RevocationCause, Selector};
use crate::domain::scope::ScopeSet;
use crate::store::LockMode;
use crate::store::{self, StoreError};
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::revoke_sessions::{forget_cached, revoke_in};

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
    let known = get(app, id).await?;
    let agent = store::agents::get(&app.db, &known.agent_id)
        .await?
        .ok_or(UsecaseError::AgentNotFound)?;
    if let Some(missing) = grant::beyond_ceiling(&scopes, &agent.scopes) {
        return Err(UsecaseError::ScopesBeyondCeiling(missing));
    }
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    store::users::lock(&mut tx, &known.user_id, LockMode::Update).await?;
    let mut grant = store::grants::get(&mut tx, id)
        .await?
        .ok_or(UsecaseError::GrantNotFound)?;
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
    let stale = Invalidation::User(grant.user_id.clone());
    let revocation = if narrowed {
        let selector = Selector::GrantNarrowed {
            grant_id: grant.id.clone(),
            allowed: grant.scopes.clone(),
        };
        let cause = RevocationCause::ScopeReduced;
        Some(revoke_in(&mut tx, app, actor, cause, &selector, None, &stale).await?)
    } else {
        None
    };
    tx.commit().await?;
    forget_cached(app, &stale);
    Ok((grant, revocation))
}

/// Withdraws the consent: every agent session under the grant goes, with descendants
/// (cause `grant_revoked`). Revoking a revoked grant revokes nothing more.
pub async fn revoke(app: &App, actor: &Actor, id: &GrantId) -> Result<Revocation, UsecaseError> {
    let known = get(app, id).await?;
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    store::users::lock(&mut tx, &known.user_id, LockMode::Update).await?;
    let mut grant = store::grants::get(&mut tx, id)
        .await?
        .ok_or(UsecaseError::GrantNotFound)?;
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
    let stale = Invalidation::User(grant.user_id.clone());
    let selector = Selector::Grant(grant.id.clone());
    let cause = RevocationCause::GrantRevoked;
    let revocation = revoke_in(&mut tx, app, actor, cause, &selector, None, &stale).await?;
    tx.commit().await?;
    forget_cached(app, &stale);
    Ok(revocation)
}
