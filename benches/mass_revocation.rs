//! A million in one call, on each backend: an agent holding 1,000,000 active agent
//! sessions across 100,000 users (each user's ten, three of them with a sub-agent's
//! child and one of those with a grandchild: chains up to depth 3, 1,400,000 sessions
//! in all) is disabled by one HTTP request to a `leash serve` process of its own,
//! events and audit included. Timed from send to commit (the act's revocation record
//! appears) and to answer; the server's resident memory is read before the request and
//! its peak (`VmHWM`) after it. Then one user signed in 1,000,000 times (ten per
//! user of the first part) signs out everywhere, measured the same way on a fresh
//! server.
//!
//!     cargo bench --bench mass_revocation
//!     LEASH_BENCH_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench --bench mass_revocation
//!
//! LEASH_BENCH_USERS (default 100000) scales both down: ten sessions of the agent each,
//! and ten times as many sessions of the user signing out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use leash::clock::{Clock as _, SystemClock};
use leash::domain::agent::{Agent, AgentStatus};
use leash::domain::agent_session::AgentSession;
use leash::domain::api_key::Role;
use leash::domain::id::{AgentId, AgentSessionId, GrantId, UserId};
use leash::domain::scope::ScopeSet;
use leash::domain::token::{SecretToken, TokenHash, TokenKind};
use leash::domain::user::NewUser;
use leash::domain::user_session::UserSession;
use leash::store::agent_sessions::{AccessToken, NewAgentSession};
use leash::store::user_sessions::NewUserSession;
use leash::store::{self, Db};
use leash::usecase::Settings;
use serde_json::Value;

/// Of each user's ten sessions of the agent, how many have a child (the sub-agent's),
/// and of those, how many a grandchild (the third agent's).
const PER_USER: usize = 10;
const WITH_CHILD: usize = 3;
const WITH_GRANDCHILD: usize = 1;

fn main() {
    let users: usize = std::env::var("LEASH_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runtime = support::server_runtime();
    for backend in support::backends() {
        let database = runtime.block_on(backend.fresh());
        let db = runtime.block_on(database.connect());
        let seeding = Instant::now();
        let agent = runtime.block_on(seed(&db, users));
        runtime.block_on(support::analyze(&db));
        let app = support::app(&db, Settings::default());
        let key = runtime.block_on(support::key(&app, Role::Admin));
        println!(
            "{}: seeded {users} users, {} sessions of the agent, {} in all, in {:.0} s",
            backend.name(),
            users * PER_USER,
            users * (PER_USER + WITH_CHILD + WITH_GRANDCHILD),
            seeding.elapsed().as_secs_f64()
        );

        let target = Target {
            runtime: &runtime,
            database: &database,
            db: &db,
            key: &key,
            name: backend.name(),
        };
        target.act(
            &format!("/v1/agents/{agent}/disable"),
            "one agent disable",
            "agent_sessions_revoked",
        );

        let seeding = Instant::now();
        let person = runtime.block_on(support::user(&db, "signed-in-everywhere"));
        runtime.block_on(support::seed_sessions(&db, &person, users * PER_USER));
        runtime.block_on(support::analyze(&db));
        println!(
            "{}: seeded one user with {} sessions in {:.0} s",
            backend.name(),
            users * PER_USER,
            seeding.elapsed().as_secs_f64()
        );
        target.act(
            &format!("/v1/users/{person}/sign-out-everywhere"),
            "one sign-out-everywhere",
            "user_sessions_revoked",
        );
    }
}

/// The database one backend's acts run against, and the admin key that sends them.
struct Target<'a> {
    runtime: &'a tokio::runtime::Runtime,
    database: &'a support::BenchDatabase,
    db: &'a Db,
    key: &'a str,
    name: &'static str,
}

impl Target<'_> {
    /// Sends `POST path` to a `leash serve` process of its own and reports when the act
    /// committed (its revocation record appears), when it was answered, how many
    /// sessions its answer's `counted` field says it revoked, and the server's memory.
    fn act(&self, path: &str, label: &str, counted: &str) {
        let (runtime, db) = (self.runtime, self.db);
        let recorded = runtime.block_on(revocations(db));
        let server = support::served::Served::start(&self.database.url(), &[]);
        let before = server.rss_mib();
        let started = Instant::now();
        let (url, key) = (format!("{}{path}", server.base), self.key.to_owned());
        let request = runtime.spawn(async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(key)
                .timeout(Duration::from_secs(600))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (status, body, started.elapsed())
        });
        // The act's own record says when it committed, whatever the answer says.
        let committed = runtime.block_on(async {
            while revocations(db).await == recorded {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            started.elapsed()
        });
        let (status, body, answered) = runtime.block_on(request).unwrap();
        println!(
            "{}: {label}: committed after {:.1} s; answered {status} after {:.1} s ({} {counted}); server RSS {} MiB before, peak {} MiB",
            self.name,
            committed.as_secs_f64(),
            answered.as_secs_f64(),
            body[counted],
            before,
            server.peak_rss_mib()
        );
    }
}

