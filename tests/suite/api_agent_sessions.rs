//! The host application's side of agent sessions: mint one for a signed-in user, list a
//! user's, and the refusals.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::TestApp;
use crate::support::agents::AgentTokens;

#[tokio::test]
async fn a_host_mints_a_session_the_agent_can_use_refresh_and_sub_delegate_from() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let planner = app.register_agent("planner", &["a", "b"]).await;
    app.consent(&alice, &planner, &["a", "b"]).await;
    let answer = app
        .post(
            &format!("/v1/users/{}/agent-sessions", alice.id),
            json!({ "agent_id": planner.id, "scopes": ["a"], "user_session_id": device.id }),
        )
        .await;
    let body = answer.assert_status(StatusCode::CREATED);
    assert_eq!(body["agent_session"]["user_session_id"], device.id.as_str());
    assert_eq!(body["agent_session"]["chain"], json!([planner.id]));
    assert_eq!(body["agent_session"]["depth"], 1);
    assert_eq!(body["expires_in"], 900);
    let tokens = AgentTokens::from_answer(body);
    assert!(app.is_active(&tokens.access).await);
    app.refresh(&planner, &tokens.refresh)
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn minting_refuses_what_the_exchange_refuses() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let device = app.sign_in(&alice).await;
    let bobs = app.sign_in(&bob).await;
    let planner = app.register_agent("planner", &["a", "b"]).await;
    let path = format!("/v1/users/{}/agent-sessions", alice.id);
    let mint = |scopes: serde_json::Value, session: &str| json!({ "agent_id": planner.id, "scopes": scopes, "user_session_id": session });
    app.post(&path, mint(json!(["a"]), &device.id))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "consent_required");
    app.consent(&alice, &planner, &["a"]).await;
    app.post(&path, mint(json!(["a", "b"]), &device.id))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "scopes_not_held");
    app.post(&path, mint(json!(["a"]), &bobs.id))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "user_session_not_found");
    app.post(&path, mint(json!([]), &device.id))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_scope");
    app.post(&path, json!({ "agent_id": planner.id, "scopes": ["a"] }))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    app.post_empty(&format!("/v1/user-sessions/{}/revoke", device.id))
        .await
        .assert_status(StatusCode::OK);
    app.post(&path, mint(json!(["a"]), &device.id))
        .await
        .assert_problem(StatusCode::CONFLICT, "user_session_inactive");
    app.post_empty(&format!("/v1/agents/{}/disable", planner.id))
        .await
        .assert_status(StatusCode::OK);
    let fresh = app.sign_in(&alice).await;
    app.post(&path, mint(json!(["a"]), &fresh.id))
        .await
        .assert_problem(StatusCode::CONFLICT, "agent_disabled");
}

#[tokio::test]
async fn a_users_agent_sessions_list_with_names_chains_status_and_pages() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let planner = app.register_agent("planner", &["a"]).await;
    let booker = app.register_agent("booker", &["a"]).await;
    app.consent(&alice, &planner, &["a"]).await;
    app.consent(&alice, &booker, &["a"]).await;
    let root = app.delegate(&planner, &device, None).await;
    let child = app.delegate_from(&booker, &root.access, None).await;
    let spare = app.delegate(&planner, &device, None).await;
    app.oauth("/oauth2/revoke", &planner, &[("token", &spare.access)])
        .await
        .assert_status(StatusCode::OK);
    assert!(app.is_active(&child.access).await);

    let path = format!("/v1/users/{}/agent-sessions", alice.id);
    let active = app.get(&path).await.assert_status(StatusCode::OK).clone();
    let data = active["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["agent_name"], "booker");
    assert_eq!(data[0]["chain"], json!([booker.id, planner.id]));
    assert_eq!(data[0]["status"], "active");
    let all = app
        .get(&format!("{path}?status=all&limit=2"))
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(all["data"][0]["status"], "revoked");
    assert_eq!(all["data"][0]["revocation_cause"], "agent_session_revoked");
    let cursor = all["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("{path}?status=all&limit=2&cursor={cursor}"))
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_cursor"], serde_json::Value::Null);
    app.get(&format!(
        "/v1/users/{}/agent-sessions?status=maybe",
        alice.id
    ))
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "invalid_query");
    app.get("/v1/agent-sessions/ags_nope")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "agent_session_not_found");
}
