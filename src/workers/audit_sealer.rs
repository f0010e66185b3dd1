//! Seals new audit entries into the hash chain about once a second, and once more on
//! shutdown.

use std::time::Duration;

use tokio::sync::watch;

use crate::usecase::App;
use crate::usecase::seal_audit;

pub const SEAL_INTERVAL: Duration = Duration::from_secs(1);

pub async fn run(app: App, shutdown: watch::Receiver<bool>) {
    super::every(SEAL_INTERVAL, shutdown, || async {
        if let Err(error) = seal_audit::seal_audit(&app).await {
            tracing::warn!(%error, "could not seal audit entries; will retry");
        }
    })
    .await;
}
