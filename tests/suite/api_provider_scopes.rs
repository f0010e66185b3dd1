//! A provider scope (`acme:repo`) is issued only while the person's connection to that
//! provider is connected and grants it: by token exchange, sub-delegation or mint.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::connections::app_with;
use crate::support::fake_provider::FakeProvider;

#[tokio::test]
async fn a_provider_scope_needs_a_connection_granting_it() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let coder = app
        .register_agent("coder", &["acme:repo", "acme:read:user", "notes.read"])
        .await;
    app.consent(
        &alice,
        &coder,
        &["acme:repo", "acme:read:user", "notes.read"],
    )
    .await;

    // Not connected: the provider scope is refused by name; without `scope`, the plain
    // ones alone are issued.
    let refused = app
        .exchange(&coder, &session.token, Some("acme:repo"))
        .await;
    refused.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    assert!(
        refused.body["error_description"]
            .as_str()
            .unwrap()
            .contains("acme:repo"),
        "{}",
        refused.body
    );
    let plain = app.exchange(&coder, &session.token, None).await;
    assert_eq!(plain.assert_status(StatusCode::OK)["scope"], "notes.read");
    let minted = app
        .post(
            &format!("/v1/users/{}/agent-sessions", alice.id),
            json!({ "agent_id": coder.id, "scopes": ["acme:repo"], "user_session_id": session.id }),
        )
        .await;
    minted.assert_problem(StatusCode::FORBIDDEN, "provider_not_connected");

    // Connected, granting `repo` only: `acme:repo` is issued, `acme:read:user` is not.
    provider.grant_only("repo");
    let connection = app.connect(&provider, &alice, &session).await;
    let repo = app.delegate(&coder, &session, Some("acme:repo")).await;
    let all = app.exchange(&coder, &session.token, None).await;
    assert_eq!(
        all.assert_status(StatusCode::OK)["scope"],
        "acme:repo notes.read"
    );
    app.exchange(&coder, &session.token, Some("acme:read:user"))
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    let below = app.exchange(&coder, &repo.access, Some("acme:repo")).await;
    below.assert_status(StatusCode::OK);

    // Disconnected: nothing of the provider is issued any more, from any subject.
    app.post_empty(&format!("/v1/connections/{connection}/disconnect"))
        .await
        .assert_status(StatusCode::OK);
    app.exchange(&coder, &session.token, Some("acme:repo"))
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    let after = app.exchange(&coder, &session.token, None).await;
    assert_eq!(after.assert_status(StatusCode::OK)["scope"], "notes.read");
}

#[tokio::test]
async fn another_persons_connection_covers_nothing() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (bob, bobs_session) = app.person("bob").await;
    app.connect(&provider, &bob, &bobs_session).await;
    let (alice, session) = app.person("alice").await;
    let coder = app.register_agent("coder", &["acme:repo"]).await;
    app.consent(&alice, &coder, &["acme:repo"]).await;
    app.exchange(&coder, &session.token, Some("acme:repo"))
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    app.exchange(&coder, &session.token, None)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
}
