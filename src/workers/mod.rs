//! Background loops. Each owns one concern and stops when the shutdown signal fires.

pub mod audit_sealer;
pub mod event_retention;
pub mod invalidation_listener;
pub mod last_use_writer;
pub mod ssf_poll;
pub mod upstream_revocation;
pub mod webhook_delivery;

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Runs `work` every `interval` until shutdown, and once more when it comes, so what
/// was buffered or appended last is not left behind.
pub(crate) async fn every<F, Fut>(
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
    mut work: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = shutdown.changed() => true,
        };
        work().await;
        if stopping {
            return;
        }
    }
}
