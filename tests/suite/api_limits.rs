//! Limits on what a caller can grow: active user sessions per user, active agent
//! sessions per user, sub-delegations per agent session, and issuances per agent per
//! second; each refusal is a stable error, and room comes back when sessions end.

use std::sync::Arc;

use axum::http::StatusCode;
use leash::domain::limits::Limits;
use leash::usecase::Settings;
use serde_json::json;

use crate::support::agents::{AgentTokens, TestAgent};
use crate::support::{TestApp, TestSession, TestUser};

async fn app_with(limits: Limits) -> TestApp {
    TestApp::start_with(Settings {
        limits,
        ..Settings::default()
    })
    .await
}

/// Alice signed in on one device, and a planner she consents to for scope `a`.
async fn planner_for_alice(app: &TestApp) -> (TestUser, TestSession, TestAgent) {
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let agent = app.register_agent("planner", &["a"]).await;
    app.consent(&alice, &agent, &["a"]).await;
    (alice, device, agent)
}

#[tokio::test]
async fn a_user_holds_at_most_the_configured_active_sessions() {
    let app = app_with(Limits {
        user_sessions_per_user: 3,
        ..Limits::unlimited()
    })
    .await;
    let alice = app.create_user("alice").await;
    let mut devices = Vec::new();
    for _ in 0..3 {
        devices.push(app.sign_in(&alice).await);
    }
    let refused = app
        .post(&format!("/v1/users/{}/sessions", alice.id), json!({}))
        .await;
    refused.assert_problem(StatusCode::CONFLICT, "too_many_sessions");
    assert_eq!(
        refused.body["detail"],
        "too many active user sessions of this user: the limit is 3"
    );
    // Another user is not affected, and ending a session makes room.
    let bob = app.create_user("bob").await;
    app.sign_in(&bob).await;
    app.post_empty(&format!("/v1/user-sessions/{}/revoke", devices[0].id))
        .await
        .assert_status(StatusCode::OK);
    app.sign_in(&alice).await;
}

#[tokio::test]
async fn a_user_delegates_at_most_the_configured_agent_sessions() {
    let app = app_with(Limits {
        agent_sessions_per_user: 2,
        ..Limits::unlimited()
    })
    .await;
    let (alice, device, agent) = planner_for_alice(&app).await;
    let first = app.delegate(&agent, &device, None).await;
    app.delegate(&agent, &device, None).await;
    app.exchange(&agent, &device.token, None)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "too_many_sessions");
    app.exchange(&agent, &first.access, None)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "too_many_sessions");
    app.post(
        &format!("/v1/users/{}/agent-sessions", alice.id),
        json!({ "agent_id": agent.id, "user_session_id": device.id, "scopes": ["a"] }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "too_many_sessions");
    app.oauth("/oauth2/revoke", &agent, &[("token", &first.refresh)])
        .await;
    app.delegate(&agent, &device, None).await;
}

#[tokio::test]
async fn an_agent_session_has_at_most_the_configured_sub_delegations() {
    let app = app_with(Limits {
        children_per_agent_session: 2,
        ..Limits::unlimited()
    })
    .await;
    let (_, device, agent) = planner_for_alice(&app).await;
    let parent = app.delegate(&agent, &device, None).await;
    let child = app.delegate_from(&agent, &parent.access, None).await;
    app.delegate_from(&agent, &parent.access, None).await;
    app.exchange(&agent, &parent.access, None)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "too_many_sessions");
    // Grandchildren count against their own parent.
    app.delegate_from(&agent, &child.access, None).await;
    app.delegate(&agent, &device, None).await;
}

#[tokio::test]
async fn an_agent_issuing_too_fast_is_told_when_to_retry() {
    let app = app_with(Limits {
        issuance_per_agent_per_second: 1,
        ..Limits::unlimited()
    })
    .await;
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let (fast, other) = (
        app.register_agent("fast", &["a"]).await,
        app.register_agent("other", &["a"]).await,
    );
    app.consent(&alice, &fast, &["a"]).await;
    app.consent(&alice, &other, &["a"]).await;
    app.delegate(&fast, &device, None).await;
    let refused = app.exchange(&fast, &device.token, None).await;
    refused.assert_oauth_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry_after = refused.retry_after.as_deref().unwrap_or_default();
    assert!(
        retry_after
            .parse::<u64>()
            .is_ok_and(|s| (1..=1).contains(&s)),
        "Retry-After: {retry_after:?}"
    );
    let minted = app
        .post(
            &format!("/v1/users/{}/agent-sessions", alice.id),
            json!({ "agent_id": fast.id, "user_session_id": device.id, "scopes": ["a"] }),
        )
        .await;
    minted.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(minted.retry_after.as_deref(), Some("1"));
    app.delegate(&other, &device, None).await;
}

/// Concurrent exchanges count each other: on SQLite (issued in batches) exactly up to
/// the limit; on PostgreSQL (side by side under share locks) never more than the
/// limit plus the exchanges in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_exchanges_stop_at_the_limit() {
    const LIMIT: u32 = 5;
    const WORKERS: usize = 12;
    let app = Arc::new(
        app_with(Limits {
            agent_sessions_per_user: LIMIT,
            ..Limits::unlimited()
        })
        .await,
    );
    let (_, device, agent) = planner_for_alice(&app).await;
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (app, agent, token) = (Arc::clone(&app), agent.clone(), device.token.clone());
            tokio::spawn(async move {
                let answer = app.exchange(&agent, &token, None).await;
                if answer.status == StatusCode::OK {
                    Some(AgentTokens::from_answer(&answer.body))
                } else {
                    answer.assert_oauth_error(StatusCode::BAD_REQUEST, "too_many_sessions");
                    None
                }
            })
        })
        .collect();
    let mut issued = 0;
    for worker in workers {
        issued += usize::from(worker.await.unwrap().is_some());
    }
    if app.database.is_postgres() {
        assert!(
            (LIMIT as usize..=LIMIT as usize + WORKERS).contains(&issued),
            "{issued}"
        );
    } else {
        assert_eq!(issued, LIMIT as usize);
    }
}
