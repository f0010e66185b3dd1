//! A security system revokes every session signed in from a CIDR block: 100,000 user
//! sessions of 10,000 users, among 100,000 others that must stay, in one request. Timed
//! from send to answer next to a dry run of the same selector and a sign-out-everywhere
//! of one user holding the same count, on each backend.
//!
//!     cargo bench --bench risk_revocation
//!     LEASH_BENCH_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench --bench risk_revocation

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::time::{Duration, Instant};

use leash::domain::api_key::Role;
use leash::http::{self, AppState};
use leash::usecase::Settings;
use serde_json::{Value, json};

const USERS: usize = 10_000;
const PER_USER: usize = 10;
const SESSIONS: usize = USERS * PER_USER;
const ROUNDS: usize = 3;

fn main() {
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "revoke by CIDR {SESSIONS} sessions of {USERS} users (among {SESSIONS} others), \
         {ROUNDS} rounds"
    );
    for backend in support::backends() {
        let database = client_runtime.block_on(backend.fresh());
        let db = client_runtime.block_on(database.connect());
        let server = support::server_runtime();
        let app =
            server.block_on(async { support::app(&database.connect().await, Settings::default()) });
        let risk_key = server.block_on(support::key(&app, Role::Risk));
        let admin_key = server.block_on(support::key(&app, Role::Admin));
        let addr = support::serve_on(&server, http::router(AppState::new(app)));
        let client = reqwest::Client::new();
        let users = client_runtime.block_on(async {
            let mut users = Vec::with_capacity(USERS);
            for i in 0..USERS {
                users.push((support::user(&db, &format!("bench-{i}")).await, PER_USER));
            }
            // The others: as many sessions from 172.16.0.0/12, never hit.
            support::seed_sessions_from(&db, &users, |i| in_block(172, 16, i)).await;
            users
        });
        let post = |path: &str, key: &str, body: Value| {
            let started = Instant::now();
            let answer: Value = client_runtime.block_on(async {
                let response = client
                    .post(format!("http://{addr}{path}"))
                    .bearer_auth(key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(
                    response.status().is_success(),
                    "{path}: {}",
                    response.status()
                );
                response.json().await.unwrap()
            });
            (started.elapsed(), answer)
        };
        let (mut dry, mut act, mut sign_out) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let second = 2 * u8::try_from(round).unwrap();
            client_runtime.block_on(async {
                support::seed_sessions_from(&db, &users, |i| in_block(10, second, i)).await;
                support::analyze(&db).await;
            });
            let selector = json!({ "ip_address": format!("10.{second}.0.0/15") });
            let (took, answer) = post(
                "/v1/revocations",
                &risk_key,
                json!({ "selector": selector, "dry_run": true }),
            );
            assert_eq!(answer["would_revoke"]["user_sessions"], SESSIONS as u64);
            dry.push(took);
            let (took, answer) = post(
                "/v1/revocations",
                &risk_key,
                json!({ "selector": selector, "reason": "bench" }),
            );
            assert_eq!(
                answer["revocation"]["user_sessions_revoked"],
                SESSIONS as u64
            );
            act.push(took);

            let user = client_runtime.block_on(async {
                let user = support::user(&db, &format!("one-{round}")).await;
                support::seed_sessions(&db, &user, SESSIONS).await;
                support::analyze(&db).await;
                user
            });
            let (took, answer) = post(
                &format!("/v1/users/{user}/sign-out-everywhere"),
                &admin_key,
                json!({}),
            );
            assert_eq!(answer["user_sessions_revoked"], SESSIONS as u64);
            sign_out.push(took);
        }
        for (what, times) in [
            ("dry run by CIDR", &mut dry),
            ("revoke by CIDR", &mut act),
            ("sign-out-everywhere", &mut sign_out),
        ] {
            times.sort();
            println!(
                "{:<10} {what:<20} median {:>8.1} ms   (each: {})",
                backend.name(),
                support::percentile_ms(times, 0.5),
                each(times)
            );
        }
    }
}

/// The `i`th address of the block starting at `first.second.0.0`.
fn in_block(first: u8, second: u8, i: usize) -> String {
    let second = usize::from(second) + i / 65_536;
    format!("{first}.{second}.{}.{}", (i / 256) % 256, i % 256)
}

fn each(times: &[Duration]) -> String {
    times
        .iter()
        .map(|t| format!("{:.1}", t.as_secs_f64() * 1000.0))
        .collect::<Vec<_>>()
        .join(", ")
}
