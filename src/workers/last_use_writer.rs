//! Flushes the last-use buffer about once a second, and once more on shutdown.

use std::time::Duration;

use tokio::sync::watch;

use crate::app::App;
use crate::usecase::record_last_use;

pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(FLUSH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = shutdown.changed() => true,
        };
        if let Err(error) = record_last_use::flush(&app).await {
            tracing::warn!(%error, "could not write user sessions' last use; will retry");
        }
        if stopping {
            return;
        }
    }
}
