//! Property: for random delegation trees (exchanges and sub-delegations by several
//! agents from several devices of several users) and random revoking acts, the
//! revocation core's preview of each act changes nothing (every table is compared
//! before and after) and foretells it exactly (disconnecting a provider and connecting
//! it again granted less among the acts): the act then revokes as many sessions of
//! each kind as the preview counted, and every session the preview showed by name.

use std::collections::{BTreeMap, HashMap};

use leash::domain::actor::Actor;
use leash::domain::id::{AgentId, AgentSessionId, ConnectionId, GrantId, UserId, UserSessionId};
use leash::domain::provider::ProviderId;
use leash::domain::revocation::{Preview, Revocation, RevocationCause, Selector, SessionKind};
use leash::domain::scope::ScopeSet;
use leash::domain::token::TokenHash;
use leash::store;
use leash::usecase;
use leash::usecase::finish_connection::Callback;
use leash::usecase::revocations::PREVIEW_SAMPLE;
use leash::usecase::start_connection::ConnectRequest;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::support::agents::TestAgent;
use crate::support::connections::app_with;
use crate::support::database::snapshot;
use crate::support::fake_provider::FakeProvider;
use crate::support::scopes::{SCOPES, UPSTREAM, scopes, upstream};
use crate::support::{TestApp, TestSession};

const USERS: usize = 2;
const DEVICES: usize = 2;
const AGENTS: usize = 3;

/// How the tree grows.
#[derive(Debug, Clone)]
enum Grow {
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
}

/// A revoking act, by what it selects.
#[derive(Debug, Clone)]
enum Act {
    UserSession(Index),
    AllOfUser {
        user: usize,
        except: Option<Index>,
    },
    AgentSession(Index),
    Grant(Index),
    GrantNarrowed {
        grant: Index,
        keep: Vec<&'static str>,
    },
    Agent(usize),
    CeilingNarrowed {
        agent: usize,
        keep: Vec<&'static str>,
    },
    /// The user disconnects the provider.
    Connection(usize),
    /// The user connects the provider again and it grants only `keep`.
    ConnectionNarrowed {
        user: usize,
        keep: Vec<&'static str>,
    },
}

fn grow() -> impl Strategy<Value = Grow> {
    prop_oneof![
        (0..AGENTS, any::<Index>(), proptest::option::of(scopes())).prop_map(
            |(agent, device, scopes)| Grow::Exchange {
                agent,
                device,
                scopes
            }
        ),
        (0..AGENTS, any::<Index>(), proptest::option::of(scopes())).prop_map(
            |(agent, parent, scopes)| Grow::SubDelegate {
                agent,
                parent,
                scopes
            }
        ),
    ]
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        any::<Index>().prop_map(Act::UserSession),
        (0..USERS, proptest::option::of(any::<Index>()))
            .prop_map(|(user, except)| Act::AllOfUser { user, except }),
        any::<Index>().prop_map(Act::AgentSession),
        any::<Index>().prop_map(Act::Grant),
        (any::<Index>(), scopes()).prop_map(|(grant, keep)| Act::GrantNarrowed { grant, keep }),
        (0..AGENTS).prop_map(Act::Agent),
        (0..AGENTS, scopes()).prop_map(|(agent, keep)| Act::CeilingNarrowed { agent, keep }),
        (0..USERS).prop_map(Act::Connection),
        (0..USERS, upstream()).prop_map(|(user, keep)| Act::ConnectionNarrowed { user, keep }),
    ]
}