/// How many revocation records there are.
async fn revocations(db: &Db) -> i64 {
    const SQL: &str = "SELECT COUNT(*) FROM revocations";
    match db {
        Db::Sqlite(readers, _) => sqlx::query_scalar(SQL).fetch_one(readers).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await.unwrap(),
    }
}

/// Three agents (the one to disable, a sub-agent, its sub-agent), `users` users each
/// signed in once and granting all three, and the sessions; answers the first agent.
async fn seed(db: &Db, users: usize) -> AgentId {
    let now = SystemClock.now();
    let scopes = ScopeSet::from_list(&["a"]).unwrap();
    let mut tx = db.begin().await.unwrap();
    let mut agents = Vec::new();
    for name in ["assistant", "reviewer", "runner"] {
        let agent = Agent {
            id: AgentId::generate(),
            name: name.to_owned(),
            scopes: scopes.clone(),
            status: AgentStatus::Active,
            session_lifetime: None,
            created_at: now,
            secret_rotated_at: now,
        };
        let secret = SecretToken::generate(TokenKind::ClientSecret);
        store::agents::insert(&mut tx, &agent, &secret.hash())
            .await
            .unwrap();
        agents.push(agent.id);
    }
    tx.commit().await.unwrap();

    for first in (0..users).step_by(1_000) {
        let mut tx = db.begin().await.unwrap();
        let mut signed_in = Vec::new();
        let mut sessions = Vec::new();
        for i in first..(first + 1_000).min(users) {
            let new = NewUser::new(&format!("person-{i}"), None, None).unwrap();
            let (user, _) = store::users::insert_or_get(&mut tx, &UserId::generate(), &new, now)
                .await
                .unwrap();
            let mut grants = Vec::new();
            for agent_id in &agents {
                grants.push(
                    support::grant(&mut tx, &user.id, agent_id, &scopes)
                        .await
                        .id,
                );
            }
            let device = support::device(&user.id, "198.51.100.1".to_owned(), now);
            for n in 0..PER_USER {
                let root = session(&device, &agents[0], &grants[0], None, &scopes);
                if n < WITH_CHILD {
                    let child = session(&device, &agents[1], &grants[1], Some(&root), &scopes);
                    if n < WITH_GRANDCHILD {
                        sessions.push(session(
                            &device,
                            &agents[2],
                            &grants[2],
                            Some(&child),
                            &scopes,
                        ));
                    }
                    sessions.push(child);
                }
                sessions.push(root);
            }
            signed_in.push(NewUserSession {
                session: device,
                token_hash: TokenHash::of(&format!("leash_ust_bench-{i}")),
            });
        }
        store::user_sessions::insert(&mut tx, &signed_in)
            .await
            .unwrap();
        // Parents before children: each chain was pushed leaf first.
        sessions.reverse();
        store::agent_sessions::insert(&mut tx, &sessions)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    agents.swap_remove(0)
}

/// An active session of `agent_id` from `device`, under `parent` when given.
fn session(
    device: &UserSession,
    agent_id: &AgentId,
    grant_id: &GrantId,
    parent: Option<&NewAgentSession>,
    scopes: &ScopeSet,
) -> NewAgentSession {
    let now = device.created_at;
    let parent = parent.map(|p| &p.session);
    let session = AgentSession {
        id: AgentSessionId::generate(),
        user_id: device.user_id.clone(),
        agent_id: agent_id.clone(),
        grant_id: grant_id.clone(),
        user_session_id: device.id.clone(),
        parent_id: parent.map(|p| p.id.clone()),
        depth: parent.map_or(1, |p| p.depth + 1),
        agent_chain: std::iter::once(agent_id.clone())
            .chain(parent.iter().flat_map(|p| p.agent_chain.iter().cloned()))
            .collect(),
        ancestor_ids: parent
            .iter()
            .flat_map(|p| std::iter::once(p.id.clone()).chain(p.ancestor_ids.iter().cloned()))
            .collect(),
        scopes: scopes.clone(),
        created_at: now,
        last_used_at: now,
        expires_at: now + TimeDelta::hours(12),
        idle_timeout: TimeDelta::hours(1),
        revoked: None,
    };
    NewAgentSession {
        session,
        access: AccessToken {
            hash: TokenHash::of(AgentSessionId::generate().as_str()),
            issued_at: now,
            expires_at: now + TimeDelta::minutes(15),
        },
    }
}
