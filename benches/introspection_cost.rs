//! What one introspection costs Leash's own code, free of the noise of a load test:
//! `LEASH_BENCH_REQUESTS` requests (default 20,000) through the full router in one
//! thread, with no network and no load generator, over 1,000 stored user sessions on
//! SQLite, with the token cache warm (`LEASH_BENCH_CACHE=off`: every request reads the
//! database). It prints the time per request. Under callgrind, which counts
//! instructions whatever else the machine does, the difference between two request
//! counts is the cost of the extra requests, to within a few percent (tokens and hash
//! seeds are random, so two measurements of one binary differ a little):
//!
//!     cargo bench --bench introspection_cost --no-run
//!     LEASH_BENCH_REQUESTS=2000  valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/introspection_cost-… --bench
//!     LEASH_BENCH_REQUESTS=12000 valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/introspection_cost-… --bench
//!
//! (instructions per request = the difference of the two totals ÷ 10,000).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use leash::domain::api_key::Role;
use leash::http::{self, AppState};
use leash::usecase::Settings;
use tower::ServiceExt as _;

const SESSIONS: usize = 1_000;

fn main() {
    let requests: usize = std::env::var("LEASH_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let cached = std::env::var("LEASH_BENCH_CACHE").map_or(true, |v| v != "off");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let database = support::Backend::Sqlite.fresh().await;
        let db = database.connect().await;
        let user = support::user(&db, "cost").await;
        let tokens = support::seed_sessions(&db, &user, SESSIONS).await;
        let settings = Settings {
            token_cache_capacity: if cached { 1 << 20 } else { 1 },
            ..Settings::default()
        };
        let app = support::app(&db, settings);
        let key = support::key(&app, Role::Introspect).await;
        let router = http::router(AppState::new(app));
        let introspect = |token: &str| {
            let request = Request::post("/oauth2/introspect")
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("token={token}")))
                .unwrap();
            let router = router.clone();
            async move {
                let answer = router.oneshot(request).await.unwrap();
                assert!(answer.status().is_success());
                axum::body::to_bytes(answer.into_body(), 1 << 16)
                    .await
                    .unwrap()
            }
        };
        // Warm: every token once (and the key).
        for token in &tokens {
            introspect(token).await;
        }
        let started = Instant::now();
        for i in 0..requests {
            let body = introspect(&tokens[i % SESSIONS]).await;
            assert!(body.starts_with(b"{\"active\":true"));
        }
        let elapsed = started.elapsed();
        println!(
            "{requests} introspections ({}): {:.2} µs each",
            if cached {
                "token cache warm"
            } else {
                "cache off"
            },
            elapsed.as_secs_f64() * 1e6 / requests as f64
        );
    });
}
