//! Introspection over HTTP on loopback against 1,000,000 stored user sessions, measured
//! with wrk (Debian package `wrk`), next to a trivial axum handler that does the same
//! work in memory (parse the form, hash the token, look it up in a `HashMap`) and, when
//! Node and `tests/oidc-provider`'s packages are installed, next to panva's
//! oidc-provider answering RFC 7662 introspection of as many opaque tokens. Per backend:
//!
//! - `leash serve`, as deployed, with its token cache off (every request reads the
//!   database);
//! - `leash serve` with a cache of 1,000,000 entries, every session introspected once:
//!   its memory with the sessions stored and the cache full, the rate, then the rate
//!   over 60 s in 5-second slices per way of drawing tokens; then, with as many sessions again stored
//!   (2,000,000 live tokens, twice the cache), the same 60 s after 30 s of warming,
//!   tokens drawn uniformly (a miss for every token the cache cannot hold) and
//!   Zipf-like (`benches/introspect.lua`);
//! - on PostgreSQL, how long after a revoke returns on one instance a second instance
//!   stops answering active for a token it had cached.
//!
//! Run with:
//!
//!     cargo bench --bench introspection
//!     LEASH_BENCH_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench --bench introspection
//!
//! `LEASH_BENCH_SESSIONS` (default 1,000,000; the cache holds as many),
//! `LEASH_BENCH_SECONDS` (default 15) and `LEASH_BENCH_SLICE_SECONDS` (default 5) shorten
//! a trial run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
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

