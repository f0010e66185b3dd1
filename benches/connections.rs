//! Connections, on each backend:
//!
//! 1. Disconnect of a provider connection used by 10,000 agent sessions (chains of
//!    depth 4, 3, 2 and 1 in turn, each holding the provider's scope): one HTTP request
//!    with its revocation record, events, audit, destroyed tokens and owed upstream
//!    revocations; next to a sign-out-everywhere of another user holding as many agent
//!    sessions, in the same database and run. The bar: within 2× of the sign-out.
//! 2. Vending a credential that needs no refresh, over HTTP with wrk (Debian package
//!    `wrk`, 64 connections), against the same stored data as introspection of the same
//!    agent access tokens (cache warm) in the same run: vends/s and p99 next to
//!    introspections/s. The bar: at least 50% of the introspection rate on SQLite. The
//!    two alternate in short slices, so both see the machine in the same state (its
//!    rates drift by ±15% over a minute here).
//!
//! Run:
//!
//!     cargo bench --bench connections
//!     LEASH_BENCH_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench --bench connections
//!
//! LEASH_BENCH_AGENT_SESSIONS (default 10000), LEASH_BENCH_ROUNDS (3),
//! LEASH_BENCH_SLICES (5), LEASH_BENCH_SECONDS (4, per slice),
//! LEASH_BENCH_VENDING_SESSIONS (1000).
//!
//! On PostgreSQL the seeded rows are analyzed before measuring, as autovacuum would
//! after such a load: with no statistics, the planner takes the descendant query of a
//! disconnect for one over nearly empty tables and runs it 10–30× slower.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::io::Write as _;
use std::time::{Duration, Instant};

use leash::clock::{Clock as _, SystemClock};
use leash::domain::api_key::Role;
use leash::domain::connection::{Connection, ConnectionStatus, UpstreamToken};
use leash::domain::id::{ConnectionId, UserId};
use leash::domain::provider::{Pkce, Provider, ProviderId, TokenAuthMethod};
use leash::domain::secret::Secret;
use leash::http::{self, AppState};
use leash::store::Db;
use leash::store::connections::SealedTokens;
use leash::upstream::oauth_provider::{DEFAULT_TIMEOUT, Providers};
use leash::usecase::finish_connection::token_context;
use leash::usecase::{App, Settings};
use serde_json::Value;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A provider `acme` that is configured but never called: nothing here refreshes, and a
/// disconnect without a revocation endpoint owes the provider nothing.
fn acme() -> Providers {
    let url = |path: &str| url::Url::parse(&format!("https://acme.invalid{path}")).unwrap();
    let provider = Provider {
        id: ProviderId::parse("acme").unwrap(),
        authorization_url: url("/authorize"),
        token_url: url("/token"),
        revocation_url: None,
        issuer: None,
        client_id: "leash".to_owned(),
        client_secret: Secret::new("bench".to_owned()),
        scopes: vec!["x".to_owned()],
        scope_separator: " ".to_owned(),
        pkce: Pkce::S256,
        token_auth_method: TokenAuthMethod::ClientSecretBasic,
        allow_private_network: false,
        extra_roots_pem: None,
    };
    Providers::new(
        &[provider],
        "http://127.0.0.1:8080/v1/oauth/callback",
        DEFAULT_TIMEOUT,
    )
    .unwrap()
}

