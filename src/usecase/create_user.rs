//! Creating a user, or finding the one the host application already created.

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::UserId;
use crate::domain::user::{NewUser, User};
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Creates the user, or returns the existing one with the same `external_id`. The
/// boolean says whether this call created it.
pub async fn create_user(
    app: &App,
    actor: &Actor,
    new: NewUser,
) -> Result<(User, bool), UsecaseError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let (user, created) =
        store::users::insert_or_get(&mut tx, &UserId::generate(), &new, now).await?;
    if created {
        store::audit::append(
            &mut tx,
            &AuditEntry::new(actor, AuditAction::UserCreated, user.id.as_str(), now),
        )
        .await?;
    }
    tx.commit().await?;
    Ok((user, created))
}
