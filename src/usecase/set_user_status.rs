//! Disabling a user (offboarding) revokes every session and refuses new ones until the
//! user is enabled again. Enabling revives nothing.

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::UserId;
use crate::domain::revocation::{Revocation, RevocationCause, Selector};
use crate::domain::user::{User, UserStatus};
use crate::store;
use crate::store::LockMode;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::revoke_sessions::{Act, revoke_in};

/// Disables the user and revokes all their sessions in one transaction.
pub async fn disable_user(
    app: &App,
    actor: &Actor,
    user_id: &UserId,
) -> Result<(User, Revocation), UsecaseError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    store::users::lock(&mut tx, user_id, LockMode::Update)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    let user = store::users::set_status(&mut tx, user_id, UserStatus::Disabled, now).await?;
    store::audit::append(
        &mut tx,
        &AuditEntry::new(actor, AuditAction::UserDisabled, user_id.as_str(), now),
    )
    .await?;
    let act = Act {
        actor,
        cause: RevocationCause::UserDisabled,
        selector: Selector::for_user(RevocationCause::UserDisabled, user_id.clone(), None),
        reason: None,
    };
    let revocation = revoke_in(&mut tx, app, act).await?.commit(tx, app).await?;
    Ok((user, revocation))
}

pub async fn enable_user(app: &App, actor: &Actor, user_id: &UserId) -> Result<User, UsecaseError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    store::users::lock(&mut tx, user_id, LockMode::Update)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    let user = store::users::set_status(&mut tx, user_id, UserStatus::Active, now).await?;
    store::audit::append(
        &mut tx,
        &AuditEntry::new(actor, AuditAction::UserEnabled, user_id.as_str(), now),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}