struct World {
    provider: FakeProvider,
    users: Vec<UserId>,
    /// Each user's live connection to the provider, if any.
    connections: Vec<Option<ConnectionId>>,
    /// Each device with its user's index and its token.
    devices: Vec<(usize, UserSessionId, String)>,
    agents: Vec<(AgentId, TestAgent)>,
    /// Each grant with the scopes it holds now.
    grants: Vec<(GrantId, Vec<&'static str>)>,
    /// Each agent session with its access token.
    sessions: Vec<(AgentSessionId, String)>,
}

async fn build(app: &TestApp, provider: FakeProvider, steps: &[Grow]) -> World {
    let mut world = World {
        provider,
        users: Vec::new(),
        connections: Vec::new(),
        devices: Vec::new(),
        agents: Vec::new(),
        grants: Vec::new(),
        sessions: Vec::new(),
    };
    for agent in 0..AGENTS {
        let test_agent = app.register_agent(&format!("agent-{agent}"), &SCOPES).await;
        world
            .agents
            .push((AgentId::parse(&test_agent.id).unwrap(), test_agent));
    }
    for user in 0..USERS {
        let test_user = app.create_user(&format!("user-{user}")).await;
        for _ in 0..DEVICES {
            let device = app.sign_in(&test_user).await;
            world.devices.push((
                user,
                UserSessionId::parse(&device.id).unwrap(),
                device.token,
            ));
        }
        for (_, agent) in &world.agents {
            let grant = app.consent(&test_user, agent, &SCOPES).await;
            world
                .grants
                .push((GrantId::parse(&grant).unwrap(), SCOPES.to_vec()));
        }
        let last = world.devices.last().unwrap().2.clone();
        let device = TestSession {
            id: String::new(),
            token: last,
        };
        let connected = app
            .connect_granting(&world.provider, &device, &UPSTREAM)
            .await;
        assert_eq!(
            connected.status,
            axum::http::StatusCode::OK,
            "{}",
            connected.body
        );
        let live = app.connections(&test_user).await[0]["id"]
            .as_str()
            .map(|id| ConnectionId::parse(id).unwrap());
        world.connections.push(live);
        world.users.push(UserId::parse(&test_user.id).unwrap());
    }
    for step in steps {
        let (agent, subject, scopes) = match step {
            Grow::Exchange {
                agent,
                device,
                scopes,
            } => (agent, &device.get(&world.devices).2, scopes),
            Grow::SubDelegate {
                agent,
                parent,
                scopes,
            } => match world.sessions.is_empty() {
                true => continue,
                false => (agent, &parent.get(&world.sessions).1, scopes),
            },
        };
        let scope = scopes.as_ref().map(|s| s.join(" "));
        let answer = app
            .exchange(&world.agents[*agent].1, subject, scope.as_deref())
            .await;
        // Refusals (too deep, scopes not held) are part of the walk.
        if let Some(access) = answer.body["access_token"].as_str() {
            let session = store::agent_sessions::by_access_hash(&app.db, &TokenHash::of(access))
                .await
                .unwrap()
                .unwrap();
            world.sessions.push((session.id, access.to_owned()));
        }
    }
    world
}

/// The selector an act stands for, and the act itself.
async fn perform(app: &TestApp, world: &mut World, act: &Act) -> Option<(Selector, Revocation)> {
    let operator = Actor::operator();
    let core = &app.app;
    let selector = selector(world, act)?;
    let revocation = match (act, &selector) {
        (Act::UserSession(_), Selector::UserSession(id)) => {
            usecase::revoke_user_session::revoke_user_session(core, &operator, id, None).await
        }
        (Act::AllOfUser { .. }, Selector::AllOfUser { user_id, except }) => {
            usecase::sign_out_everywhere::sign_out_everywhere(
                core,
                &operator,
                RevocationCause::SignOutEverywhere,
                user_id,
                except.as_ref(),
                None,
            )
            .await
        }
        (Act::AgentSession(_), Selector::AgentSessions(ids)) => {
            usecase::revoke_agent_session::revoke_agent_session(core, &operator, &ids[0], None)
                .await
        }
        (Act::Grant(_), Selector::Grant(id)) => {
            usecase::revoke_grant::revoke_grant(core, &operator, id).await
        }
        (Act::GrantNarrowed { grant, keep }, Selector::GrantNarrowed { grant_id, .. }) => {
            let keep: Vec<String> = keep.iter().map(|s| (*s).to_owned()).collect();
            let updated =
                usecase::update_grant::update_scopes(core, &operator, grant_id, &keep).await;
            if updated.is_ok() {
                grant.get_mut(&mut world.grants).1 = keep_of(&keep);
            }
            // Keeping every scope narrows nothing and revokes nothing.
            return updated
                .ok()
                .map(|(_, revocation)| (selector.clone(), revocation.unwrap_or(nothing())));
        }
        (Act::Agent(_), Selector::Agent(id)) => {
            usecase::disable_agent::disable_agent(core, &operator, id).await
        }
        (Act::CeilingNarrowed { keep, .. }, Selector::CeilingNarrowed { agent_id, .. }) => {
            let keep: Vec<String> = keep.iter().map(|s| (*s).to_owned()).collect();
            return usecase::update_agent::update_agent(
                core,
                &operator,
                agent_id,
                None,
                Some(&keep),
            )
            .await
            .ok()
            .map(|(_, revocation)| (selector.clone(), revocation.unwrap_or(nothing())));
        }
        (Act::Connection(user), Selector::Connection { connection_id, .. }) => {
            let disconnected = usecase::disconnect_connection::disconnect_connection(
                core,
                &operator,
                connection_id,
            )
            .await;
            world.connections[*user] = None;
            return disconnected
                .ok()
                .and_then(|d| d.revocation)
                .map(|revocation| (selector.clone(), revocation));
        }
        (Act::ConnectionNarrowed { user, keep }, Selector::ConnectionNarrowed { .. }) => {
            let narrowed = reconnect(app, world, *user, keep).await?;
            return Some((selector.clone(), narrowed.unwrap_or(nothing())));
        }
        _ => unreachable!("{act:?} selects {selector:?}"),
    };
    revocation.ok().map(|revocation| (selector, revocation))
}

/// The user connects again through one of their devices still signed in, granted
/// `keep`: answers what the narrowing revoked, or `None` when no device could connect.
async fn reconnect(
    app: &TestApp,
    world: &World,
    user: usize,
    keep: &[&str],
) -> Option<Option<Revocation>> {
    for (_, _, token) in world.devices.iter().filter(|(owner, ..)| *owner == user) {
        let request = ConnectRequest {
            session_token: token,
            via_cookie: false,
            provider: "acme",
            scopes: None,
            return_to: None,
        };
        let Ok(started) = usecase::start_connection::start_connection(&app.app, request).await
        else {
            continue;
        };
        world.provider.grant_only(&keep.join(" "));
        let back = world.provider.consent(started.as_str()).await;
        let query: HashMap<String, String> = url::form_urlencoded::parse(back.as_bytes())
            .into_owned()
            .collect();
        let callback = Callback {
            state: query.get("state").map(String::as_str),
            code: query.get("code").map(String::as_str),
            iss: query.get("iss").map(String::as_str),
            ..Callback::default()
        };
        let finished = usecase::finish_connection::finish_connection(&app.app, callback)
            .await
            .unwrap();
        return Some(finished.narrowed);
    }
    None
}

fn keep_of(keep: &[String]) -> Vec<&'static str> {
    SCOPES
        .into_iter()
        .filter(|s| keep.iter().any(|k| k == s))
        .collect()
}

