//! Sign out everywhere, and its twin for a password reset: every user session of the
//! user, optionally except the one that asked, and every agent session of the user.

use crate::domain::actor::Actor;
use crate::domain::id::{UserId, UserSessionId};
use crate::domain::revocation::{Revocation, RevocationCause, Selector};
use crate::store;
use crate::store::LockMode;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::revoke_sessions::{Act, checked_reason, revoke_in};

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
    store::users::lock(&mut tx, user_id, LockMode::Update)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    if let Some(except) = except
        && store::user_sessions::owner(&mut tx, except).await?.as_ref() != Some(user_id)
    {
        return Err(UsecaseError::UserSessionNotFound);
    }
    let act = Act {
        actor,
        cause,
        selector: Selector::for_user(cause, user_id.clone(), except.cloned()),
        reason,
    };
    revoke_in(&mut tx, app, act).await?.commit(tx, app).await
}
