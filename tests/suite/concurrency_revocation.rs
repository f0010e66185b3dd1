//! Every issuance path (token exchange from a user session, sub-delegation, host mint,
//! refresh) racing every revoking act, then the database as the race left it: no active
//! agent session may hang from anything dead (invariant 3), hold what its grant or its
//! agent's ceiling no longer allows (invariant 1), or belong to a disabled user or agent;
//! and introspection answers active for no token whose session is not.
//!
//! The races happen on PostgreSQL, where transactions run in parallel under row locks;
//! SQLite serialises writers, so there the test only shows the rules hold.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::Method;
use leash::domain::limits::Limits;
use leash::usecase::Settings;
use serde_json::{Value, json};

use crate::support::agents::{AgentTokens, TestAgent};
use crate::support::invariants::{active_agent_session_ids, escapees};
use crate::support::{Answer, TestApp, TestSession, TestUser};

const WORKERS: usize = 6;
const STEPS: usize = 12;
const ROUNDS: usize = 3;

#[derive(Debug, Clone, Copy)]
enum Revoke {
    UserSession,
    SignOutEverywhere,
    CredentialChanged,
    DisableUser,
    AgentSession,
    Grant,
    NarrowGrant,
    DisableAgent,
    NarrowCeiling,
    /// A security system's selector: every session from the device's address.
    SelectorByAddress,
    /// A security system's selector: every session of the agent, across users.
    SelectorByAgent,
}

/// A user signed in on one device, an agent consented to, and one delegation the
/// workers sub-delegate from.
struct Scene {
    user: TestUser,
    device: TestSession,
    agent: TestAgent,
    grant_id: String,
    root: AgentTokens,
    root_id: String,
}

async fn scene(app: &TestApp, name: &str) -> Scene {
    let user = app.create_user(name).await;
    let device = app.sign_in(&user).await;
    let agent = app
        .register_agent(&format!("{name}-agent"), &["a", "b"])
        .await;
    let grant_id = app.consent(&user, &agent, &["a", "b"]).await;
    let root = app.delegate(&agent, &device, Some("a b")).await;
    let root_id = app.introspect(&root.access).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    Scene {
        user,
        device,
        agent,
        grant_id,
        root,
        root_id,
    }
}

/// A refusal is a client error; a 5xx (a deadlock, a constraint) fails the test.
#[track_caller]
fn issued(answer: &Answer) -> Option<AgentTokens> {
    assert!(
        answer.status.is_success() || answer.status.is_client_error(),
        "issuance answered {}: {}",
        answer.status,
        answer.body
    );
    answer
        .status
        .is_success()
        .then(|| AgentTokens::from_answer(&answer.body))
}

/// One worker: every issuance path in turn, sub-delegating and refreshing from what it
/// was given, until `STEPS` rounds are done. Answers every access token it received.
async fn issue(app: Arc<TestApp>, scene: Arc<Scene>, started: Arc<AtomicUsize>) -> Vec<String> {
    let mut received = Vec::new();
    let mut mine: Vec<AgentTokens> = Vec::new();
    for step in 0..STEPS {
        let parent = mine
            .last()
            .map_or(&scene.root.access, |t| &t.access)
            .clone();
        let answers = [
            app.exchange(&scene.agent, &scene.device.token, Some("a b"))
                .await,
            app.exchange(&scene.agent, &scene.root.access, Some("a b"))
                .await,
            app.exchange(&scene.agent, &parent, Some("a b")).await,
            app.post(
                &format!("/v1/users/{}/agent-sessions", scene.user.id),
                json!({
                    "agent_id": scene.agent.id,
                    "user_session_id": scene.device.id,
                    "scopes": ["a", "b"],
                }),
            )
            .await,
        ];
        for answer in &answers {
            if let Some(tokens) = issued(answer) {
                received.push(tokens.access.clone());
                mine.push(tokens);
            }
        }
        if let Some(last) = mine.pop()
            && let Some(tokens) = issued(&app.refresh(&scene.agent, &last.refresh).await)
        {
            received.push(tokens.access.clone());
            mine.push(tokens);
        }
        if step == 0 {
            started.fetch_add(1, Ordering::SeqCst);
        }
    }
    received
}

async fn patch(app: &TestApp, path: &str, body: Value) -> Answer {
    app.send(
        Method::PATCH,
        path,
        Some(&app.admin_key),
        Some("application/json"),
        axum::body::Body::from(body.to_string()),
    )
    .await
}