/// An act that revoked nothing.
fn nothing() -> Revocation {
    Revocation {
        id: leash::domain::id::RevocationId::generate(),
        cause: RevocationCause::ScopeReduced,
        actor: String::new(),
        reason: None,
        user_sessions_revoked: 0,
        agent_sessions_revoked: 0,
        created_at: chrono::DateTime::UNIX_EPOCH,
    }
}

fn selector(world: &World, act: &Act) -> Option<Selector> {
    let scopes = |keep: &[&str]| ScopeSet::from_list(keep).unwrap();
    Some(match act {
        Act::UserSession(device) => Selector::UserSession(device.get(&world.devices).1.clone()),
        Act::AllOfUser { user, except } => Selector::AllOfUser {
            user_id: world.users[*user].clone(),
            except: except
                .map(|d| d.get(&world.devices))
                .filter(|(owner, ..)| owner == user)
                .map(|(_, id, _)| id.clone()),
        },
        Act::AgentSession(session) => {
            if world.sessions.is_empty() {
                return None;
            }
            Selector::AgentSessions(vec![session.get(&world.sessions).0.clone()])
        }
        Act::Grant(grant) => Selector::Grant(grant.get(&world.grants).0.clone()),
        Act::GrantNarrowed { grant, keep } => Selector::GrantNarrowed {
            grant_id: grant.get(&world.grants).0.clone(),
            allowed: scopes(keep),
        },
        Act::Agent(agent) => Selector::Agent(world.agents[*agent].0.clone()),
        Act::CeilingNarrowed { agent, keep } => Selector::CeilingNarrowed {
            agent_id: world.agents[*agent].0.clone(),
            allowed: scopes(keep),
        },
        Act::Connection(user) => Selector::Connection {
            connection_id: world.connections[*user].clone()?,
            user_id: world.users[*user].clone(),
            provider: ProviderId::parse("acme").unwrap(),
        },
        Act::ConnectionNarrowed { user, keep } => Selector::ConnectionNarrowed {
            connection_id: world.connections[*user].clone()?,
            user_id: world.users[*user].clone(),
            provider: ProviderId::parse("acme").unwrap(),
            allowed: keep.iter().map(|s| (*s).to_owned()).collect(),
        },
    })
}

