//! Shared by the benchmarks: a fresh database per backend, bulk seeding through the
//! store, and serving a router on loopback in a runtime of its own (as a separate
//! process would).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // a failed unwrap is a failed benchmark; each bench uses part of this

use std::net::SocketAddr;
use std::str::FromStr as _;
use std::sync::Arc;

use axum::Router;
use chrono::TimeDelta;
use leash::clock::{Clock as _, SystemClock};
use leash::domain::actor::Actor;
use leash::domain::agent::{Agent, AgentStatus};
use leash::domain::agent_session::AgentSession;
use leash::domain::api_key::Role;
use leash::domain::grant::{Grant, GrantStatus};
use leash::domain::id::{AgentId, AgentSessionId, GrantId, UserId, UserSessionId};
use leash::domain::scope::ScopeSet;
use leash::domain::token::{SecretToken, TokenKind};
use leash::domain::user::NewUser;
use leash::domain::user_session::UserSession;
use leash::store::Db;
use leash::store::agent_sessions::{AccessToken, NewAgentSession};
use leash::store::user_sessions::NewUserSession;
use leash::usecase::{App, Settings};
use leash::{store, usecase};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

pub mod served;

/// The backends to measure: SQLite always, PostgreSQL when `LEASH_BENCH_POSTGRES_URL`
/// names one.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if let Ok(url) = std::env::var("LEASH_BENCH_POSTGRES_URL") {
        backends.push(Backend::Postgres(url));
    }
    backends
}

#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }

    /// A fresh, migrated database.
    pub async fn fresh(&self) -> BenchDatabase {
        let database = match self {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                BenchDatabase {
                    sqlite: Some((url, dir)),
                    postgres: None,
                }
            }
            Backend::Postgres(url) => {
                let mut admin = PgConnection::connect(url).await.unwrap();
                sqlx::query("DROP SCHEMA IF EXISTS leash_bench CASCADE")
                    .execute(&mut admin)
                    .await
                    .unwrap();
                sqlx::query("CREATE SCHEMA leash_bench")
                    .execute(&mut admin)
                    .await
                    .unwrap();
                let options = PgConnectOptions::from_str(url)
                    .unwrap()
                    .options([("search_path", "leash_bench")]);
                BenchDatabase {
                    sqlite: None,
                    postgres: Some((options, url.clone())),
                }
            }
        };
        database.connect().await.migrate().await.unwrap();
        database
    }
}

/// A benchmark's database. Each runtime that talks to it needs its own pool
/// ([`BenchDatabase::connect`]): a connection belongs to the runtime that opened it.
pub struct BenchDatabase {
    sqlite: Option<(String, tempfile::TempDir)>,
    /// The options (the bench's schema on the search path) and the URL given.
    postgres: Option<(PgConnectOptions, String)>,
}

impl BenchDatabase {
    pub async fn connect(&self) -> Db {
        match (&self.sqlite, &self.postgres) {
            (Some((url, _)), _) => Db::connect(url).await.unwrap(),
            (None, Some((options, _))) => Db::connect_postgres(options.clone()).await.unwrap(),
            (None, None) => unreachable!("a bench database is SQLite or PostgreSQL"),
        }
    }

