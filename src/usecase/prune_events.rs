//! Pruning events, finished deliveries and attempts past their retention.

use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Deletes events older than the retention period that are dispatched and needed by no
/// pending delivery, with finished deliveries and attempts as old. Returns events deleted.
pub async fn prune_events(app: &App) -> Result<u64, UsecaseError> {
    let before = app.clock.now() - app.settings.event_retention;
    let mut tx = app.db.begin().await?;
    let pruned = store::webhook_deliveries::prune(&mut tx, before).await?;
    tx.commit().await?;
    Ok(pruned)
}
