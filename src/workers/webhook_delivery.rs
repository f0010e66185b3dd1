//! Delivers webhooks: rounds of dispatch, lease, send and record back to back while
//! there is work, a short sleep when there is none. Safe to run on every instance: on
//! PostgreSQL workers lease disjoint deliveries (`FOR UPDATE SKIP LOCKED`).

use tokio::sync::watch;

use crate::usecase::App;
use crate::usecase::deliver_webhooks;

pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let sender = match app.settings.webhooks.sender() {
        Ok(sender) => sender,
        Err(error) => {
            tracing::error!(%error, "cannot build the webhook HTTP client; no webhooks will be sent");
            return;
        }
    };
    let idle = app.settings.webhooks.poll_interval;
    loop {
        let busy = match deliver_webhooks::run_once(&app, &sender).await {
            Ok(round) => round.found_work(),
            Err(error) => {
                tracing::warn!(%error, "webhook delivery round failed; will retry");
                false
            }
        };
        if *shutdown.borrow() {
            return;
        }
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
