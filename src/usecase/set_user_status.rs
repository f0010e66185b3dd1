//! Disabling a user (offboarding) revokes every session and refuses new ones until the
//! user is enabled again. Enabling revives nothing.

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::UserId;
use crate::domain::revocation::{Revocation, RevocationCause, Selector};
use crate::domain::user::{User, UserStatus};
use crate::store;
use crate::store::{LockMode, Tx};
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::revoke_sessions::{Act, Pending, revoke_in};

/// Disables the user and revokes all their sessions in one transaction.
pub async fn disable_user(
    app: &App,
    actor: &Actor,
    user_id: &UserId,
) -> Result<(User, Revocation), UsecaseError> {
    let mut tx = app.db.begin().await?;
    let (user, pending) = disable_user_in(&mut tx, app, actor, user_id).await?;
    Ok((user, pending.commit(tx, app).await?))
}

/// Disables the user in `tx`, revoking every session of theirs.
pub(super) async fn disable_user_in(
    tx: &mut Tx,
    app: &App,
    actor: &Actor,
    user_id: &UserId,
) -> Result<(User, Pending), UsecaseError> {
    let now = app.clock.now();
    store::users::lock(tx, user_id, LockMode::Update)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    let user = store::users::set_status(tx, user_id, UserStatus::Disabled, now).await?;
    store::audit::append(
        tx,
        &AuditEntry::new(actor, AuditAction::UserDisabled, user_id.as_str(), now),
    )
    .await?;
    let act = Act {
        actor,
        cause: RevocationCause::UserDisabled,
        selector: Selector::for_user(RevocationCause::UserDisabled, user_id.clone(), None),
        reason: None,
    };
    Ok((user, revoke_in(tx, app, act).await?))
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
