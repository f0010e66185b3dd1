//! Every cascade of DESIGN.md that reaches agent sessions, each through the API, with
//! its revocation counts and its `agent_session.revoked` events.

use axum::http::StatusCode;
use leash::store;
use serde_json::{Value, json};

use crate::support::agents::{AgentTokens, TestAgent};
use crate::support::database::run_sql;
use crate::support::{TestApp, TestSession, TestUser};

/// Alice on one device; a planner delegated from it; a booker sub-delegated from the
/// planner; a second, unrelated planner session from another device.
struct Tree {
    alice: TestUser,
    device: TestSession,
    planner: TestAgent,
    booker: TestAgent,
    root: AgentTokens,
    child: AgentTokens,
    elsewhere: AgentTokens,
}

async fn tree(app: &TestApp) -> Tree {
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let laptop = app.sign_in(&alice).await;
    let planner = app.register_agent("planner", &["a", "b"]).await;
    let booker = app.register_agent("booker", &["a", "b"]).await;
    app.consent(&alice, &planner, &["a", "b"]).await;
    app.consent(&alice, &booker, &["a", "b"]).await;
    let root = app.delegate(&planner, &device, Some("a b")).await;
    let child = app.delegate_from(&booker, &root.access, Some("a")).await;
    let elsewhere = app.delegate(&planner, &laptop, Some("a")).await;
    Tree {
        alice,
        device,
        planner,
        booker,
        root,
        child,
        elsewhere,
    }
}

async fn active(app: &TestApp, tokens: &[&AgentTokens]) -> Vec<bool> {
    let mut out = Vec::new();
    for t in tokens {
        out.push(app.is_active(&t.access).await);
    }
    out
}

async fn agent_events(app: &TestApp, revocation: &Value) -> Vec<Value> {
    store::events::list_after(&app.db, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == "agent_session.revoked")
        .map(|e| e.data)
        .filter(|d| d["revocation_id"] == revocation["id"])
        .collect()
}

#[tokio::test]
async fn revoking_a_user_session_takes_the_agents_delegated_from_it() {
    let app = TestApp::start().await;
    let t = tree(&app).await;
    let revocation = app
        .post_empty(&format!("/v1/user-sessions/{}/revoke", t.device.id))
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(revocation["user_sessions_revoked"], 1);
    assert_eq!(revocation["agent_sessions_revoked"], 2);
    assert_eq!(
        active(&app, &[&t.root, &t.child, &t.elsewhere]).await,
        [false, false, true]
    );
    let events = agent_events(&app, &revocation).await;
    assert_eq!(events.len(), 2);
    let child_event = events
        .iter()
        .find(|e| e["agent_id"] == t.booker.id.as_str())
        .unwrap();
    assert_eq!(child_event["chain"], json!([t.booker.id, t.planner.id]));
    assert_eq!(child_event["cause"], "user_session_revoked");
    assert_eq!(child_event["user_id"], t.alice.id.as_str());
}

#[tokio::test]
async fn sign_out_everywhere_and_disabling_the_user_take_every_agent_session() {
    let app = TestApp::start().await;
    let t = tree(&app).await;
    let revocation = app.sign_out_everywhere(&t.alice, json!({})).await;
    assert_eq!(revocation["agent_sessions_revoked"], 3);
    assert_eq!(
        active(&app, &[&t.root, &t.child, &t.elsewhere]).await,
        [false, false, false]
    );
    app.refresh(&t.planner, &t.root.refresh)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");

    let bob_app = TestApp::start().await;
    let t = tree(&bob_app).await;
    bob_app
        .post_empty(&format!("/v1/users/{}/disable", t.alice.id))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        active(&bob_app, &[&t.root, &t.child, &t.elsewhere]).await,
        [false, false, false]
    );
}

#[tokio::test]
async fn disabling_an_agent_takes_its_sessions_and_descendants_held_by_others() {
    let app = TestApp::start().await;
    let t = tree(&app).await;
    let revocation = app
        .post_empty(&format!("/v1/agents/{}/disable", t.planner.id))
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(revocation["cause"], "agent_disabled");
    assert_eq!(revocation["agent_sessions_revoked"], 3);
    assert_eq!(
        active(&app, &[&t.root, &t.child, &t.elsewhere]).await,
        [false, false, false]
    );
    app.post_empty(&format!("/v1/agents/{}/enable", t.planner.id))
        .await
        .assert_status(StatusCode::OK);
    assert!(!app.is_active(&t.root.access).await, "nothing comes back");
    let again = app.delegate(&t.planner, &t.device, None).await;
    assert!(app.is_active(&again.access).await);
}

