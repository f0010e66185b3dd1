//! The invalidation listener's hold on the token cache, observed through the cache
//! (PostgreSQL only: on SQLite there is nothing to listen to and the cache is always
//! trusted). A quiet heartbeat keeps what is cached; after the cache was distrusted (the
//! connection failed), the next heartbeat that gets through trusts it again.

use std::time::Duration;

use leash::app::Settings;

use crate::support::TestApp;

async fn until(what: &str, condition: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_keep_the_cache_and_trust_returns_after_a_drop() {
    let app = TestApp::start_with(Settings {
        invalidation_heartbeat: Duration::from_millis(50),
        ..Settings::default()
    })
    .await;
    if !app.database.is_postgres() {
        assert!(
            app.app.tokens.is_trusted(),
            "SQLite's cache is trusted from the start"
        );
        return;
    }
    until("the listener connects", || app.app.tokens.is_trusted()).await;
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    assert!(app.is_active(&device.token).await);
    assert_eq!(app.app.tokens.len(), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        app.app.tokens.len(),
        1,
        "quiet heartbeats emptied the cache"
    );

    app.app.tokens.distrust();
    assert!(app.app.tokens.is_empty());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(app.is_active(&device.token).await);
    assert_eq!(
        app.app.tokens.len(),
        1,
        "the cache was never trusted again after the drop"
    );
}
