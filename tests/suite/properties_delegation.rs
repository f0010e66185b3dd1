//! Property: random sequences of registering, consenting, exchanging, sub-delegating,
//! refreshing, reusing a refresh token, narrowing grants and ceilings, revoking agent
//! sessions, user sessions and grants, disabling agents, signing out everywhere,
//! connecting a provider (again, granted more or fewer scopes), disconnecting it and
//! time passing.
//! After every step, invariants 1–3 of DESIGN.md hold for every agent session row in
//! the database, every revoked row has exactly one event, and introspection agrees
//! with the database for every access token ever handed out.
//!
//! One tolerance is by design: last use reaches the database at most once a minute, so
//! a token whose idle timeout falls within that minute may be judged either way.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use leash::domain::agent_session::AgentSession;
use leash::domain::id::{AgentId, UserId};
use leash::domain::pagination::ListFilter;
use leash::domain::token::TokenHash;
use leash::domain::user_session::{Lifetime, Liveness};
use leash::store;
use leash::usecase;
use leash::usecase::Settings;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::json;

use crate::support::agents::{AgentTokens, TestAgent};
use crate::support::connections::{Carrying, with_provider};
use crate::support::fake_provider::FakeProvider;
use crate::support::invariants::escapees;
use crate::support::scopes::{SCOPES, UPSTREAM, scopes, upstream};
use crate::support::{TestApp, TestSession, TestUser};

const USERS: usize = 2;
const AGENTS: usize = 3;
const DEPTH_LIMIT: u32 = 3;
const LAST_USE_LAG: TimeDelta = TimeDelta::seconds(60);

