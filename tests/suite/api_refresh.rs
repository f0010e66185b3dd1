//! Refresh with rotation, the grace window, reuse detection, and RFC 7009 revocation.

use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::json;

use crate::support::TestApp;
use crate::support::agents::{AgentTokens, TestAgent};

async fn delegated(app: &TestApp) -> (TestAgent, AgentTokens) {
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let agent = app.register_agent("planner", &["a", "b"]).await;
    app.consent(&alice, &agent, &["a", "b"]).await;
    let tokens = app.delegate(&agent, &device, None).await;
    (agent, tokens)
}

#[tokio::test]
async fn a_refresh_rotates_both_tokens_and_the_old_ones_stop_working() {
    let app = TestApp::start().await;
    let (agent, first) = delegated(&app).await;
    app.advance(TimeDelta::minutes(10));
    let answer = app.refresh(&agent, &first.refresh).await;
    let second = AgentTokens::from_answer(answer.assert_status(StatusCode::OK));
    assert_eq!(answer.body["expires_in"], 900);
    assert_ne!(second.refresh, first.refresh);
    assert!(!app.is_active(&first.access).await);
    assert!(app.is_active(&second.access).await);
    // Another agent cannot use this agent's refresh token.
    let other = app.register_agent("other", &["a"]).await;
    app.refresh(&other, &second.refresh)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(app.is_active(&second.access).await);
}

#[tokio::test]
async fn a_retry_within_the_grace_window_gets_the_same_pair_and_kills_nothing() {
    let app = TestApp::start().await;
    let (agent, first) = delegated(&app).await;
    let answer = app.refresh(&agent, &first.refresh).await;
    let second = AgentTokens::from_answer(answer.assert_status(StatusCode::OK));
    app.advance(TimeDelta::seconds(5));
    let retry = app.refresh(&agent, &first.refresh).await;
    let again = AgentTokens::from_answer(retry.assert_status(StatusCode::OK));
    assert_eq!(again.access, second.access);
    assert_eq!(again.refresh, second.refresh);
    assert!(app.is_active(&second.access).await);
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_family_and_its_descendants() {
    let app = TestApp::start().await;
    let (agent, first) = delegated(&app).await;
    let child = app.delegate_from(&agent, &first.access, Some("a")).await;
    let answer = app.refresh(&agent, &first.refresh).await;
    let second = AgentTokens::from_answer(answer.assert_status(StatusCode::OK));
    app.advance(TimeDelta::seconds(11));
    app.refresh(&agent, &first.refresh)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(!app.is_active(&second.access).await);
    assert!(!app.is_active(&child.access).await);
    app.refresh(&agent, &second.refresh)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    let session_id = app.introspect(&child.access).await;
    assert_eq!(session_id, json!({ "active": false }));
}

#[tokio::test]
async fn a_retry_after_the_successor_was_used_is_reuse() {
    let app = TestApp::start().await;
    let (agent, first) = delegated(&app).await;
    let second = AgentTokens::from_answer(
        app.refresh(&agent, &first.refresh)
            .await
            .assert_status(StatusCode::OK),
    );
    let third = AgentTokens::from_answer(
        app.refresh(&agent, &second.refresh)
            .await
            .assert_status(StatusCode::OK),
    );
    app.refresh(&agent, &first.refresh)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(!app.is_active(&third.access).await);
}

#[tokio::test]
async fn a_refresh_never_extends_a_session_past_its_absolute_lifetime() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let device = app
        .sign_in_with(&alice, json!({ "ttl_seconds": 1200 }))
        .await;
    let agent = app.register_agent("planner", &["a"]).await;
    app.consent(&alice, &agent, &["a"]).await;
    let first = app.delegate(&agent, &device, None).await;
    app.advance(TimeDelta::seconds(800));
    let answer = app.refresh(&agent, &first.refresh).await;
    assert_eq!(answer.assert_status(StatusCode::OK)["expires_in"], 400);
    let second = AgentTokens::from_answer(&answer.body);
    app.advance(TimeDelta::seconds(400));
    app.refresh(&agent, &second.refresh)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn rfc_7009_revokes_the_session_and_its_descendants_but_only_for_its_own_agent() {
    let app = TestApp::start().await;
    let (agent, parent) = delegated(&app).await;
    let child = app.delegate_from(&agent, &parent.access, Some("a")).await;
    let other = app.register_agent("other", &["a"]).await;
    // Another agent's attempt answers 200 and revokes nothing.
    app.oauth("/oauth2/revoke", &other, &[("token", &parent.access)])
        .await
        .assert_status(StatusCode::OK);
    assert!(app.is_active(&parent.access).await);
    app.oauth("/oauth2/revoke", &agent, &[("token", "leash_at_unknown")])
        .await
        .assert_status(StatusCode::OK);
    app.oauth("/oauth2/revoke", &agent, &[])
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    app.oauth("/oauth2/revoke", &agent, &[("token", &parent.refresh)])
        .await
        .assert_status(StatusCode::OK);
    assert!(!app.is_active(&parent.access).await);
    assert!(!app.is_active(&child.access).await);
    app.refresh(&agent, &parent.refresh)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

/// What an attacker holding one old refresh token would compute for its successors
/// if they were keyed by that token alone.
fn offline_successor(refresh_token: &str, prefix: &str) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(refresh_token.as_bytes()).unwrap();
    mac.update(prefix.as_bytes());
    let tag = mac.finalize().into_bytes();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag)
    )
}

#[tokio::test]
async fn a_holder_of_an_old_refresh_token_cannot_compute_its_successors() {
    let app = TestApp::start().await;
    let (agent, first) = delegated(&app).await;
    let second = AgentTokens::from_answer(
        app.refresh(&agent, &first.refresh)
            .await
            .assert_status(StatusCode::OK),
    );
    let guessed_access = offline_successor(&first.refresh, "leash_at_");
    let guessed_refresh = offline_successor(&first.refresh, "leash_rt_");
    assert_ne!(guessed_access, second.access);
    assert_ne!(guessed_refresh, second.refresh);
    assert!(!app.is_active(&guessed_access).await);
    app.refresh(&agent, &guessed_refresh)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(app.is_active(&second.access).await);
}

#[tokio::test]
async fn a_refresh_asking_for_fewer_scopes_narrows_the_session_and_its_sub_delegations() {
    let app = TestApp::start().await;
    let (agent, first) = delegated(&app).await;
    let keeps = app.delegate_from(&agent, &first.access, Some("a")).await;
    let loses = app.delegate_from(&agent, &first.access, Some("b")).await;
    let answer = app.refresh_scoped(&agent, &first.refresh, Some("a")).await;
    assert_eq!(answer.assert_status(StatusCode::OK)["scope"], "a");
    let second = AgentTokens::from_answer(&answer.body);
    assert_eq!(app.introspect(&second.access).await["scope"], "a");
    assert!(app.is_active(&keeps.access).await);
    assert!(
        !app.is_active(&loses.access).await,
        "a child beyond the new scopes survived"
    );
    // The session stays narrowed: a later refresh without `scope` answers `a`, and
    // asking for the dropped scope back is refused.
    let third = app.refresh(&agent, &second.refresh).await;
    assert_eq!(third.assert_status(StatusCode::OK)["scope"], "a");
    let third = AgentTokens::from_answer(&third.body);
    app.refresh_scoped(&agent, &third.refresh, Some("a b"))
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    app.exchange(&agent, &third.access, Some("b"))
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
}