/// Every session the preview named was revoked by this very act.
async fn assert_sample_revoked(app: &TestApp, preview: &Preview, revocation: &Revocation) {
    for (kind, count) in [
        (SessionKind::User, preview.user_sessions),
        (SessionKind::Agent, preview.agent_sessions),
    ] {
        let named: Vec<_> = preview.sample.iter().filter(|s| s.kind == kind).collect();
        assert_eq!(
            named.len() as u64,
            count.min(u64::from(PREVIEW_SAMPLE)),
            "{kind:?}"
        );
        for session in named {
            let revoked_by = match kind {
                SessionKind::User => {
                    let id = UserSessionId::parse(&session.id).unwrap();
                    store::user_sessions::get(&app.db, &id)
                        .await
                        .unwrap()
                        .unwrap()
                        .revoked
                }
                SessionKind::Agent => {
                    let id = AgentSessionId::parse(&session.id).unwrap();
                    store::agent_sessions::get(&app.db, &id)
                        .await
                        .unwrap()
                        .unwrap()
                        .revoked
                }
            }
            .map(|mark| mark.revocation_id);
            assert_eq!(revoked_by.as_ref(), Some(&revocation.id), "{session:?}");
        }
    }
}

async fn run(steps: Vec<Grow>, acts: Vec<Act>) {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let mut world = build(&app, provider, &steps).await;
    for act in &acts {
        let Some(selector) = selector(&world, act) else {
            continue;
        };
        let before: BTreeMap<String, String> = snapshot(&app.db).await;
        let preview = usecase::revocations::preview(&app.app, &selector)
            .await
            .unwrap();
        assert_eq!(
            snapshot(&app.db).await,
            before,
            "the preview changed a table"
        );
        let Some((_, revocation)) = perform(&app, &mut world, act).await else {
            continue;
        };
        assert_eq!(
            (preview.user_sessions, preview.agent_sessions),
            (
                revocation.user_sessions_revoked,
                revocation.agent_sessions_revoked
            ),
            "{act:?}"
        );
        assert_sample_revoked(&app, &preview, &revocation).await;
    }
}

fn cases() -> u32 {
    std::env::var("LEASH_PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(16)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 100, ..ProptestConfig::default() })]

    #[test]
    fn a_preview_changes_nothing_and_counts_what_its_act_then_revokes(
        steps in prop::collection::vec(grow(), 1..30),
        acts in prop::collection::vec(act(), 1..6),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run(steps, acts));
    }
}