#[derive(Debug, Clone)]
enum Op {
    Register {
        scopes: Vec<&'static str>,
    },
    SignIn {
        user: usize,
    },
    Consent {
        user: usize,
        agent: usize,
        scopes: Vec<&'static str>,
    },
    Exchange {
        agent: usize,
        device: Index,
        scopes: Option<Vec<&'static str>>,
    },
    SubDelegate {
        agent: usize,
        parent: Index,
        scopes: Option<Vec<&'static str>>,
    },
    Refresh {
        session: Index,
    },
    ReuseRefresh {
        session: Index,
    },
    NarrowCeiling {
        agent: usize,
        scopes: Vec<&'static str>,
    },
    RevokeSession {
        session: Index,
    },
    RevokeGrant {
        user: usize,
        agent: usize,
    },
    DisableAgent {
        agent: usize,
    },
    EnableAgent {
        agent: usize,
    },
    SignOutEverywhere {
        user: usize,
    },
    SignOutDevice {
        device: Index,
    },
    Use {
        session: Index,
    },
    Advance {
        seconds: i64,
    },
    Connect {
        device: Index,
        upstream: Vec<&'static str>,
    },
    Disconnect {
        user: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0..USERS;
    // Ops name agents by index modulo how many there are, so late agents take part.
    let agent = 0..AGENTS + 3;
    prop_oneof![
        1 => scopes().prop_map(|scopes| Op::Register { scopes }),
        2 => user.clone().prop_map(|user| Op::SignIn { user }),
        3 => (user.clone(), agent.clone(), scopes()).prop_map(|(user, agent, scopes)| Op::Consent { user, agent, scopes }),
        4 => (agent.clone(), any::<Index>(), proptest::option::of(scopes())).prop_map(|(agent, device, scopes)| Op::Exchange { agent, device, scopes }),
        4 => (agent.clone(), any::<Index>(), proptest::option::of(scopes())).prop_map(|(agent, parent, scopes)| Op::SubDelegate { agent, parent, scopes }),
        2 => any::<Index>().prop_map(|session| Op::Refresh { session }),
        1 => any::<Index>().prop_map(|session| Op::ReuseRefresh { session }),
        1 => (agent.clone(), scopes()).prop_map(|(agent, scopes)| Op::NarrowCeiling { agent, scopes }),
        1 => any::<Index>().prop_map(|session| Op::RevokeSession { session }),
        1 => (user.clone(), agent.clone()).prop_map(|(user, agent)| Op::RevokeGrant { user, agent }),
        1 => agent.clone().prop_map(|agent| Op::DisableAgent { agent }),
        1 => agent.prop_map(|agent| Op::EnableAgent { agent }),
        1 => user.prop_map(|user| Op::SignOutEverywhere { user }),
        1 => any::<Index>().prop_map(|device| Op::SignOutDevice { device }),
        2 => any::<Index>().prop_map(|session| Op::Use { session }),
        2 => (1i64..900).prop_map(|seconds| Op::Advance { seconds }),
        2 => (any::<Index>(), upstream()).prop_map(|(device, upstream)| Op::Connect { device, upstream }),
        1 => (0..USERS).prop_map(|user| Op::Disconnect { user }),
    ]
}

/// What the test holds: tokens handed out, as an agent runtime would keep them.
struct Held {
    /// Index into `World::agents`, already reduced.
    agent: usize,
    tokens: AgentTokens,
    retired_refresh: Vec<String>,
    every_access: Vec<String>,
}

struct World {
    provider: FakeProvider,
    users: Vec<TestUser>,
    agents: Vec<TestAgent>,
    devices: Vec<TestSession>,
    held: Vec<Held>,
    grants: HashMap<(usize, usize), String>,
}

/// A refusal must be a client error with an OAuth or problem code, never a 5xx.
#[track_caller]
fn ok_or_refused(answer: &crate::support::Answer) -> bool {
    assert!(
        !answer.status.is_server_error(),
        "server error: {:?}",
        answer.body
    );
    answer.status.is_success()
}

async fn apply(app: &TestApp, world: &mut World, op: &Op) {
    match op {
        Op::Register { scopes } => {
            let name = format!("agent-{}", world.agents.len());
            world.agents.push(app.register_agent(&name, scopes).await);
        }
        Op::SignIn { user } => {
            let answer = app
                .post(
                    &format!("/v1/users/{}/sessions", world.users[*user].id),
                    json!({ "ttl_seconds": 7200, "idle_timeout_seconds": 1800 }),
                )
                .await;
            let body = answer.assert_status(StatusCode::CREATED);
            world.devices.push(TestSession {
                id: body["session"]["id"].as_str().unwrap().to_owned(),
                token: body["token"].as_str().unwrap().to_owned(),
            });
        }
        Op::Consent {
            user,
            agent,
            scopes,
        } => {
            let answer = match world.grants.get(&(*user, *agent % world.agents.len())) {
                Some(grant) => {
                    app.send(
                        axum::http::Method::PATCH,
                        &format!("/v1/grants/{grant}"),
                        Some(&app.admin_key),
                        Some("application/json"),
                        json!({ "scopes": scopes }).to_string().into(),
                    )
                    .await
                }
                None => {
                    app.post(
                        &format!("/v1/users/{}/grants", world.users[*user].id),
                        json!({ "agent_id": world.agents[*agent % world.agents.len()].id, "scopes": scopes }),
                    )
                    .await
                }
            };
            if ok_or_refused(&answer) && answer.status == StatusCode::CREATED {
                let id = answer.body["id"].as_str().unwrap().to_owned();
                world
                    .grants
                    .insert((*user, *agent % world.agents.len()), id);
            }
        }
        Op::Exchange {
            agent,
            device,
            scopes,
        }
        | Op::SubDelegate {
            agent,
            parent: device,
            scopes,
        } => {
            let subject = match op {
                Op::Exchange { .. } if !world.devices.is_empty() => world.devices
                    [device.index(world.devices.len())]
                .token
                .clone(),
                Op::SubDelegate { .. } if !world.held.is_empty() => world.held
                    [device.index(world.held.len())]
                .tokens
                .access
                .clone(),
                _ => return,
            };
            let scope = scopes.as_ref().map(|s| s.join(" "));
            let answer = app
                .exchange(
                    &world.agents[*agent % world.agents.len()],
                    &subject,
                    scope.as_deref(),
                )
                .await;
            if ok_or_refused(&answer) {
                let tokens = AgentTokens::from_answer(&answer.body);
                world.held.push(Held {
                    agent: *agent % world.agents.len(),
                    every_access: vec![tokens.access.clone()],
                    tokens,
                    retired_refresh: Vec::new(),
                });
            }
        }
        Op::Refresh { session } => {
            if world.held.is_empty() {
                return;
            }
            let target = session.index(world.held.len());
            let held = &mut world.held[target];
            let answer = app
                .refresh(&world.agents[held.agent], &held.tokens.refresh)
                .await;
            if ok_or_refused(&answer) {
                let next = AgentTokens::from_answer(&answer.body);
                held.retired_refresh.push(held.tokens.refresh.clone());
                held.every_access.push(next.access.clone());
                held.tokens = next;
            }
        }
        Op::ReuseRefresh { session } => {
            let Some(held) = world
                .held
                .iter()
                .skip(session.index(world.held.len().max(1)))
                .find(|h| !h.retired_refresh.is_empty())
            else {
                return;
            };
            let answer = app
                .refresh(&world.agents[held.agent], &held.retired_refresh[0])
                .await;
            ok_or_refused(&answer);
        }
        Op::NarrowCeiling { agent, scopes } => {
            let answer = app
                .send(
                    axum::http::Method::PATCH,
                    &format!(
                        "/v1/agents/{}",
                        world.agents[*agent % world.agents.len()].id
                    ),
                    Some(&app.admin_key),
                    Some("application/json"),
                    json!({ "scopes": scopes }).to_string().into(),
                )
                .await;
            answer.assert_status(StatusCode::OK);
        }
        Op::RevokeSession { session } => {
            if world.held.is_empty() {
                return;
            }
            let held = &world.held[session.index(world.held.len())];
            app.oauth(
                "/oauth2/revoke",
                &world.agents[held.agent],
                &[("token", &held.tokens.refresh)],
            )
            .await;
        }
        Op::RevokeGrant { user, agent } => {
            if let Some(grant) = world.grants.remove(&(*user, *agent % world.agents.len())) {
                app.post_empty(&format!("/v1/grants/{grant}/revoke"))
                    .await
                    .assert_status(StatusCode::OK);
            }
        }
        Op::DisableAgent { agent } | Op::EnableAgent { agent } => {
            let verb = if matches!(op, Op::DisableAgent { .. }) {
                "disable"
            } else {
                "enable"
            };
            app.post_empty(&format!(
                "/v1/agents/{}/{verb}",
                world.agents[*agent % world.agents.len()].id
            ))
            .await
            .assert_status(StatusCode::OK);
        }
        Op::SignOutEverywhere { user } => {
            app.sign_out_everywhere(&world.users[*user], json!({}))
                .await;
        }
        Op::SignOutDevice { device } => {
            if !world.devices.is_empty() {
                let device = &world.devices[device.index(world.devices.len())];
                app.post_empty(&format!("/v1/user-sessions/{}/revoke", device.id))
                    .await
                    .assert_status(StatusCode::OK);
            }
        }
        Op::Use { session } => {
            if !world.held.is_empty() {
                let held = &world.held[session.index(world.held.len())];
                app.is_active(&held.tokens.access).await;
            }
        }
        Op::Advance { seconds } => app.advance(TimeDelta::seconds(*seconds)),
        Op::Connect { device, upstream } => {
            if !world.devices.is_empty() {
                let device = &world.devices[device.index(world.devices.len())];
                let started = app.authorize("", &Carrying::Bearer(&device.token)).await;
                if started.status == StatusCode::FOUND {
                    world.provider.grant_only(&upstream.join(" "));
                    let back = world
                        .provider
                        .consent(started.header("location").unwrap())
                        .await;
                    let finished = app.callback(&back, &Carrying::Nothing, None).await;
                    assert!(!finished.status.is_server_error(), "{}", finished.body);
                }
            }
        }
        Op::Disconnect { user } => {
            let live = app
                .connections(&world.users[*user])
                .await
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["status"] != "disconnected")
                .map(|c| c["id"].as_str().unwrap().to_owned());
            if let Some(id) = live {
                app.post_empty(&format!("/v1/connections/{id}/disconnect"))
                    .await
                    .assert_status(StatusCode::OK);
            }
        }
    }
}

