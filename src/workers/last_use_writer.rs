//! Flushes the last-use buffer about once a second, and once more on shutdown.

use std::time::Duration;

use tokio::sync::watch;

use crate::usecase::App;
use crate::usecase::record_last_use;

pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

pub async fn run(app: App, shutdown: watch::Receiver<bool>) {
    super::every(FLUSH_INTERVAL, shutdown, || async {
        if let Err(error) = record_last_use::flush(&app).await {
            tracing::warn!(%error, "could not write user sessions' last use; will retry");
        }
    })
    .await;
}
