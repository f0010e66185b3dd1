//! Forgetting authorizations that were never finished (or were, and expired since), and
//! login links likewise.

use chrono::TimeDelta;

use crate::store;
use crate::usecase::{App, UsecaseError};

/// How long an expired authorization is kept, for a person asking why theirs failed.
const KEPT_AFTER_EXPIRY: TimeDelta = TimeDelta::days(1);

/// Deletes authorizations and login links expired for more than a day. Returns how
/// many.
pub async fn prune_authorizations(app: &App) -> Result<u64, UsecaseError> {
    let before = app.clock.now() - KEPT_AFTER_EXPIRY;
    let mut tx = app.db.begin().await?;
    let pruned = store::oauth_states::prune(&mut tx, before).await?;
    tx.commit().await?;
    Ok(pruned + super::login_links::prune(app, before).await?)
}
