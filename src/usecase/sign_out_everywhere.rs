//! Sign out everywhere, and its twin for a password reset: every user session of the
//! user, optionally except the one that asked.

use crate::app::App;
use crate::domain::actor::Actor;
use crate::domain::id::{UserId, UserSessionId};
use crate::domain::revocation::{Revocation, RevocationCause, UserSessionSelector};
use crate::store;
use crate::usecase::UsecaseError;
use crate::usecase::revoke_user_sessions::{checked_reason, forget_cached, revoke_in};

/// Revokes every active session of the user except `except` (which must be theirs).
/// `cause` is [`RevocationCause::SignOutEverywhere`] or
/// [`RevocationCause::CredentialChanged`].
pub async fn sign_out_everywhere(
    app: &App,
    actor: &Actor,
    cause: RevocationCause,
    user_id: &UserId,
    except: Option<&UserSessionId>,
    reason: Option<&str>,
) -> Result<Revocation, UsecaseError> {
    let reason = checked_reason(reason)?;
    let mut tx = app.db.begin().await?;
    store::users::lock(&mut tx, user_id)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    if let Some(except) = except
        && store::user_sessions::owner(&mut tx, except).await?.as_ref() != Some(user_id)
    {
        return Err(UsecaseError::UserSessionNotFound);
    }
    let selector = UserSessionSelector::for_user(cause, user_id.clone(), except.cloned());
    let revocation = revoke_in(&mut tx, app, actor, cause, user_id, &selector, reason).await?;
    tx.commit().await?;
    forget_cached(app, user_id);
    Ok(revocation)
}
