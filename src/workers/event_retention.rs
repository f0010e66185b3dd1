//! Deletes events, finished webhook deliveries and attempts past the retention period,
//! authorizations long expired and idempotency keys past their day, about once an hour.
//! Events a pending delivery still needs are kept.

use std::time::Duration;

use tokio::sync::watch;

use crate::usecase::App;
use crate::usecase::{prune_authorizations, prune_events, revoke_by_selector};

pub const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);

pub async fn run(app: App, shutdown: watch::Receiver<bool>) {
    super::every(PRUNE_INTERVAL, shutdown, || async {
        match prune_events::prune_events(&app).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "events past their retention deleted"),
            Err(error) => tracing::warn!(%error, "could not prune events; will retry"),
        }
        if let Err(error) = prune_authorizations::prune_authorizations(&app).await {
            tracing::warn!(%error, "could not prune expired authorizations; will retry");
        }
        if let Err(error) = revoke_by_selector::prune_idempotency_keys(&app).await {
            tracing::warn!(%error, "could not prune expired idempotency keys; will retry");
        }
    })
    .await;
}
