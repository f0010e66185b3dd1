//! Hears the other instances' invalidations (PostgreSQL LISTEN) and applies them to this
//! instance's token cache. Whenever the connection may have missed a message, the cache
//! is distrusted until the listener is connected again, then emptied and trusted.

use std::time::Duration;

use tokio::sync::watch;

use crate::store::invalidation::{Heard, Listener};
use crate::usecase::App;

const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The wait before the next attempt to connect: twice the last, at most [`MAX_BACKOFF`].
fn longer(backoff: Duration) -> Duration {
    (backoff * 2).min(MAX_BACKOFF)
}

/// Runs until `shutdown` turns true. Returns at once on SQLite.
pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let heartbeat = app.settings.invalidation_heartbeat;
    let mut backoff = FIRST_BACKOFF;
    let mut listener = loop {
        match Listener::connect(&app.db).await {
            Ok(None) => return,
            Ok(Some(listener)) => break listener,
            Err(error) => {
                tracing::warn!(%error, "invalidation listener cannot connect; the token cache stays off");
                if sleep_or_shutdown(backoff, &mut shutdown).await {
                    return;
                }
                backoff = longer(backoff);
            }
        }
    };
    app.resync();
    tracing::info!("invalidation listener connected; token cache on");
    loop {
        let heard = tokio::select! {
            heard = listener.next(heartbeat) => heard,
            _ = shutdown.changed() => return,
        };
        match heard {
            Ok(Heard::Message(message)) => app.invalidate(&message),
            Ok(Heard::Quiet) if !app.tokens.is_trusted() => {
                app.resync();
                tracing::info!("invalidation listener reconnected; token cache on");
            }
            Ok(Heard::Quiet) => {}
            Ok(Heard::Reconnected) => {
                app.resync();
                tracing::warn!(
                    "invalidation listener reconnected after a drop; token cache emptied"
                );
            }
            Err(error) => {
                app.distrust();
                tracing::warn!(%error, "invalidation listener lost its connection; token cache off");
                if sleep_or_shutdown(backoff, &mut shutdown).await {
                    return;
                }
                backoff = longer(backoff);
                continue;
            }
        }
        backoff = FIRST_BACKOFF;
    }
}

/// Sleeps; true if shutdown came first.
async fn sleep_or_shutdown(duration: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(duration) => false,
        _ = shutdown.changed() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failed_attempt_waits_twice_as_long_up_to_a_bound() {
        assert_eq!(longer(FIRST_BACKOFF), Duration::from_millis(100));
        assert_eq!(longer(Duration::from_secs(2)), Duration::from_secs(4));
        assert_eq!(longer(Duration::from_secs(4)), MAX_BACKOFF);
        assert_eq!(longer(MAX_BACKOFF), MAX_BACKOFF);
    }
}
