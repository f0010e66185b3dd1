//! Polls every Shared Signals transmitter configured for poll delivery, every few
//! seconds, acting on what it holds (`crate::usecase::receive_set::poll_once`).

use std::time::Duration;

use tokio::sync::watch;

use crate::upstream::ssf_transmitter::Delivery;
use crate::usecase::App;
use crate::usecase::receive_set;

pub const POLL_INTERVAL: Duration = Duration::from_secs(5);

pub async fn run(app: App, shutdown: watch::Receiver<bool>) {
    super::every(POLL_INTERVAL, shutdown, || async {
        let transmitters = app.settings.ssf_transmitters.clone();
        for transmitter in transmitters.all() {
            if !matches!(transmitter.config.delivery, Delivery::Poll { .. }) {
                continue;
            }
            match receive_set::poll_once(&app, transmitter).await {
                Ok(round) if round.accepted + round.refused > 0 => tracing::info!(
                    issuer = %transmitter.config.issuer,
                    accepted = round.accepted,
                    refused = round.refused,
                    "security events polled"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(
                    issuer = %transmitter.config.issuer,
                    %error,
                    "could not poll a transmitter; will retry"
                ),
            }
        }
    })
    .await;
}
