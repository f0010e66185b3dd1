//! Asks providers to revoke the tokens disconnects destroyed, about once a second (and
//! at once again while it finds work). Every instance runs one; they lease disjoint rows.

use std::time::Duration;

use tokio::sync::watch;

use crate::usecase::App;
use crate::usecase::revoke_upstream_tokens;

pub const INTERVAL: Duration = Duration::from_secs(1);

pub async fn run(app: App, shutdown: watch::Receiver<bool>) {
    super::every(INTERVAL, shutdown, || async {
        loop {
            match revoke_upstream_tokens::revoke_due(&app).await {
                Ok(0) => break,
                Ok(asked) => tracing::info!(asked, "asked providers to revoke tokens"),
                Err(error) => {
                    tracing::warn!(%error, "could not revoke upstream tokens; will retry");
                    break;
                }
            }
        }
    })
    .await;
}
