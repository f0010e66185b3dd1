//! Property: random interleavings of sign-in, revoke one, sign out everywhere, credential
//! changed, disable, enable, use and time passing never leave a session active that
//! should be dead (nor kill one that should live), and after every step the database
//! agrees with a model: the same sessions revoked, each with its outbox event.
//!
//! One tolerance is by design: last use reaches the database at most once a minute, so a
//! session whose idle timeout falls within that minute may be judged either way.

use std::collections::HashSet;

use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use leash::domain::id::UserId;
use leash::domain::pagination::ListFilter;
use leash::store;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

const USERS: usize = 3;
const LAST_SEEN_LAG: TimeDelta = TimeDelta::seconds(60);

#[derive(Debug, Clone)]
enum Op {
    SignIn { user: usize, ttl: i64, idle: i64 },
    RevokeOne { session: Index },
    SignOutEverywhere { user: usize, except: Option<Index> },
    CredentialChanged { user: usize, except: Option<Index> },
    Disable { user: usize },
    Enable { user: usize },
    Advance { seconds: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0..USERS;
    prop_oneof![
        4 => (user.clone(), 60i64..3000, 600i64..1500).prop_map(|(user, ttl, idle)| Op::SignIn { user, ttl, idle }),
        2 => any::<Index>().prop_map(|session| Op::RevokeOne { session }),
        1 => (user.clone(), any::<Option<Index>>()).prop_map(|(user, except)| Op::SignOutEverywhere { user, except }),
        1 => (user.clone(), any::<Option<Index>>()).prop_map(|(user, except)| Op::CredentialChanged { user, except }),
        1 => user.clone().prop_map(|user| Op::Disable { user }),
        1 => user.prop_map(|user| Op::Enable { user }),
        3 => (1i64..1200).prop_map(|seconds| Op::Advance { seconds }),
    ]
}

struct ModelSession {
    id: String,
    token: String,
    user: usize,
    expires_at: DateTime<Utc>,
    idle: TimeDelta,
    last_used: DateTime<Utc>,
    revoked: bool,
}

struct Model {
    now: DateTime<Utc>,
    users: Vec<(TestUser, bool)>,
    sessions: Vec<ModelSession>,
}

enum Expect {
    Active,
    Inactive,
    Either,
}

impl ModelSession {
    fn expect(&self, now: DateTime<Utc>) -> Expect {
        if self.revoked || now >= self.expires_at || now - self.last_used >= self.idle {
            Expect::Inactive
        } else if now - self.last_used < self.idle - LAST_SEEN_LAG {
            Expect::Active
        } else {
            Expect::Either
        }
    }

    /// What a revoking act hits: anything not yet revoked and not past its expiry.
    fn revocable(&self, now: DateTime<Utc>) -> bool {
        !self.revoked && now < self.expires_at
    }
}

impl Model {
    fn sessions_of(&self, user: usize) -> Vec<usize> {
        (0..self.sessions.len())
            .filter(|&i| self.sessions[i].user == user)
            .collect()
    }

