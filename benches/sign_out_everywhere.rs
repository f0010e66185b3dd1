//! Sign out everywhere of a user with 10,000 active sessions: one HTTP request, timed
//! from send to answer, on each backend. Events and audit are written in the same
//! transaction, as always.
//!
//!     cargo bench --bench sign_out_everywhere
//!     LEASH_BENCH_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench --bench sign_out_everywhere

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::time::{Duration, Instant};

use leash::domain::api_key::Role;
use leash::http::{self, AppState};
use leash::usecase::Settings;
use serde_json::Value;

const SESSIONS: usize = 10_000;
const ROUNDS: usize = 5;

fn main() {
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("sign out everywhere of one user holding {SESSIONS} active sessions, {ROUNDS} rounds");
    for backend in support::backends() {
        let database = client_runtime.block_on(backend.fresh());
        let db = client_runtime.block_on(database.connect());
        let server = support::server_runtime();
        let app =
            server.block_on(async { support::app(&database.connect().await, Settings::default()) });
        let key = server.block_on(support::key(&app, Role::Admin));
        let addr = support::serve_on(&server, http::router(AppState::new(app)));
        let client = reqwest::Client::new();
        let mut times: Vec<Duration> = Vec::new();
        for round in 0..ROUNDS {
            let user = client_runtime.block_on(async {
                let user = support::user(&db, &format!("bench-{round}")).await;
                support::seed_sessions(&db, &user, SESSIONS).await;
                user
            });
            let started = Instant::now();
            let answer: Value = client_runtime.block_on(async {
                let response = client
                    .post(format!("http://{addr}/v1/users/{user}/sign-out-everywhere"))
                    .bearer_auth(&key)
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
                response.json().await.unwrap()
            });
            times.push(started.elapsed());
            assert_eq!(answer["user_sessions_revoked"], SESSIONS as u64);
        }
        times.sort();
        println!(
            "{:<10} median {:>7.1} ms   max {:>7.1} ms   (each: {})",
            backend.name(),
            support::percentile_ms(&times, 0.5),
            support::percentile_ms(&times, 1.0),
            times
                .iter()
                .map(|t| format!("{:.1}", t.as_secs_f64() * 1000.0))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