async fn revoke(app: &TestApp, scene: &Scene, act: Revoke) {
    let user = &scene.user.id;
    let answer = match act {
        Revoke::UserSession => {
            app.post_empty(&format!("/v1/user-sessions/{}/revoke", scene.device.id))
                .await
        }
        Revoke::SignOutEverywhere => {
            app.post(&format!("/v1/users/{user}/sign-out-everywhere"), json!({}))
                .await
        }
        Revoke::CredentialChanged => {
            app.post(&format!("/v1/users/{user}/credential-changed"), json!({}))
                .await
        }
        Revoke::DisableUser => app.post_empty(&format!("/v1/users/{user}/disable")).await,
        Revoke::AgentSession => {
            app.post_empty(&format!("/v1/agent-sessions/{}/revoke", scene.root_id))
                .await
        }
        Revoke::Grant => {
            app.post_empty(&format!("/v1/grants/{}/revoke", scene.grant_id))
                .await
        }
        Revoke::NarrowGrant => {
            patch(
                app,
                &format!("/v1/grants/{}", scene.grant_id),
                json!({ "scopes": ["a"] }),
            )
            .await
        }
        Revoke::DisableAgent => {
            app.post_empty(&format!("/v1/agents/{}/disable", scene.agent.id))
                .await
        }
        Revoke::NarrowCeiling => {
            patch(
                app,
                &format!("/v1/agents/{}", scene.agent.id),
                json!({ "scopes": ["a"] }),
            )
            .await
        }
        Revoke::SelectorByAddress => {
            app.post(
                "/v1/revocations",
                json!({ "selector": { "ip_address": "203.0.113.0/24" } }),
            )
            .await
        }
        Revoke::SelectorByAgent => {
            app.post(
                "/v1/revocations",
                json!({ "selector": { "agent_id": scene.agent.id } }),
            )
            .await
        }
    };
    assert!(
        answer.status.is_success(),
        "{act:?} answered {}: {}",
        answer.status,
        answer.body
    );
}

async fn race(act: Revoke) {
    // The races need many issuances at once, past the default rate per agent.
    let app = Arc::new(
        TestApp::start_with(Settings {
            limits: Limits::unlimited(),
            ..Settings::default()
        })
        .await,
    );
    for round in 0..ROUNDS {
        let scene = Arc::new(scene(&app, &format!("{act:?}-{round}").to_lowercase()).await);
        let started = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                tokio::spawn(issue(
                    Arc::clone(&app),
                    Arc::clone(&scene),
                    Arc::clone(&started),
                ))
            })
            .collect();
        // Revoke while every worker is in the middle of its issuances.
        while started.load(Ordering::SeqCst) < WORKERS {
            tokio::task::yield_now().await;
        }
        revoke(&app, &scene, act).await;
        let mut received = Vec::new();
        for worker in workers {
            received.extend(worker.await.unwrap());
        }

        let escaped = escapees(&app, &scene.user).await;
        assert!(
            escaped.is_empty(),
            "{act:?}, round {round}: {} agent sessions escaped: {escaped:#?}",
            escaped.len()
        );
        // Introspection agrees: no token is active whose session row is not.
        let active = active_agent_session_ids(&app, &scene.user).await;
        for token in &received {
            let answer = app.introspect(token).await;
            if answer["active"] == true {
                let id = answer["session_id"].as_str().unwrap();
                assert!(
                    active.iter().any(|a| a == id),
                    "{act:?}: introspection answers active for session {id}, not active in the database"
                );
            }
        }
    }
}

macro_rules! races {
    ($($name:ident => $act:expr),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            race($act).await;
        }
    )*};
}

races! {
    no_issuance_escapes_revoking_its_user_session => Revoke::UserSession,
    no_issuance_escapes_a_sign_out_everywhere => Revoke::SignOutEverywhere,
    no_issuance_escapes_a_credential_change => Revoke::CredentialChanged,
    no_issuance_escapes_disabling_the_user => Revoke::DisableUser,
    no_issuance_escapes_revoking_its_parent_agent_session => Revoke::AgentSession,
    no_issuance_escapes_revoking_the_grant => Revoke::Grant,
    no_issuance_escapes_narrowing_the_grant => Revoke::NarrowGrant,
    no_issuance_escapes_disabling_the_agent => Revoke::DisableAgent,
    no_issuance_escapes_narrowing_the_ceiling => Revoke::NarrowCeiling,
    no_issuance_escapes_a_selector_by_address => Revoke::SelectorByAddress,
    no_issuance_escapes_a_selector_by_agent => Revoke::SelectorByAgent,
}