    /// Revokes what the act hits in the model; returns how many.
    fn revoke(&mut self, hit: impl Fn(usize, &ModelSession) -> bool) -> u64 {
        let now = self.now;
        let mut count = 0;
        for (i, session) in self.sessions.iter_mut().enumerate() {
            if hit(i, session) && session.revocable(now) {
                session.revoked = true;
                count += 1;
            }
        }
        count
    }
}

async fn apply(app: &TestApp, model: &mut Model, op: &Op) {
    match op {
        Op::SignIn { user, ttl, idle } => {
            let (test_user, disabled) = &model.users[*user];
            let answer = app
                .post(
                    &format!("/v1/users/{}/sessions", test_user.id),
                    json!({ "ttl_seconds": ttl, "idle_timeout_seconds": idle }),
                )
                .await;
            if *disabled {
                answer.assert_problem(StatusCode::CONFLICT, "user_disabled");
                return;
            }
            let body = answer.assert_status(StatusCode::CREATED);
            model.sessions.push(ModelSession {
                id: body["session"]["id"].as_str().unwrap().to_owned(),
                token: body["token"].as_str().unwrap().to_owned(),
                user: *user,
                expires_at: model.now + TimeDelta::seconds(*ttl),
                // An idle timeout beyond the lifetime is the lifetime.
                idle: TimeDelta::seconds((*idle).min(*ttl)),
                last_used: model.now,
                revoked: false,
            });
        }
        Op::RevokeOne { session } => {
            if model.sessions.is_empty() {
                return;
            }
            let target = session.index(model.sessions.len());
            let answer = app
                .post_empty(&format!(
                    "/v1/user-sessions/{}/revoke",
                    model.sessions[target].id
                ))
                .await;
            let expected = model.revoke(|i, _| i == target);
            assert_revocation(
                answer.assert_status(StatusCode::OK),
                "user_session_revoked",
                expected,
            );
        }
        Op::SignOutEverywhere { user, except } | Op::CredentialChanged { user, except } => {
            let (path, cause) = match op {
                Op::SignOutEverywhere { .. } => ("sign-out-everywhere", "sign_out_everywhere"),
                _ => ("credential-changed", "credential_changed"),
            };
            let owned = model.sessions_of(*user);
            let spared = except
                .as_ref()
                .filter(|_| !owned.is_empty())
                .map(|i| owned[i.index(owned.len())]);
            let body = match spared {
                Some(i) => json!({ "except_session_id": model.sessions[i].id }),
                None => json!({}),
            };
            let answer = app
                .post(
                    &format!("/v1/users/{}/{path}", model.users[*user].0.id),
                    body,
                )
                .await;
            let expected = model.revoke(|i, s| s.user == *user && Some(i) != spared);
            assert_revocation(answer.assert_status(StatusCode::OK), cause, expected);
        }
        Op::Disable { user } => {
            let answer = app
                .post_empty(&format!("/v1/users/{}/disable", model.users[*user].0.id))
                .await;
            assert_eq!(answer.assert_status(StatusCode::OK)["status"], "disabled");
            model.users[*user].1 = true;
            model.revoke(|_, s| s.user == *user);
        }
        Op::Enable { user } => {
            let answer = app
                .post_empty(&format!("/v1/users/{}/enable", model.users[*user].0.id))
                .await;
            assert_eq!(answer.assert_status(StatusCode::OK)["status"], "active");
            model.users[*user].1 = false;
        }
        Op::Advance { seconds } => {
            app.advance(TimeDelta::seconds(*seconds));
            model.now += TimeDelta::seconds(*seconds);
        }
    }
}

#[track_caller]
fn assert_revocation(body: &Value, cause: &str, expected: u64) {
    assert_eq!(body["cause"], cause);
    assert_eq!(
        body["user_sessions_revoked"], expected,
        "revocation answer: {body}"
    );
}

/// Introspection agrees with the model for every session; the database holds exactly the
/// revocations the model made, each announced by one event.
async fn check(app: &TestApp, model: &mut Model, step: usize) {
    let now = model.now;
    for session in &mut model.sessions {
        let active = app.is_active(&session.token).await;
        match session.expect(now) {
            Expect::Active => assert!(
                active,
                "step {step}: session {} should be active",
                session.id
            ),
            Expect::Inactive => assert!(
                !active,
                "step {step}: session {} should be dead",
                session.id
            ),
            Expect::Either => {}
        }
        if active {
            session.last_used = now;
        }
    }

    let mut revoked_in_db = HashSet::new();
    for (user, _) in &model.users {
        let user_id = UserId::parse(&user.id).unwrap();
        let rows = store::user_sessions::list(&app.db, &user_id, ListFilter::All, now, None, 200)
            .await
            .unwrap();
        revoked_in_db.extend(
            rows.into_iter()
                .filter(|s| s.revoked.is_some())
                .map(|s| s.id.to_string()),
        );
    }
    let revoked_in_model: HashSet<String> = model
        .sessions
        .iter()
        .filter(|s| s.revoked)
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(revoked_in_db, revoked_in_model, "step {step}: revoked rows");

    let events = store::events::list_after(&app.db, 0, 10_000).await.unwrap();
    let announced: Vec<String> = events
        .iter()
        .map(|e| e.data["session"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        announced.len(),
        revoked_in_model.len(),
        "step {step}: one event per revoked session"
    );
    assert_eq!(
        announced.into_iter().collect::<HashSet<_>>(),
        revoked_in_model,
        "step {step}: events"
    );
}

async fn run(ops: Vec<Op>) {
    let app = TestApp::start().await;
    let mut users = Vec::new();
    for i in 0..USERS {
        users.push((app.create_user(&format!("user-{i}")).await, false));
    }
    let mut model = Model {
        now: crate::support::epoch(),
        users,
        sessions: Vec::new(),
    };
    for (step, op) in ops.iter().enumerate() {
        apply(&app, &mut model, op).await;
        check(&app, &mut model, step).await;
    }
}

fn cases() -> u32 {
    std::env::var("LEASH_PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn no_session_outlives_what_should_kill_it(ops in prop::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run(ops));
    }
}