    /// Its URL, for a `leash serve` of its own.
    pub fn url(&self) -> String {
        match (&self.sqlite, &self.postgres) {
            (Some((url, _)), _) => url.clone(),
            (None, Some((_, url))) => {
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}options=-c%20search_path%3Dleash_bench")
            }
            (None, None) => unreachable!("a bench database is SQLite or PostgreSQL"),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

/// A two-thread runtime for one server, standing in for a separate process. Build the
/// server's pool inside it ([`BenchDatabase::connect`] under `block_on`).
pub fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Serves `router` on an ephemeral loopback port on `runtime`.
pub fn serve_on(runtime: &tokio::runtime::Runtime, router: Router) -> SocketAddr {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Starts on `runtime` the background workers `leash serve` runs beside the server
/// (invalidation listener, last-use writer, audit sealer, webhook delivery), so a
/// measurement pays for them too, and waits until the caches are trusted (at once on
/// SQLite; on PostgreSQL once the listener hears every instance). They run while the
/// returned sender is held.
pub fn spawn_serve_workers(
    runtime: &tokio::runtime::Runtime,
    app: &App,
) -> tokio::sync::watch::Sender<bool> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    runtime.spawn(leash::workers::invalidation_listener::run(
        app.clone(),
        stopped.clone(),
    ));
    runtime.block_on(async {
        while !app.tokens.is_trusted() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    });
    runtime.spawn(leash::workers::last_use_writer::run(
        app.clone(),
        stopped.clone(),
    ));
    runtime.spawn(leash::workers::audit_sealer::run(
        app.clone(),
        stopped.clone(),
    ));
    runtime.spawn(leash::workers::webhook_delivery::run(app.clone(), stopped));
    stop
}

/// An app for a benchmark: the session limits are off, since benchmarks pile up far
/// more sessions per user, and issue faster per agent, than a deployment allows.
pub fn app(db: &Db, settings: Settings) -> App {
    let settings = Settings {
        limits: leash::domain::limits::Limits::unlimited(),
        ..settings
    };
    App::new(db.clone(), Arc::new(SystemClock), settings)
}

pub async fn key(app: &App, role: Role) -> String {
    usecase::create_api_key::create_api_key(app, &Actor::operator(), role, None)
        .await
        .unwrap()
        .1
        .into_exposed()
}

pub async fn user(db: &Db, external_id: &str) -> UserId {
    let mut tx = db.begin().await.unwrap();
    let new = NewUser::new(external_id, None, None).unwrap();
    let (user, _) =
        store::users::insert_or_get(&mut tx, &UserId::generate(), &new, SystemClock.now())
            .await
            .unwrap();
    tx.commit().await.unwrap();
    user.id
}

/// Stores `count` active sessions for `user_id` in transactions of 10,000 and returns
/// their tokens.
pub async fn seed_sessions(db: &Db, user_id: &UserId, count: usize) -> Vec<String> {
    seed_sessions_from(db, &[(user_id.clone(), count)], |_| {
        "198.51.100.1".to_owned()
    })
    .await
}

/// An active session of `user_id` signed in at `now` from `ip`, for 30 days.
pub fn device(user_id: &UserId, ip: String, now: chrono::DateTime<chrono::Utc>) -> UserSession {
    UserSession {
        id: UserSessionId::generate(),
        user_id: user_id.clone(),
        ip_address: Some(ip),
        user_agent: Some("bench".to_owned()),
        created_at: now,
        last_seen_at: now,
        expires_at: now + TimeDelta::days(30),
        idle_timeout: TimeDelta::days(7),
        revoked: None,
    }
}

/// Stores sessions for each user (as many as paired with it), the `i`th of them all
/// signed in from `ip(i)`, in transactions of 10,000; returns their tokens.
pub async fn seed_sessions_from(
    db: &Db,
    users: &[(UserId, usize)],
    ip: impl Fn(usize) -> String,
) -> Vec<String> {
    let now = SystemClock.now();
    let total: usize = users.iter().map(|(_, count)| count).sum();
    let mut tokens = Vec::with_capacity(total);
    let mut batch = Vec::with_capacity(10_000);
    let owners = users
        .iter()
        .flat_map(|(user_id, count)| std::iter::repeat_n(user_id, *count));
    for (i, user_id) in owners.enumerate() {
        let token = SecretToken::generate(TokenKind::UserSession);
        batch.push(NewUserSession {
            session: device(user_id, ip(i), now),
            token_hash: token.hash(),
        });
        tokens.push(token.into_exposed());
        if batch.len() == 10_000 || i + 1 == total {
            let mut tx = db.begin().await.unwrap();
            store::user_sessions::insert(&mut tx, &batch).await.unwrap();
            tx.commit().await.unwrap();
            batch.clear();
        }
    }
    tokens
}

/// Percentile of sorted durations, in milliseconds.
pub fn percentile_ms(sorted: &[std::time::Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// A user signed in once, with `agents` registered agents each holding a grant of
/// scopes `a b c` from the user: what an agent-session benchmark starts from.
pub struct DelegationSetup {
    pub user_id: UserId,
    pub user_session_id: UserSessionId,
    pub user_session_token: String,
    pub agents: Vec<(AgentId, String, GrantId)>,
}

pub async fn delegation_setup(db: &Db, external_id: &str, agents: usize) -> DelegationSetup {
    let user_id = user(db, external_id).await;
    let user_session_token = seed_sessions(db, &user_id, 1).await.remove(0);
    let user_session_id = store::user_sessions::list(
        db,
        &user_id,
        leash::domain::pagination::ListFilter::All,
        SystemClock.now(),
        None,
        1,
    )
    .await
    .unwrap()
    .remove(0)
    .id;
    let now = SystemClock.now();
    let scopes = ScopeSet::from_list(&["a", "b", "c"]).unwrap();
    let mut registered = Vec::new();
    let mut tx = db.begin().await.unwrap();
    for i in 0..agents {
        let secret = SecretToken::generate(TokenKind::ClientSecret);
        let agent = Agent {
            id: AgentId::generate(),
            name: format!("bench-agent-{i}"),
            scopes: scopes.clone(),
            status: AgentStatus::Active,
            session_lifetime: None,
            created_at: now,
            secret_rotated_at: now,
        };
        store::agents::insert(&mut tx, &agent, &secret.hash())
            .await
            .unwrap();
        let grant = grant(&mut tx, &user_id, &agent.id, &scopes).await;
        registered.push((agent.id, secret.into_exposed(), grant.id));
    }
    tx.commit().await.unwrap();
    DelegationSetup {
        user_id,
        user_session_id,
        user_session_token,
        agents: registered,
    }
}

/// `count` users, each signed in once and granting `agent_id` scopes `a b c`; answers
/// their user session tokens.
pub async fn users_granting(db: &Db, agent_id: &AgentId, count: usize) -> Vec<String> {
    let mut users = Vec::with_capacity(count);
    for i in 0..count {
        users.push((user(db, &format!("granting-{agent_id}-{i}")).await, 1));
    }
    let tokens = seed_sessions_from(db, &users, |_| "198.51.100.1".to_owned()).await;
    let scopes = ScopeSet::from_list(&["a", "b", "c"]).unwrap();
    let mut tx = db.begin().await.unwrap();
    for (user_id, _) in users {
        grant(&mut tx, &user_id, agent_id, &scopes).await;
    }
    tx.commit().await.unwrap();
    tokens
}

/// Writes `lines` to a file of this process's in the temporary directory, for a wrk
/// script to read; answers its path.
pub fn lines_file(name: &str, lines: &[String]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("leash-bench-{}-{name}.txt", std::process::id()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// Stores in `tx` an active grant of `scopes` from `user_id` to `agent_id`; answers it.
pub async fn grant(
    tx: &mut leash::store::Tx,
    user_id: &UserId,
    agent_id: &AgentId,
    scopes: &ScopeSet,
) -> Grant {
    let now = SystemClock.now();
    let grant = Grant {
        id: GrantId::generate(),
        user_id: user_id.clone(),
        agent_id: agent_id.clone(),
        scopes: scopes.clone(),
        status: GrantStatus::Active,
        created_at: now,
        updated_at: now,
    };
    store::grants::insert(tx, &grant).await.unwrap();
    grant
}

/// Refreshes PostgreSQL's planner statistics after a bulk load, as autovacuum would
/// soon after one (rows seeded faster than it runs would otherwise be planned for as
/// if the tables were nearly empty); nothing on SQLite.
pub async fn analyze(db: &Db) {
    if let Db::Postgres(pool) = db {
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
    }
}

/// Stores `count` active agent sessions for the setup's user: chains of depth 4, 3, 2
/// and 1 in turn (one agent per level), in transactions of about 10,000.
pub async fn seed_agent_sessions(db: &Db, setup: &DelegationSetup, count: usize) {
    seed_agent_sessions_holding(db, setup, count, &["a", "b"]).await;
}

/// As [`seed_agent_sessions`], each session holding `scopes`; answers their access
/// tokens.
pub async fn seed_agent_sessions_holding(
    db: &Db,
    setup: &DelegationSetup,
    count: usize,
    scopes: &[&str],
) -> Vec<String> {
    let now = SystemClock.now();
    let mut tokens = Vec::with_capacity(count);
    let mut batch: Vec<NewAgentSession> = Vec::with_capacity(10_010);
    let mut made = 0;
    let mut chain_len = 4;
    while made < count {
        let mut parent: Option<AgentSession> = None;
        for level in 0..chain_len.min(count - made) {
            let (agent_id, _, grant_id) = &setup.agents[level % setup.agents.len()];
            let (agent_chain, ancestor_ids) = match &parent {
                Some(p) => (
                    std::iter::once(agent_id.clone())
                        .chain(p.agent_chain.iter().cloned())
                        .collect(),
                    std::iter::once(p.id.clone())
                        .chain(p.ancestor_ids.iter().cloned())
                        .collect(),
                ),
                None => (vec![agent_id.clone()], Vec::new()),
            };
            let session = AgentSession {
                id: AgentSessionId::generate(),
                user_id: setup.user_id.clone(),
                agent_id: agent_id.clone(),
                grant_id: grant_id.clone(),
                user_session_id: setup.user_session_id.clone(),
                parent_id: parent.as_ref().map(|p| p.id.clone()),
                depth: u32::try_from(level + 1).unwrap(),
                agent_chain,
                ancestor_ids,
                scopes: ScopeSet::from_list(scopes).unwrap(),
                created_at: now,
                last_used_at: now,
                expires_at: now + TimeDelta::hours(12),
                idle_timeout: TimeDelta::hours(1),
                revoked: None,
            };
            let access = SecretToken::generate(TokenKind::AccessToken);
            tokens.push(access.expose().to_owned());
            batch.push(NewAgentSession {
                session: session.clone(),
                access: AccessToken {
                    hash: access.hash(),
                    issued_at: now,
                    expires_at: now + TimeDelta::minutes(15),
                },
            });
            parent = Some(session);
            made += 1;
        }
        chain_len = if chain_len == 1 { 4 } else { chain_len - 1 };
        if batch.len() >= 10_000 || made == count {
            let mut tx = db.begin().await.unwrap();
            store::agent_sessions::insert(&mut tx, &batch)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            batch.clear();
        }
    }
    tokens
}

/// What wrk reported.
pub struct Load {
    pub rps: f64,
    pub p50: String,
    pub p99: String,
    pub errors: u64,
}

/// Runs wrk (Debian package `wrk`) with `benches/<script>` against `url`: two threads,
/// `connections` connections, for `seconds`, with `env` for the script.
pub fn wrk(url: &str, script: &str, connections: u32, seconds: u64, env: &[(&str, &str)]) -> Load {
    let script = format!("{}/benches/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = std::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
            &script,
            url,
        ])
        .envs(env.iter().copied())
        .output()
        .expect("wrk is needed: apt-get install wrk");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let field = |prefix: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix).map(|rest| rest.trim().to_owned()))
    };
    Load {
        rps: field("Requests/sec:").unwrap().parse().unwrap(),
        p50: field("50%").unwrap(),
        p99: field("99%").unwrap(),
        errors: field("Non-2xx or 3xx responses:").map_or(0, |n| n.parse().unwrap()),
    }
}