/// The length of one of the twelve slices of a served run (default 5 s; warming lasts six).
fn slice_seconds() -> u64 {
    std::env::var("LEASH_BENCH_SLICE_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

fn seconds() -> u64 {
    std::env::var("LEASH_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15)
}

/// How wrk draws the token of each request from the tokens file.
#[derive(Clone, Copy)]
enum Skew {
    Uniform,
    Zipf,
}

const SKEWS: [Skew; 2] = [Skew::Uniform, Skew::Zipf];

impl Skew {
    fn name(self) -> &'static str {
        match self {
            Skew::Uniform => "uniform",
            Skew::Zipf => "zipf",
        }
    }
}

/// wrk, 64 connections, introspecting at `url` tokens from `tokens_file` drawn by `skew`.
fn wrk(
    url: &str,
    authorization: &str,
    tokens_file: &Path,
    seconds: u64,
    skew: Skew,
) -> support::Load {
    support::wrk(
        url,
        "introspect.lua",
        64,
        seconds,
        &[
            ("LEASH_BENCH_AUTHORIZATION", authorization),
            ("LEASH_BENCH_TOKENS", &tokens_file.to_string_lossy()),
            ("LEASH_BENCH_SKEW", skew.name()),
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

/// Stores `sessions()` sessions of 1,000 users named after `prefix`; answers their tokens.
async fn seed(db: &Db, prefix: &str) -> Vec<String> {
    let per_user = sessions() / USERS;
    let mut tokens = Vec::with_capacity(sessions());
    for u in 0..USERS {
        let user = support::user(db, &format!("{prefix}-{u}")).await;
        tokens.extend(support::seed_sessions(db, &user, per_user).await);
    }
    tokens
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut baseline_rps = None;
    let mut cached = Vec::new();
    println!(
        "introspection over HTTP, wrk -t2 -c64 -d{}s, {} stored user sessions, random token per request",
        seconds(),
        sessions()
    );
    for backend in support::backends() {
        let database = runtime.block_on(backend.fresh());
        let db = runtime.block_on(database.connect());
        let started = Instant::now();
        let tokens = runtime.block_on(seed(&db, "bench"));
        println!(
            "{}: seeded {} sessions in {:.1} s",
            backend.name(),
            tokens.len(),
            started.elapsed().as_secs_f64()
        );
        let tokens_file = support::lines_file("introspection-tokens.txt", &tokens);
        let key = runtime.block_on(support::key(
            &support::app(&db, Settings::default()),
            Role::Introspect,
        ));
        let baseline = *baseline_rps.get_or_insert_with(|| {
            let server = support::server_runtime();
            let addr = support::serve_on(&server, in_memory_router(&tokens));
            let load = wrk(
                &format!("http://{addr}/oauth2/introspect"),
                "unused",
                &tokens_file,
                seconds(),
                Skew::Uniform,
            );
            report("in-memory HashMap handler", &load, load.rps);
            load.rps
        });

        let run = Run {
            name: backend.name(),
            database: &database,
            authorization: format!("Bearer {key}"),
            tokens: &tokens,
            tokens_file: &tokens_file,
            baseline,
        };
        run.uncached();
        let (rps, all_cached) = run.cached(&runtime);
        cached.push((format!("leash {}, token cache", backend.name()), rps));
        run.more_live_than_cached(&runtime, &db, all_cached);
        if database.is_postgres() {
            cross_instance_visibility(&database, &runtime);
        }
    }
    peer(&cached);
}

/// What every measured `leash serve` shares in one backend's run.
struct Run<'a> {
    name: &'static str,
    database: &'a support::BenchDatabase,
    authorization: String,
    tokens: &'a [String],
    tokens_file: &'a Path,
    baseline: f64,
}

impl Run<'_> {
    /// `leash serve` with a cache of `capacity` entries.
    fn serve(&self, capacity: usize) -> (support::served::Served, String) {
        let capacity = capacity.to_string();
        let server = support::served::Served::start(
            &self.database.url(),
            &[("LEASH_TOKEN_CACHE_CAPACITY", capacity.as_str())],
        );
        let url = format!("{}/oauth2/introspect", server.base);
        (server, url)
    }

    /// wrk for `seconds()` on the stored sessions' tokens, drawn uniformly.
    fn load(&self, url: &str) -> support::Load {
        wrk(
            url,
            &self.authorization,
            self.tokens_file,
            seconds(),
            Skew::Uniform,
        )
    }

    /// The cache off (capacity 1): every request reads the database.
    fn uncached(&self) {
        let (_server, url) = self.serve(1);
        let load = self.load(&url);
        report(
            &format!("leash {}, cache off", self.name),
            &load,
            self.baseline,
        );
    }

    /// A cache of `sessions()` entries, every stored session introspected once as steady
    /// traffic on live tokens leaves it: the server's memory, the rate, and the rate over
    /// twelve slices per skew. Answers the rate and, per skew of [`SKEWS`], the mean of
    /// the slices: the all-cached references.
    fn cached(&self, runtime: &tokio::runtime::Runtime) -> (f64, [f64; 2]) {
        let name = self.name;
        let (server, url) = self.serve(sessions());
        let idle = server.rss_mib();
        let started = Instant::now();
        runtime.block_on(warm(&url, &self.authorization, self.tokens));
        println!(
            "leash serve, {name}: RSS {idle} MiB started, {} MiB with {} sessions stored and cached (introspected once each over HTTP in {:.0} s)",
            server.rss_mib(),
            self.tokens.len(),
            started.elapsed().as_secs_f64(),
        );
        let load = self.load(&url);
        report(&format!("leash {name}, token cache"), &load, self.baseline);
        let label = format!("leash serve, {name}, all {} cached", self.tokens.len());
        let all_cached =
            SKEWS.map(|skew| slices(&label, &url, &self.authorization, self.tokens_file, skew));
        println!(
            "leash serve, {name}: RSS {} MiB after the runs, peak {} MiB",
            server.rss_mib(),
            server.peak_rss_mib()
        );
        (load.rps, all_cached)
    }

    /// As many sessions again stored (twice as many live tokens as the cache holds):
    /// per skew, warming for six slices' time, then twelve slices measured.
    fn more_live_than_cached(
        &self,
        runtime: &tokio::runtime::Runtime,
        db: &Db,
        all_cached: [f64; 2],
    ) {
        let name = self.name;
        let mut live = self.tokens.to_vec();
        live.extend(runtime.block_on(seed(db, "more")));
        let live_file = support::lines_file("introspection-live-tokens.txt", &live);
        let (server, url) = self.serve(sessions());
        let label = format!(
            "leash serve, {name}, {} live, cache {}",
            live.len(),
            sessions()
        );
        for (skew, reference) in SKEWS.into_iter().zip(all_cached) {
            wrk(
                &url,
                &self.authorization,
                &live_file,
                6 * slice_seconds(),
                skew,
            );
            let mean = slices(&label, &url, &self.authorization, &live_file, skew);
            println!(
                "{label}, {}: {:.1}% of the all-cached rate",
                skew.name(),
                100.0 * mean / reference
            );
        }
        println!(
            "leash serve, {name}: RSS {} MiB with {} live tokens, peak {} MiB",
            server.rss_mib(),
            live.len(),
            server.peak_rss_mib()
        );
    }
}

/// wrk in twelve slices of `slice_seconds()`; prints each slice's rate and answers the mean.
fn slices(label: &str, url: &str, authorization: &str, tokens_file: &Path, skew: Skew) -> f64 {
    let rates: Vec<f64> = (0..12)
        .map(|_| {
            let load = wrk(url, authorization, tokens_file, slice_seconds(), skew);
            assert_eq!(load.errors, 0, "{label}: wrk saw non-2xx answers");
            load.rps
        })
        .collect();
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    let (min, max) = rates
        .iter()
        .fold((f64::MAX, 0.0_f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    println!(
        "{label}, {}, 12 slices of {} s: mean {mean:.0} req/s, min {min:.0}, max {max:.0}: {}",
        skew.name(),
        slice_seconds(),
        rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    mean
}

/// Introspects every token once over HTTP, 32 requests at a time, and checks each is
/// active.
async fn warm(url: &str, authorization: &str, tokens: &[String]) {
    let client = reqwest::Client::new();
    let tasks: Vec<_> = tokens
        .chunks(tokens.len().div_ceil(32))
        .map(|chunk| {
            let (client, url, authorization) =
                (client.clone(), url.to_owned(), authorization.to_owned());
            let chunk = chunk.to_vec();
            tokio::spawn(async move {
                for token in chunk {
                    let response = client
                        .post(&url)
                        .header("authorization", &authorization)
                        .form(&[("token", token)])
                        .send()
                        .await
                        .unwrap();
                    let body: Value = response.json().await.unwrap();
                    assert_eq!(body["active"], true, "{body}");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

/// panva's oidc-provider (`tests/oidc-provider`, the version the end-to-end test runs)
/// answering RFC 7662 introspection of `sessions()` opaque tokens, with the same wrk
/// settings; prints each of Leash's `cached` rates as a multiple of its rate.
fn peer(cached: &[(String, f64)]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider");
    if !root.join("node_modules/oidc-provider").is_dir()
        || Command::new("node").arg("--version").output().is_err()
    {
        println!("oidc-provider not measured: it needs node and `npm ci` in tests/oidc-provider");
        return;
    }
    let tokens_file = std::env::temp_dir().join("leash-bench-peer-tokens.txt");
    let started = Instant::now();
    let mut node = Command::new("node")
        .args(["--max-old-space-size=8192", "introspection-peer.mjs"])
        .current_dir(&root)
        .env("TOKENS", sessions().to_string())
        .env("TOKENS_FILE", &tokens_file)
        .env("CLIENT_SECRET", "bench-secret")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let base = lines
        .find_map(|line| line.unwrap().strip_prefix("listening ").map(str::to_owned))
        .expect("oidc-provider did not start");
    println!(
        "oidc-provider {}: stored {} access tokens in {:.0} s",
        base,
        sessions(),
        started.elapsed().as_secs_f64()
    );
    let load = wrk(
        &format!("{base}/token/introspection"),
        "Basic cmVzb3VyY2Utc2VydmVyOmJlbmNoLXNlY3JldA==",
        &tokens_file,
        seconds(),
        Skew::Uniform,
    );
    node.kill().unwrap();
    node.wait().unwrap();
    assert_eq!(load.errors, 0, "oidc-provider: wrk saw non-2xx answers");
    println!(
        "{:<34} {:>9.0} req/s  p50 {:>8}  p99 {:>8}",
        "oidc-provider 9 (Node, one process)", load.rps, load.p50, load.p99
    );
    for (label, rps) in cached {
        println!("{label}: {:.1}× oidc-provider", rps / load.rps);
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