#[tokio::test]
async fn narrowing_a_grant_takes_only_what_it_no_longer_covers() {
    let app = TestApp::start().await;
    let t = tree(&app).await;
    let grants = app
        .get(&format!("/v1/users/{}/grants", t.alice.id))
        .await
        .assert_status(StatusCode::OK)
        .clone();
    let planner_grant = grants["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["agent_id"] == t.planner.id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Widening revokes nothing.
    let widened = app
        .send(
            axum::http::Method::PATCH,
            &format!("/v1/grants/{planner_grant}"),
            Some(&app.admin_key),
            Some("application/json"),
            json!({ "scopes": ["a", "b"] }).to_string().into(),
        )
        .await;
    assert_eq!(
        widened.assert_status(StatusCode::OK)["revocation"],
        Value::Null
    );
    let narrowed = app
        .send(
            axum::http::Method::PATCH,
            &format!("/v1/grants/{planner_grant}"),
            Some(&app.admin_key),
            Some("application/json"),
            json!({ "scopes": ["a"] }).to_string().into(),
        )
        .await;
    let body = narrowed.assert_status(StatusCode::OK);
    assert_eq!(body["grant"]["scopes"], json!(["a"]));
    assert_eq!(body["revocation"]["cause"], "scope_reduced");
    // The root held "a b": it goes with its child; the laptop session held only "a".
    assert_eq!(body["revocation"]["agent_sessions_revoked"], 2);
    assert_eq!(
        active(&app, &[&t.root, &t.child, &t.elsewhere]).await,
        [false, false, true]
    );
    app.exchange(&t.planner, &t.device.token, Some("b"))
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");

    let revoked = app
        .post_empty(&format!("/v1/grants/{planner_grant}/revoke"))
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(revoked["cause"], "grant_revoked");
    assert_eq!(revoked["agent_sessions_revoked"], 1);
    assert!(!app.is_active(&t.elsewhere.access).await);
    app.exchange(&t.planner, &t.device.token, None)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "consent_required");
}

#[tokio::test]
async fn narrowing_a_ceiling_reaches_across_users() {
    let app = TestApp::start().await;
    let t = tree(&app).await;
    let bob = app.create_user("bob").await;
    let bobs_device = app.sign_in(&bob).await;
    app.consent(&bob, &t.planner, &["b"]).await;
    let bobs = app.delegate(&t.planner, &bobs_device, None).await;
    let answer = app
        .send(
            axum::http::Method::PATCH,
            &format!("/v1/agents/{}", t.planner.id),
            Some(&app.admin_key),
            Some("application/json"),
            json!({ "scopes": ["a"] }).to_string().into(),
        )
        .await;
    let body = answer.assert_status(StatusCode::OK);
    assert_eq!(body["agent"]["scopes"], json!(["a"]));
    // Alice's root (a b) with its child, and Bob's (b); Alice's laptop (a) stays.
    assert_eq!(body["revocation"]["agent_sessions_revoked"], 3);
    assert_eq!(
        active(&app, &[&t.root, &t.child, &t.elsewhere, &bobs]).await,
        [false, false, true, false]
    );
}

#[tokio::test]
async fn revoking_an_agent_session_takes_its_descendants_only() {
    let app = TestApp::start().await;
    let t = tree(&app).await;
    let child_id = app.introspect(&t.child.access).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let root_id = app.introspect(&t.root.access).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revocation = app
        .post(
            &format!("/v1/agent-sessions/{child_id}/revoke"),
            json!({ "reason": "done" }),
        )
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(revocation["agent_sessions_revoked"], 1);
    assert_eq!(active(&app, &[&t.root, &t.child]).await, [true, false]);
    let revocation = app
        .post_empty(&format!("/v1/agent-sessions/{root_id}/revoke"))
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(revocation["agent_sessions_revoked"], 1);
    assert!(!app.is_active(&t.root.access).await);
    let shown = app
        .get(&format!("/v1/agent-sessions/{root_id}"))
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(shown["status"], "revoked");
    assert_eq!(shown["revocation_cause"], "agent_session_revoked");
}

/// Liveness looks at the whole chain: an agent session left active under a dead root
/// or a dead ancestor (as one that escaped a revocation would be) is never served, not
/// introspected active, not delegated from, not refreshed.
#[tokio::test]
async fn an_agent_session_under_a_dead_root_or_ancestor_is_not_served() {
    for dead in ["user_sessions", "agent_sessions"] {
        let app = TestApp::start().await;
        let tree = tree(&app).await;
        let grandchild = app
            .delegate_from(&tree.planner, &tree.child.access, Some("a"))
            .await;
        let row = if dead == "user_sessions" {
            tree.device.id.clone()
        } else {
            app.introspect(&tree.root.access).await["session_id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        // Behind Leash's back: the row alone, no cascade, no invalidation.
        let hit = run_sql(
            &app.db,
            &format!("UPDATE {dead} SET status = 'revoked' WHERE id = '{row}'"),
        )
        .await
        .unwrap();
        assert_eq!(hit, 1);
        app.app
            .tokens
            .invalidate(&leash::domain::invalidation::Invalidation::Everything);
        assert_eq!(
            active(&app, &[&tree.child, &grandchild]).await,
            [false, false],
            "{dead}: a session under a dead chain introspected active"
        );
        app.exchange(&tree.planner, &grandchild.access, Some("a"))
            .await
            .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
        app.refresh(&tree.planner, &grandchild.refresh)
            .await
            .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
        assert!(app.is_active(&tree.elsewhere.access).await);
    }
}