fn live(session: &AgentSession, now: DateTime<Utc>) -> bool {
    session.liveness(now) == Liveness::Active
}

async fn check(app: &TestApp, world: &World, step: usize) {
    usecase::record_last_use::flush(&app.app).await.unwrap();
    let now = app.app.clock.now();
    let mut sessions = HashMap::new();
    let mut user_sessions = HashMap::new();
    let mut disabled_users = HashSet::new();
    for user in &world.users {
        let id = UserId::parse(&user.id).unwrap();
        let rows = store::agent_sessions::list(&app.db, &id, ListFilter::All, now, None, 200)
            .await
            .unwrap();
        sessions.extend(rows.into_iter().map(|(s, _)| (s.id.clone(), s)));
        for s in store::user_sessions::list(&app.db, &id, ListFilter::All, now, None, 200)
            .await
            .unwrap()
        {
            user_sessions.insert(s.id.clone(), s);
        }
        if store::users::get(&app.db, &id)
            .await
            .unwrap()
            .unwrap()
            .status
            == leash::domain::user::UserStatus::Disabled
        {
            disabled_users.insert(id);
        }
    }
    let mut agents = HashMap::new();
    for agent in &world.agents {
        let id = AgentId::parse(&agent.id).unwrap();
        agents.insert(
            id.clone(),
            store::agents::get(&app.db, &id).await.unwrap().unwrap(),
        );
    }
    for s in sessions.values().filter(|s| live(s, now)) {
        let grant = store::grants::get(&app.db, &s.grant_id)
            .await
            .unwrap()
            .unwrap();
        let agent = &agents[&s.agent_id];
        let root = &user_sessions[&s.user_session_id];
        // Invariant 1: within the grant, the ceiling and the parent.
        assert_eq!(
            grant.status,
            leash::domain::grant::GrantStatus::Active,
            "step {step}: {s:?} under a revoked grant"
        );
        assert!(
            s.scopes.is_subset(&grant.scopes),
            "step {step}: {s:?} beyond its grant {grant:?}"
        );
        assert!(
            s.scopes.is_subset(&agent.scopes),
            "step {step}: {s:?} beyond its ceiling"
        );
        assert_eq!(
            agent.status,
            leash::domain::agent::AgentStatus::Active,
            "step {step}: {s:?} of a disabled agent"
        );
        assert!(
            !disabled_users.contains(&s.user_id),
            "step {step}: {s:?} of a disabled user"
        );
        // Invariant 3 at the root: the user session it hangs from is alive.
        assert_eq!(
            root.liveness(now),
            Liveness::Active,
            "step {step}: {s:?} under a dead user session"
        );
        assert!(s.expires_at <= root.expires_at);
        assert!(s.depth <= DEPTH_LIMIT, "step {step}: too deep");
        if let Some(parent_id) = &s.parent_id {
            let parent = &sessions[parent_id];
            assert!(
                s.scopes.is_subset(&parent.scopes),
                "step {step}: {s:?} beyond its parent"
            );
            // Invariants 2 and 3: no later expiry, and never under a dead parent.
            assert!(
                s.expires_at <= parent.expires_at,
                "step {step}: outlives its parent"
            );
            assert_eq!(s.depth, parent.depth + 1);
            assert!(
                live(parent, now),
                "step {step}: {s:?} under a dead parent {parent:?}"
            );
        }
    }
    // Invariant 3 along the whole chain: no active session under a dead ancestor.
    for user in &world.users {
        let escaped = escapees(app, user).await;
        assert!(escaped.is_empty(), "step {step}: {escaped:#?}");
    }
    // Every revoked row is announced exactly once.
    let revoked: HashSet<String> = sessions
        .values()
        .filter(|s| s.revoked.is_some())
        .map(|s| s.id.to_string())
        .collect();
    let events = store::events::list_after(&app.db, 0, 100_000)
        .await
        .unwrap();
    let announced: Vec<String> = events
        .iter()
        .filter(|e| e.event_type == "agent_session.revoked")
        .map(|e| e.data["session"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        announced.len(),
        revoked.len(),
        "step {step}: one event per revoked session"
    );
    assert_eq!(
        announced.into_iter().collect::<HashSet<_>>(),
        revoked,
        "step {step}: events"
    );
    // Introspection agrees with the database for every access token handed out.
    for held in &world.held {
        for token in &held.every_access {
            let expected = store::agent_sessions::find_validity(&app.db, &TokenHash::of(token))
                .await
                .unwrap()
                .map(|(v, last_used)| {
                    let idle_edge = (now - last_used - v.idle_timeout).abs() <= LAST_USE_LAG;
                    (v.liveness(now, last_used) == Liveness::Active, idle_edge)
                });
            let answer = app.introspect(token).await;
            let active = answer["active"].as_bool().unwrap();
            match expected {
                None => assert!(!active, "step {step}: a replaced access token is active"),
                Some((_, true)) => {}
                Some((alive, false)) => assert_eq!(
                    active, alive,
                    "step {step}: introspection disagrees with the database"
                ),
            }
        }
    }
}

async fn run(ops: Vec<Op>) {
    let provider = FakeProvider::start().await;
    let app = TestApp::start_with(with_provider(
        provider.config("acme"),
        Settings {
            delegation_depth_limit: DEPTH_LIMIT,
            agent_session_lifetime: Lifetime {
                ttl: TimeDelta::hours(1),
                idle_timeout: TimeDelta::minutes(20),
            },
            ..Settings::default()
        },
    ))
    .await;
    let mut world = World {
        provider,
        users: Vec::new(),
        agents: Vec::new(),
        devices: Vec::new(),
        held: Vec::new(),
        grants: HashMap::new(),
    };
    for i in 0..USERS {
        world
            .users
            .push(app.create_user(&format!("user-{i}")).await);
    }
    for i in 0..AGENTS {
        world
            .agents
            .push(app.register_agent(&format!("agent-{i}"), &SCOPES).await);
    }
    // Start from a world where delegation can happen, so sequences spend their steps on
    // trees and what kills them: every user signed in once, connected to the provider
    // with all it grants, and consenting to every agent.
    for user in 0..USERS {
        apply(&app, &mut world, &Op::SignIn { user }).await;
        let device = world.devices.last().unwrap();
        let connected = app
            .connect_granting(&world.provider, device, &UPSTREAM)
            .await;
        assert_eq!(connected.status, StatusCode::OK, "{}", connected.body);
        for agent in 0..AGENTS {
            let scopes = SCOPES.to_vec();
            apply(
                &app,
                &mut world,
                &Op::Consent {
                    user,
                    agent,
                    scopes,
                },
            )
            .await;
        }
    }
    for (step, op) in ops.iter().enumerate() {
        apply(&app, &mut world, op).await;
        check(&app, &world, step).await;
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
    fn no_agent_session_outlives_or_exceeds_what_it_hangs_from(ops in prop::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run(ops));
    }
}
