//! Agent sessions, on each backend:
//!
//! 1. Sign out everywhere of a user holding 100,000 agent sessions (chains of depth 4,
//!    3, 2 and 1 in turn), one HTTP request with its revocation record, events and
//!    audit, against a bare set-based `UPDATE` of as many rows of another such user in
//!    the same database and run. The bar: at most 3× the bare update.
//! 2. Token exchange over HTTP: wrk (Debian package `wrk`) as concurrent agent runtimes
//!    delegating for a fixed time, from one user's session (the worst case: every
//!    issuance holds the same user's row) and from the sessions of 1,000 users (the
//!    usual case); exchanges per second. The
//!    background workers of `leash serve` run beside the server (the audit sealer seals
//!    one entry per exchange).
//!
//! Run:
//!
//!     cargo bench --bench agent_sessions
//!     LEASH_BENCH_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench --bench agent_sessions
//!
//! LEASH_BENCH_AGENT_SESSIONS (default 100000), LEASH_BENCH_ROUNDS (3),
//! LEASH_BENCH_SECONDS (10), LEASH_BENCH_CLIENTS (32).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::time::{Duration, Instant};

use leash::clock::{Clock as _, SystemClock};
use leash::domain::api_key::Role;
use leash::http::{self, AppState};
use leash::store::Db;
use leash::usecase::Settings;
use serde_json::Value;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The baseline: the same state change with nothing else, in one transaction.
async fn bare_update(db: &Db, user_id: &str) -> (Duration, u64) {
    const SQL: &str = "UPDATE agent_sessions SET status = 'revoked', revoked_at = $1, \
                       revocation_cause = 'sign_out_everywhere' \
                       WHERE user_id = $2 AND status = 'active'";
    let now = SystemClock.now().timestamp_millis();
    let started = Instant::now();
    let hit = match db {
        Db::Sqlite(_, writer) => {
            let mut tx = writer.begin().await.unwrap();
            let hit = sqlx::query(SQL)
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            hit.rows_affected()
        }
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await.unwrap();
            let hit = sqlx::query(SQL)
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            hit.rows_affected()
        }
    };
    (started.elapsed(), hit)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let count = usize::try_from(env_or("LEASH_BENCH_AGENT_SESSIONS", 100_000)).unwrap();
    let seconds = env_or("LEASH_BENCH_SECONDS", 10);
    let clients = u32::try_from(env_or("LEASH_BENCH_CLIENTS", 32)).unwrap();
    let rounds = usize::try_from(env_or("LEASH_BENCH_ROUNDS", 3)).unwrap();
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for backend in support::backends() {
        let database = client_runtime.block_on(backend.fresh());
        let db = client_runtime.block_on(database.connect());
        let server = support::server_runtime();
        let app =
            server.block_on(async { support::app(&database.connect().await, Settings::default()) });
        let key = server.block_on(support::key(&app, Role::Admin));
        let _workers = support::spawn_serve_workers(&server, &app);
        let addr = support::serve_on(&server, http::router(AppState::new(app)));
        let client = reqwest::Client::new();

        println!(
            "{}: sign out everywhere of a user holding {count} agent sessions (chains up to depth 4), {rounds} rounds",
            backend.name()
        );
        for round in 0..rounds {
            let (baseline_user, measured_user) = client_runtime.block_on(async {
                let a = support::delegation_setup(&db, &format!("bare-{round}"), 4).await;
                support::seed_agent_sessions(&db, &a, count).await;
                let b = support::delegation_setup(&db, &format!("leash-{round}"), 4).await;
                support::seed_agent_sessions(&db, &b, count).await;
                (a.user_id, b.user_id)
            });
            let (bare, bare_hit) =
                client_runtime.block_on(bare_update(&db, baseline_user.as_str()));
            assert_eq!(bare_hit, count as u64);
            let started = Instant::now();
            let answer: Value = client_runtime.block_on(async {
                let response = client
                    .post(format!(
                        "http://{addr}/v1/users/{measured_user}/sign-out-everywhere"
                    ))
                    .bearer_auth(&key)
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
                response.json().await.unwrap()
            });
            let leash = started.elapsed();
            assert_eq!(answer["agent_sessions_revoked"], count as u64);
            println!(
                "  round {round}: bare UPDATE {:>8.1} ms   Leash (HTTP, events, audit) {:>8.1} ms   ratio {:.2}",
                ms(bare),
                ms(leash),
                leash.as_secs_f64() / bare.as_secs_f64()
            );
        }

        let setup = client_runtime.block_on(support::delegation_setup(&db, "exchanger", 1));
        let (agent_id, secret, _) = &setup.agents[0];
        let many = client_runtime.block_on(support::users_granting(&db, agent_id, 1_000));
        for (shape, subjects) in [
            ("one user", vec![setup.user_session_token.clone()]),
            ("1,000 users", many.clone()),
        ] {
            let file = support::lines_file("subjects", &subjects);
            let load = support::wrk(
                &format!("http://{addr}/oauth2/token"),
                "exchange.lua",
                clients,
                seconds,
                &[
                    ("LEASH_BENCH_CLIENT_ID", agent_id.as_str()),
                    ("LEASH_BENCH_CLIENT_SECRET", secret),
                    ("LEASH_BENCH_SUBJECTS", file.to_str().unwrap()),
                ],
            );
            assert_eq!(load.errors, 0, "wrk saw non-2xx answers");
            println!(
                "{}: token exchange over HTTP, {shape}, wrk -t2 -c{clients} -d{seconds}s: {:.0} exchanges/s, p50 {}, p99 {}",
                backend.name(),
                load.rps,
                load.p50,
                load.p99
            );
        }
    }
}