/// Stores a connection of `user_id` to `acme` granting `x`, its token valid an hour.
async fn connect(app: &App, db: &Db, user_id: &UserId) -> ConnectionId {
    let now = SystemClock.now();
    let id = ConnectionId::generate();
    let connection = Connection {
        id: id.clone(),
        user_id: user_id.clone(),
        provider: ProviderId::parse("acme").unwrap(),
        status: ConnectionStatus::Connected,
        granted_scopes: vec!["x".to_owned()],
        token_expires_at: Some(now + chrono::TimeDelta::hours(1)),
        connected_at: now,
        last_refreshed_at: None,
        disconnected_at: None,
        receipt: Vec::new(),
    };
    let keys = &app.settings.encryption_keys;
    let tokens = SealedTokens {
        access_token: keys.seal(
            b"upstream-access-token",
            &token_context(&id, UpstreamToken::Access.as_str()),
        ),
        refresh_token: Some(keys.seal(
            b"upstream-refresh-token",
            &token_context(&id, UpstreamToken::Refresh.as_str()),
        )),
        expires_at: connection.token_expires_at,
    };
    let mut tx = db.begin().await.unwrap();
    leash::store::connections::insert(&mut tx, &connection, &tokens)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

fn main() {
    let count = usize::try_from(env_or("LEASH_BENCH_AGENT_SESSIONS", 10_000)).unwrap();
    let rounds = usize::try_from(env_or("LEASH_BENCH_ROUNDS", 3)).unwrap();
    let slices = env_or("LEASH_BENCH_SLICES", 5);
    let seconds = env_or("LEASH_BENCH_SECONDS", 4);
    let vending = usize::try_from(env_or("LEASH_BENCH_VENDING_SESSIONS", 1_000)).unwrap();
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for backend in support::backends() {
        let database = client_runtime.block_on(backend.fresh());
        let db = client_runtime.block_on(database.connect());
        let server = support::server_runtime();
        let app = server.block_on(async {
            support::app(
                &database.connect().await,
                Settings {
                    providers: acme(),
                    ..Settings::default()
                },
            )
        });
        let admin = server.block_on(support::key(&app, Role::Admin));
        let introspector = server.block_on(support::key(&app, Role::Introspect));
        let _workers = support::spawn_serve_workers(&server, &app);
        let addr = support::serve_on(&server, http::router(AppState::new(app.clone())));
        let client = reqwest::Client::new();
        let post = |path: String| {
            let request = client
                .post(format!("http://{addr}{path}"))
                .bearer_auth(&admin);
            async move {
                let response = request.send().await.unwrap();
                assert!(
                    response.status().is_success(),
                    "{path}: {}",
                    response.status()
                );
                response.json::<Value>().await.unwrap()
            }
        };

        println!(
            "{}: disconnect of a connection used by {count} agent sessions (chains up to depth 4) against sign-out-everywhere of as many, {rounds} rounds",
            backend.name()
        );
        for round in 0..rounds {
            let (signing_out, connection) = client_runtime.block_on(async {
                let a = support::delegation_setup(&db, &format!("sign-out-{round}"), 4).await;
                support::seed_agent_sessions_holding(&db, &a, count, &["acme:x"]).await;
                let b = support::delegation_setup(&db, &format!("disconnect-{round}"), 4).await;
                support::seed_agent_sessions_holding(&db, &b, count, &["acme:x"]).await;
                let connection = connect(&app, &db, &b.user_id).await;
                support::analyze(&db).await;
                (a.user_id, connection)
            });
            let started = Instant::now();
            let signed_out = client_runtime
                .block_on(post(format!("/v1/users/{signing_out}/sign-out-everywhere")));
            let sign_out = started.elapsed();
            assert_eq!(signed_out["agent_sessions_revoked"], count as u64);
            let started = Instant::now();
            let disconnected =
                client_runtime.block_on(post(format!("/v1/connections/{connection}/disconnect")));
            let disconnect = started.elapsed();
            assert_eq!(
                disconnected["revocation"]["agent_sessions_revoked"],
                count as u64
            );
            println!(
                "  round {round}: sign-out-everywhere {:>8.1} ms   disconnect {:>8.1} ms   ratio {:.2}",
                ms(sign_out),
                ms(disconnect),
                disconnect.as_secs_f64() / sign_out.as_secs_f64()
            );
        }

        // Vending against introspection of the same tokens, in the same run.
        let tokens = client_runtime.block_on(async {
            let setup = support::delegation_setup(&db, "vending", 4).await;
            let tokens =
                support::seed_agent_sessions_holding(&db, &setup, vending, &["acme:x"]).await;
            connect(&app, &db, &setup.user_id).await;
            support::analyze(&db).await;
            tokens
        });
        let mut file = tempfile::NamedTempFile::new().unwrap();
        for token in &tokens {
            writeln!(file, "{token}").unwrap();
        }
        let tokens_file = file.path().to_string_lossy().into_owned();
        client_runtime.block_on(async {
            for token in &tokens {
                let vended = client
                    .post(format!("http://{addr}/v1/credentials"))
                    .bearer_auth(token)
                    .json(&serde_json::json!({ "provider": "acme" }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(vended.status(), 200, "{}", vended.text().await.unwrap());
                let introspected: Value = client
                    .post(format!("http://{addr}/oauth2/introspect"))
                    .bearer_auth(&introspector)
                    .form(&[("token", token)])
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(introspected["active"], true);
            }
        });
        println!(
            "{}: over {vending} agent sessions, wrk -t2 -c64, introspection and vending in {slices} alternating slices of {seconds}s",
            backend.name()
        );
        let (mut introspected, mut vended) = (0.0, 0.0);
        for slice in 0..slices {
            let introspection = support::wrk(
                &format!("http://{addr}/oauth2/introspect"),
                "introspect.lua",
                64,
                seconds,
                &[
                    (
                        "LEASH_BENCH_AUTHORIZATION",
                        &format!("Bearer {introspector}"),
                    ),
                    ("LEASH_BENCH_TOKENS", tokens_file.as_str()),
                ],
            );
            assert_eq!(introspection.errors, 0, "introspection: non-2xx answers");
            let vends = support::wrk(
                &format!("http://{addr}/v1/credentials"),
                "vend.lua",
                64,
                seconds,
                &[("LEASH_BENCH_TOKENS", tokens_file.as_str())],
            );
            assert_eq!(vends.errors, 0, "vending: non-2xx answers");
            println!(
                "  slice {slice}: introspection {:.0}/s (p99 {}), vending {:.0}/s (p99 {}): {:.1}%",
                introspection.rps,
                introspection.p99,
                vends.rps,
                vends.p99,
                100.0 * vends.rps / introspection.rps
            );
            introspected += introspection.rps;
            vended += vends.rps;
        }
        println!(
            "  in all: introspection {:.0}/s, vending {:.0}/s: {:.1}% of introspection",
            introspected / slices as f64,
            vended / slices as f64,
            100.0 * vended / introspected
        );
    }
}
