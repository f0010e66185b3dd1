//! The invalidation listener's hold on the token cache, observed through the cache
//! (PostgreSQL only: on SQLite there is nothing to listen to and the cache is always
//! trusted). A quiet heartbeat keeps what is cached; after the cache was distrusted (the
//! connection failed), the next heartbeat that gets through trusts it again; a listener
//! that cannot reconnect leaves the caches distrusted until it can.

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use leash::clock::SystemClock;
use leash::store::Db;
use leash::usecase::{App, Settings};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::support::TestApp;
use crate::support::database::postgres_url;

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

/// Refuses new connections to database `name` and ends the ones it has.
async fn cut_off(admin: &mut PgConnection, name: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false"
    )))
    .execute(&mut *admin)
    .await
    .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(name)
        .execute(&mut *admin)
        .await
        .unwrap();
}

/// Runs `app`'s invalidation listener until the returned sender says stop.
fn start_listener(
    app: &App,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let listener = tokio::spawn(leash::workers::invalidation_listener::run(
        app.clone(),
        stopped,
    ));
    (stop, listener)
}

/// The listener's backend is cut while its database takes no new connections (a
/// database of its own, so no other test is touched): the instance stops trusting its
/// caches, since a revocation may go unheard, until the listener is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_cannot_reconnect_keeps_the_caches_distrusted_until_it_can() {
    let Some(base_url) = postgres_url() else {
        return;
    };
    let name = format!("leash_listener_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&base_url).await.unwrap();
    let run = |sql: String| sqlx::query(sqlx::AssertSqlSafe(sql));
    // What a failed earlier run left behind (one suite at a time runs this test).
    let leftovers: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'leash_listener_%'")
            .fetch_all(&mut admin)
            .await
            .unwrap();
    for leftover in leftovers {
        run(format!("DROP DATABASE {leftover} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    run(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let options = PgConnectOptions::from_str(&base_url)
        .unwrap()
        .database(&name);
    let db = Db::connect_postgres(options).await.unwrap();
    db.migrate().await.unwrap();
    let app = App::new(
        db,
        Arc::new(SystemClock),
        Settings {
            invalidation_heartbeat: Duration::from_millis(50),
            ..Settings::default()
        },
    );
    let (stop, listener) = start_listener(&app);
    until("the listener connects", || app.tokens.is_trusted()).await;

    cut_off(&mut admin, &name).await;
    until("the caches are distrusted", || !app.tokens.is_trusted()).await;

    run(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .execute(&mut admin)
        .await
        .unwrap();
    until("the listener is back", || app.tokens.is_trusted()).await;

    stop.send(true).unwrap();
    listener.await.unwrap();

    // A listener that cannot connect at all still stops when told to, between attempts.
    cut_off(&mut admin, &name).await;
    let (stop, listener) = start_listener(&app);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), listener)
        .await
        .expect("the listener kept trying to connect after shutdown")
        .unwrap();
    drop(app);
    run(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}
