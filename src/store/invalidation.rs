//! Cross-instance cache invalidation over PostgreSQL LISTEN/NOTIFY. A notification sent
//! inside a transaction is delivered when (and only if) it commits. SQLite serves one
//! instance, so there is nobody to tell.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPoolOptions};

use super::{Db, StoreError, Tx, on_tx};
use crate::domain::invalidation::Invalidation;

/// The NOTIFY channel every instance listens on.
pub const CHANNEL: &str = "leash_invalidation";
/// `application_name` of the listening connection, followed by `:<process id>`, so an
/// operator (or a test) can find one instance's listener.
pub const LISTENER_APPLICATION_NAME: &str = "leash-invalidation-listener";

/// Queues `message` for the other instances; sent at commit.
pub async fn announce(tx: &mut Tx, message: &Invalidation) -> Result<(), StoreError> {
    if let Tx::Postgres(_) = tx {
        on_tx!(tx, |c| sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(message.encode())
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
    }
    Ok(())
}

/// A dedicated connection listening on [`CHANNEL`]. It reconnects by itself; every
/// reconnect is reported, since messages sent meanwhile are lost.
pub struct Listener {
    inner: PgListener,
}

/// What the listener heard.
pub enum Heard {
    Message(Invalidation),
    /// Nothing arrived within the heartbeat and the connection answered a ping.
    Quiet,
    /// The connection was lost and has been re-established (listening again): anything
    /// sent in between was missed.
    Reconnected,
}

impl Listener {
    /// `None` on SQLite, which has no other instances.
    pub async fn connect(db: &Db) -> Result<Option<Self>, StoreError> {
        let Db::Postgres(pool) = db else {
            return Ok(None);
        };
        let name = format!("{LISTENER_APPLICATION_NAME}:{}", std::process::id());
        let options = (*pool.connect_options()).clone().application_name(&name);
        let own_pool = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        let mut inner = PgListener::connect_with(&own_pool).await?;
        inner.ignore_pool_close_event(true);
        inner.listen(CHANNEL).await?;
        Ok(Some(Self { inner }))
    }

    /// Waits up to `heartbeat` for a message; if none came, pings the connection (within
    /// the same bound) so a silently dead one is noticed. An error means messages may
    /// have been missed; calling again reconnects.
    pub async fn next(&mut self, heartbeat: Duration) -> Result<Heard, StoreError> {
        loop {
            match tokio::time::timeout(heartbeat, self.inner.try_recv()).await {
                Ok(Ok(Some(notification))) => {
                    if let Some(message) = Invalidation::decode(notification.payload()) {
                        return Ok(Heard::Message(message));
                    }
                    tracing::warn!(
                        payload = notification.payload(),
                        "ignoring an unknown invalidation"
                    );
                }
                Ok(Ok(None)) => return Ok(Heard::Reconnected),
                Ok(Err(error)) => return Err(error.into()),
                Err(_elapsed) => {
                    let ping = sqlx::query("SELECT 1").execute(&mut self.inner);
                    return match tokio::time::timeout(heartbeat, ping).await {
                        Ok(Ok(_)) => Ok(Heard::Quiet),
                        Ok(Err(error)) => Err(error.into()),
                        Err(_elapsed) => Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut)),
                    };
                }
            }
        }
    }
}
