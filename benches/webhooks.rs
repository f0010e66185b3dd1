//! Webhook delivery of 100,000 revocation events: one sign out everywhere of a user
//! holding 100,000 sessions, then the delivery worker (as `leash serve` runs it) sends
//! every event to a receiver on loopback that checks each signature. Timed from the
//! worker's start to the receiver holding every event; then every stored event id is
//! looked up among those received, and duplicates are counted.
//!
//!     cargo bench --bench webhooks
//!     LEASH_BENCH_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench --bench webhooks

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use leash::domain::actor::Actor;
use leash::usecase;
use leash::usecase::Settings;
use leash::usecase::webhook_endpoints::EndpointChange;
use sha2::Sha256;
use tokio::sync::watch;

const EVENTS: usize = 100_000;

/// Event ids received, with how often each came; every signature checked.
#[derive(Clone)]
struct Receiver {
    key: Arc<Vec<u8>>,
    received: Arc<Mutex<HashMap<String, u32>>>,
    bad_signatures: Arc<Mutex<u64>>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name| headers.get(name).unwrap().to_str().unwrap().to_owned();
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&receiver.key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&body);
    let given = STANDARD
        .decode(signature.strip_prefix("v1,").unwrap())
        .unwrap();
    if mac.verify_slice(&given).is_err() {
        *receiver.bad_signatures.lock().unwrap() += 1;
        return StatusCode::UNAUTHORIZED;
    }
    *receiver.received.lock().unwrap().entry(id).or_default() += 1;
    StatusCode::NO_CONTENT
}

fn main() {
    println!(
        "webhook delivery of {EVENTS} user_session.revoked events from one sign out everywhere"
    );
    for backend in support::backends() {
        let client = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let database = client.block_on(backend.fresh());
        let server = support::server_runtime();
        let mut settings = Settings::default();
        settings.webhooks.allow_private_targets = true;
        let app = server.block_on(async { support::app(&database.connect().await, settings) });

        // The receiver runs on a runtime of its own, as another process would.
        let receiver_runtime = support::server_runtime();
        let listener = receiver_runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (endpoint, secret) = server
            .block_on(usecase::create_webhook_endpoint::create_webhook_endpoint(
                &app,
                &Actor::operator(),
                EndpointChange {
                    url: Some(url),
                    ..EndpointChange::default()
                },
            ))
            .unwrap();
        let receiver = Receiver {
            key: Arc::new(
                STANDARD
                    .decode(secret.expose().strip_prefix("whsec_").unwrap())
                    .unwrap(),
            ),
            received: Arc::default(),
            bad_signatures: Arc::default(),
        };
        let router = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        receiver_runtime.spawn(async move { axum::serve(listener, router).await.unwrap() });

        let revoked = server.block_on(async {
            let user = support::user(&app.db, "bench-webhooks").await;
            support::seed_sessions(&app.db, &user, EVENTS).await;
            usecase::sign_out_everywhere::sign_out_everywhere(
                &app,
                &Actor::operator(),
                leash::domain::revocation::RevocationCause::SignOutEverywhere,
                &user,
                None,
                None,
            )
            .await
            .unwrap()
        });
        assert_eq!(revoked.user_sessions_revoked, EVENTS as u64);

        let (stop, stopped) = watch::channel(false);
        let started = Instant::now();
        let worker = server.spawn(leash::workers::webhook_delivery::run(app.clone(), stopped));
        let deadline = started + Duration::from_secs(900);
        while receiver.received.lock().unwrap().len() < EVENTS {
            assert!(
                Instant::now() < deadline,
                "not every event arrived within 15 minutes"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let elapsed = started.elapsed();
        stop.send(true).unwrap();
        server.block_on(worker).unwrap();

        let stored = server
            .block_on(leash::store::events::list_after(
                &app.db,
                0,
                EVENTS as u32 + 10,
            ))
            .unwrap();
        let received = receiver.received.lock().unwrap();
        let missing = stored
            .iter()
            .filter(|e| !received.contains_key(e.id.as_str()))
            .count();
        let duplicates: u32 = received.values().map(|n| n - 1).sum();
        assert_eq!(stored.len(), EVENTS);
        assert_eq!(missing, 0, "every stored event id was received");
        println!(
            "{:<10} {EVENTS} delivered in {:>6.2} s = {:>6.0} events/s; missing {missing}, duplicates {duplicates}, bad signatures {} (endpoint {})",
            backend.name(),
            elapsed.as_secs_f64(),
            EVENTS as f64 / elapsed.as_secs_f64(),
            receiver.bad_signatures.lock().unwrap(),
            endpoint.id,
        );
    }
}
