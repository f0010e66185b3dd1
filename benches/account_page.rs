//! The self-service page of a person with 50 devices and 200 agent sessions (chains of
//! depth 4, 3, 2 and 1), among 100,000 audit entries of other people and 500 of their
//! own: `GET /account` with the page's cookie over loopback HTTP, timed from send to the
//! last byte.
//!
//!     cargo bench --bench account_page
//!     LEASH_BENCH_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench --bench account_page

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::time::{Duration, Instant};

use leash::clock::{Clock as _, SystemClock};
use leash::domain::actor::Actor;
use leash::domain::api_key::Role;
use leash::domain::audit::{AuditAction, AuditEntry};
use leash::domain::id::UserId;
use leash::http::{self, AppState};
use leash::store;
use leash::usecase::Settings;
use serde_json::json;

const DEVICES: usize = 50;
const AGENT_SESSIONS: usize = 200;
const OTHERS_AUDIT: usize = 100_000;
const OWN_AUDIT: usize = 500;
const WARM_UP: usize = 20;
const REQUESTS: usize = 200;

fn main() {
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "GET /account: {DEVICES} devices, {AGENT_SESSIONS} agent sessions, \
         {OTHERS_AUDIT} + {OWN_AUDIT} audit entries; {REQUESTS} requests after {WARM_UP}"
    );
    for backend in support::backends() {
        let database = client_runtime.block_on(backend.fresh());
        let db = client_runtime.block_on(database.connect());
        let setup = client_runtime.block_on(async {
            let setup = support::delegation_setup(&db, "bench-page", 4).await;
            support::seed_sessions(&db, &setup.user_id, DEVICES - 1).await;
            support::seed_agent_sessions(&db, &setup, AGENT_SESSIONS).await;
            seed_audit(&db, &setup.user_id).await;
            support::analyze(&db).await;
            setup
        });
        let server = support::server_runtime();
        let app =
            server.block_on(async { support::app(&database.connect().await, Settings::default()) });
        let admin_key = server.block_on(support::key(&app, Role::Admin));
        let addr = support::serve_on(&server, http::router(AppState::new(app)));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie = client_runtime.block_on(async {
            let link: serde_json::Value = client
                .post(format!(
                    "http://{addr}/v1/users/{}/login-links",
                    setup.user_id
                ))
                .bearer_auth(&admin_key)
                .json(&json!({ "user_session_id": setup.user_session_id }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let url = link["url"].as_str().unwrap();
            let path = url.split_once("/account").unwrap().1;
            let followed = client
                .get(format!("http://{addr}/account{path}"))
                .send()
                .await
                .unwrap();
            let set = followed.headers()["set-cookie"].to_str().unwrap();
            set.split(';').next().unwrap().to_owned()
        });
        let mut times: Vec<Duration> = Vec::with_capacity(REQUESTS);
        let mut size = 0;
        client_runtime.block_on(async {
            for i in 0..WARM_UP + REQUESTS {
                let started = Instant::now();
                let response = client
                    .get(format!("http://{addr}/account"))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                let body = response.text().await.unwrap();
                if i >= WARM_UP {
                    times.push(started.elapsed());
                }
                size = body.len();
                assert_eq!(body.matches("class=\"card depth-").count(), AGENT_SESSIONS);
            }
        });
        times.sort();
        println!(
            "{:<10} median {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} KiB a page)",
            backend.name(),
            support::percentile_ms(&times, 0.5),
            support::percentile_ms(&times, 0.95),
            support::percentile_ms(&times, 0.99),
            support::percentile_ms(&times, 1.0),
            size / 1024
        );
    }
}

/// Other people's entries, and the person's own (entries of their first session).
async fn seed_audit(db: &leash::store::Db, user_id: &UserId) {
    let now = SystemClock.now();
    let me = Actor::user(user_id.clone(), None);
    let mut entries = Vec::with_capacity(10_000);
    for i in 0..OTHERS_AUDIT + OWN_AUDIT {
        let entry = if i < OTHERS_AUDIT {
            AuditEntry::new(
                &Actor::user(UserId::generate(), None),
                AuditAction::UserSessionCreated,
                format!("uss_{i:032x}"),
                now,
            )
        } else {
            AuditEntry::new(&me, AuditAction::GrantUpdated, format!("grt_{i:032x}"), now)
        };
        entries.push(entry);
        if entries.len() == 10_000 || i + 1 == OTHERS_AUDIT + OWN_AUDIT {
            let mut tx = db.begin().await.unwrap();
            store::audit::append_all(&mut tx, &entries).await.unwrap();
            tx.commit().await.unwrap();
            entries.clear();
        }
    }
}
