//! Introspection over HTTP on loopback against 1,000,000 stored user sessions, measured
//! with wrk (Debian package `wrk`), next to a trivial axum handler that does the same
//! work in memory (parse the form, hash the token, look it up in a `HashMap`). Then, on
//! PostgreSQL, how long after a revoke returns on one instance a second instance stops
//! answering active for a token it had cached.
//!
//!     cargo bench --bench introspection
//!     LEASH_BENCH_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench --bench introspection
//!
//! `LEASH_BENCH_SESSIONS` (default 1,000,000) and `LEASH_BENCH_SECONDS` (default 15)
//! shorten a trial run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::routing::post;
use axum::{Json, Router};
use leash::domain::api_key::Role;
use leash::domain::token::TokenHash;
use leash::http::{self, AppState};
use leash::store::Db;
use leash::usecase::{App, Settings};
use serde::Deserialize;
use serde_json::{Value, json};

const USERS: usize = 1_000;

fn sessions() -> usize {
    std::env::var("LEASH_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn seconds() -> u64 {
    std::env::var("LEASH_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15)
}

fn wrk(addr: SocketAddr, key: &str, tokens_file: &std::path::Path) -> support::Load {
    support::wrk(
        &format!("http://{addr}/oauth2/introspect"),
        "introspect.lua",
        64,
        seconds(),
        &[
            ("LEASH_BENCH_KEY", key),
            ("LEASH_BENCH_TOKENS", &tokens_file.to_string_lossy()),
        ],
    )
}

fn report(label: &str, load: &support::Load, baseline: f64) {
    println!(
        "{label:<34} {:>9.0} req/s  p50 {:>8}  p99 {:>8}  {:>5.1}% of in-memory{}",
        load.rps,
        load.p50,
        load.p99,
        100.0 * load.rps / baseline,
        if load.errors > 0 {
            format!("  ({} errors!)", load.errors)
        } else {
            String::new()
        }
    );
    assert_eq!(load.errors, 0, "{label}: wrk saw non-2xx answers");
}

#[derive(Deserialize)]
struct IntrospectionForm {
    token: String,
}

/// The in-memory reference: the same request, hashed and looked up in a map.
fn in_memory_router(tokens: &[String]) -> Router {
    let map: HashMap<TokenHash, (String, usize)> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (TokenHash::of(t), (format!("uss_{i:032x}"), i % USERS)))
        .collect();
    Router::new()
        .route(
            "/oauth2/introspect",
            post(
                |State(map): State<Arc<HashMap<TokenHash, (String, usize)>>>,
                 Form(form): Form<IntrospectionForm>| async move {
                    match map.get(&TokenHash::of(&form.token)) {
                        Some((session, user)) => {
                            Json(json!({ "active": true, "session_id": session, "sub": user }))
                        }
                        None => Json(json!({ "active": false })),
                    }
                },
            ),
        )
        .with_state(Arc::new(map))
}

async fn seed(db: &Db) -> Vec<String> {
    let per_user = sessions() / USERS;
    let mut tokens = Vec::with_capacity(sessions());
    for u in 0..USERS {
        let user = support::user(db, &format!("bench-{u}")).await;
        tokens.extend(support::seed_sessions(db, &user, per_user).await);
    }
    tokens
}

/// Introspects a sample through HTTP and checks every answer is active.
async fn assert_active(addr: SocketAddr, key: &str, sample: &[String]) {
    let client = reqwest::Client::new();
    for token in sample {
        let body: Value = client
            .post(format!("http://{addr}/oauth2/introspect"))
            .bearer_auth(key)
            .form(&[("token", token)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["active"], true);
    }
}

/// Fills the token cache the way steady traffic would, by introspecting every token once.
async fn warm(app: &App, tokens: &[String]) {
    let chunks: Vec<Vec<String>> = tokens
        .chunks(tokens.len().div_ceil(4))
        .map(<[String]>::to_vec)
        .collect();
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let app = app.clone();
            tokio::spawn(async move {
                for token in chunk {
                    leash::usecase::introspect::introspect(&app, &token)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut baseline_rps = None;
    println!(
        "introspection over HTTP, wrk -t2 -c64 -d{}s, {} stored user sessions, random token per request",
        seconds(),
        sessions()
    );
    for backend in support::backends() {
        let database = runtime.block_on(backend.fresh());
        let db = runtime.block_on(database.connect());
        let started = Instant::now();
        let tokens = runtime.block_on(seed(&db));
        println!(
            "{}: seeded {} sessions in {:.1} s",
            backend.name(),
            tokens.len(),
            started.elapsed().as_secs_f64()
        );
        let tokens_file = dir.path().join("tokens.txt");
        let mut file = std::fs::File::create(&tokens_file).unwrap();
        for token in &tokens {
            writeln!(file, "{token}").unwrap();
        }
        drop(file);
        let key = runtime.block_on(support::key(
            &support::app(&db, Settings::default()),
            Role::Introspect,
        ));

        let baseline = *baseline_rps.get_or_insert_with(|| {
            let server = support::server_runtime();
            let addr = support::serve_on(&server, in_memory_router(&tokens));
            let load = wrk(addr, "unused", &tokens_file);
            report("in-memory HashMap handler", &load, load.rps);
            load.rps
        });

        let run = Run {
            database: &database,
            key: &key,
            tokens: &tokens,
            tokens_file: &tokens_file,
            baseline,
        };
        // The cache off (capacity 1): every request reads the database.
        let uncached = Settings {
            token_cache_capacity: 1,
            ..Settings::default()
        };
        run.measure(
            &format!("leash {}, cache off", backend.name()),
            uncached,
            false,
        );
        // The cache on and warm, as for steady traffic on live tokens.
        run.measure(
            &format!("leash {}, token cache", backend.name()),
            Settings::default(),
            true,
        );

        if database.is_postgres() {
            cross_instance_visibility(&database, &runtime);
        }
    }
}

/// What every measured Leash server shares in one backend's run.
struct Run<'a> {
    database: &'a support::BenchDatabase,
    key: &'a str,
    tokens: &'a [String],
    tokens_file: &'a std::path::Path,
    baseline: f64,
}

impl Run<'_> {
    /// Serves Leash with `settings` on a runtime of its own, warms its token cache first
    /// if asked, and runs wrk against it.
    fn measure(&self, label: &str, settings: Settings, warm_first: bool) {
        let server = support::server_runtime();
        let app = server.block_on(async { support::app(&self.database.connect().await, settings) });
        // Trusted as `serve`'s invalidation listener trusts both caches once connected (on
        // PostgreSQL they start untrusted, and an untrusted key map sends every request's
        // API key to the database).
        app.resync();
        if warm_first {
            let started = Instant::now();
            server.block_on(warm(&app, self.tokens));
            println!(
                "{label}: warmed the token cache ({} entries) in {:.1} s",
                app.tokens.len(),
                started.elapsed().as_secs_f64()
            );
        }
        let addr = support::serve_on(&server, http::router(AppState::new(app)));
        server.block_on(assert_active(addr, self.key, &self.tokens[..100]));
        report(label, &wrk(addr, self.key, self.tokens_file), self.baseline);
    }
}

/// Two instances (each its own pool, token cache and LISTEN connection) on one
/// PostgreSQL: B caches a token, A revokes it, and B is polled until it answers
/// inactive. Reports the delay from A's answer to B's first inactive answer.
fn cross_instance_visibility(database: &support::BenchDatabase, runtime: &tokio::runtime::Runtime) {
    const ROUNDS: usize = 300;
    // Each instance: its own runtime, pool, token cache and LISTEN connection.
    let instance = || {
        let server = support::server_runtime();
        let app =
            server.block_on(async { support::app(&database.connect().await, Settings::default()) });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        server.spawn(leash::workers::invalidation_listener::run(
            app.clone(),
            stopped,
        ));
        let addr = support::serve_on(&server, http::router(AppState::new(app.clone())));
        (app, addr, server, stop)
    };
    let (a, addr_a, _server_a, _stop_a) = instance();
    let (b, addr_b, _server_b, _stop_b) = instance();
    let key = runtime.block_on(support::key(&a, Role::Admin));
    runtime.block_on(measure_visibility(ROUNDS, &b, addr_a, addr_b, &key));
}

async fn measure_visibility(
    rounds: usize,
    b: &App,
    addr_a: SocketAddr,
    addr_b: SocketAddr,
    key: &str,
) {
    while !b.tokens.is_trusted() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let client = reqwest::Client::new();
    let post = |url: String| client.post(url).bearer_auth(key);
    let post_json = |path: String, body: Value| {
        let request = post(format!("http://{addr_a}{path}")).json(&body);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let user = post_json("/v1/users".to_owned(), json!({ "external_id": "cross" })).await;
    let user = user["id"].as_str().unwrap().to_owned();
    let active_on_b = |token: String| {
        let request = post(format!("http://{addr_b}/oauth2/introspect")).form(&[("token", token)]);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap()["active"] == true }
    };
    let mut delays = Vec::with_capacity(rounds);
    let mut first_answer_inactive = 0;
    for _ in 0..rounds {
        let created = post_json(format!("/v1/users/{user}/sessions"), json!({})).await;
        let token = created["token"].as_str().unwrap().to_owned();
        assert!(active_on_b(token.clone()).await);
        let response = post(format!(
            "http://{addr_a}/v1/users/{user}/sign-out-everywhere"
        ))
        .send()
        .await
        .unwrap();
        assert!(response.status().is_success());
        let returned = Instant::now();
        let mut polls = 0;
        while active_on_b(token.clone()).await {
            polls += 1;
            assert!(
                returned.elapsed() < Duration::from_secs(5),
                "B never saw the revoke"
            );
        }
        if polls == 0 {
            first_answer_inactive += 1;
        }
        delays.push(returned.elapsed());
    }
    delays.sort();
    println!(
        "cross-instance revoke visibility (PostgreSQL, {rounds} rounds): p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms; \
         B's first answer after the revoke was already inactive in {first_answer_inactive}/{rounds}",
        support::percentile_ms(&delays, 0.5),
        support::percentile_ms(&delays, 0.99),
        support::percentile_ms(&delays, 1.0),
    );
}
