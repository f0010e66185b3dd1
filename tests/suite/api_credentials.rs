//! Credential vending: an agent session holding a provider's scopes gets the person's
//! upstream access token, refreshed first when it is about to expire, and nothing once
//! anything it hangs from is revoked or the provider refused the grant.

use axum::http::StatusCode;
use chrono::TimeDelta;
use leash::http::wire::credentials::ConnectionNeedsReauthorizationEvent;
use serde_json::Value;

use crate::support::TestApp;
use crate::support::agents::{AgentTokens, TestAgent};
use crate::support::connections::app_with;
use crate::support::fake_provider::{FakeProvider, TokenMode};

struct Scene {
    provider: FakeProvider,
    app: TestApp,
    alice: crate::support::TestUser,
    connection: String,
    coder: TestAgent,
    tokens: AgentTokens,
}

/// Alice connected `acme` (granted `repo` and `read:user`) and delegated `acme:repo`
/// and a plain scope to the agent `coder`.
async fn scene() -> Scene {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let back = app
        .connect_granting(&provider, &session, &["repo", "read:user"])
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let connection = app.connections(&alice).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let coder = app
        .register_agent("coder", &["acme:repo", "notes.read"])
        .await;
    app.consent(&alice, &coder, &["acme:repo", "notes.read"])
        .await;
    let tokens = app.delegate(&coder, &session, None).await;
    Scene {
        provider,
        app,
        alice,
        connection,
        coder,
        tokens,
    }
}

impl Scene {
    /// Time passes until the upstream token (an hour's) is within the refresh margin;
    /// the agent refreshes its own tokens, which live fifteen minutes.
    async fn near_expiry(&self, held: &AgentTokens) -> AgentTokens {
        self.app.advance(TimeDelta::seconds(3600 - 30));
        AgentTokens::from_answer(
            self.app
                .refresh(&self.coder, &held.refresh)
                .await
                .assert_status(StatusCode::OK),
        )
    }
}

fn token_of(answer: &Value) -> String {
    answer["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_agent_gets_the_upstream_token_for_what_it_holds_and_the_vend_is_audited() {
    let s = scene().await;
    let vended = s.app.vend(&s.tokens.access, "acme").await;
    let body = vended.assert_status(StatusCode::OK);
    assert!(s.provider.is_active(&token_of(body)), "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scopes"], serde_json::json!(["repo"]));
    assert!(body["expires_at"].is_string());
    // Judged again each time, and the same token while it is fresh.
    let again = s.app.vend(&s.tokens.access, "acme").await;
    assert_eq!(
        token_of(again.assert_status(StatusCode::OK)),
        token_of(body)
    );
    assert_eq!(s.provider.refreshes(), 0);

    let session = s.app.introspect(&s.tokens.access).await["session_id"].clone();
    let audit = s
        .app
        .get(&format!(
            "/v1/audit?actor={}&action=credential.vended",
            session.as_str().unwrap()
        ))
        .await;
    let entries = audit.assert_status(StatusCode::OK)["data"].clone();
    assert_eq!(entries.as_array().unwrap().len(), 2, "{entries}");
    assert_eq!(entries[0]["target"], s.connection.as_str());
    let metrics = s.app.metrics_text().await;
    assert!(
        metrics.contains(r#"leash_credential_vends_total{provider="acme",outcome="vended"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn every_refusal_is_a_problem_and_hands_out_nothing() {
    let s = scene().await;
    // No token, a junk token, a user session token.
    let none = s
        .app
        .send(
            axum::http::Method::POST,
            "/v1/credentials",
            None,
            Some("application/json"),
            r#"{"provider":"acme"}"#.into(),
        )
        .await;
    none.assert_problem(StatusCode::UNAUTHORIZED, "missing_credentials");
    s.app
        .vend("leash_at_nothing", "acme")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    let (_, bobs_session) = s.app.person("bob").await;
    s.app
        .vend(&bobs_session.token, "acme")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    // A provider nobody configured; a body that is not the contract.
    s.app
        .vend(&s.tokens.access, "nope")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "provider_not_found");
    let unknown_field = s
        .app
        .send(
            axum::http::Method::POST,
            "/v1/credentials",
            Some(&s.tokens.access),
            Some("application/json"),
            r#"{"provider":"acme","all":true}"#.into(),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A session holding no scope of the provider.
    let session = s.app.sign_in(&s.alice).await;
    let notes = s.app.delegate(&s.coder, &session, Some("notes.read")).await;
    s.app
        .vend(&notes.access, "acme")
        .await
        .assert_problem(StatusCode::FORBIDDEN, "provider_scope_not_held");
    // Revoked: the session itself, then nothing.
    s.app
        .oauth("/oauth2/revoke", &s.coder, &[("token", &s.tokens.access)])
        .await;
    s.app
        .vend(&s.tokens.access, "acme")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn after_a_disconnect_nothing_is_handed_out() {
    let s = scene().await;
    s.app
        .vend(&s.tokens.access, "acme")
        .await
        .assert_status(StatusCode::OK);
    s.app
        .post_empty(&format!("/v1/connections/{}/disconnect", s.connection))
        .await
        .assert_status(StatusCode::OK);
    s.app
        .vend(&s.tokens.access, "acme")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_first_and_a_rotated_refresh_token_kept() {
    let s = scene().await;
    let first = token_of(
        s.app
            .vend(&s.tokens.access, "acme")
            .await
            .assert_status(StatusCode::OK),
    );
    // The provider's token lives an hour; within the minute's margin it is refreshed.
    let tokens = s.near_expiry(&s.tokens).await;
    let second = token_of(
        s.app
            .vend(&tokens.access, "acme")
            .await
            .assert_status(StatusCode::OK),
    );
    assert_ne!(first, second);
    assert!(s.provider.is_active(&second));
    assert_eq!(s.provider.refreshes(), 1);
    let connection = s
        .app
        .get(&format!("/v1/connections/{}", s.connection))
        .await;
    assert!(connection.assert_status(StatusCode::OK)["last_refreshed_at"].is_string());
    // The provider rotated the refresh token: the next refresh presents the new one.
    let tokens = s.near_expiry(&tokens).await;
    let third = token_of(
        s.app
            .vend(&tokens.access, "acme")
            .await
            .assert_status(StatusCode::OK),
    );
    assert_ne!(third, second);
    assert_eq!(s.provider.refreshes(), 2);
}

#[tokio::test]
async fn a_provider_refusing_the_grant_revokes_what_could_use_it_and_a_connect_heals() {
    let s = scene().await;
    s.provider.kill_grants();
    let tokens = s.near_expiry(&s.tokens).await;
    s.app
        .vend(&tokens.access, "acme")
        .await
        .assert_problem(StatusCode::CONFLICT, "connection_needs_reauthorization");
    assert!(!s.app.is_active(&tokens.access).await);
    let connection = s
        .app
        .get(&format!("/v1/connections/{}", s.connection))
        .await;
    assert_eq!(
        connection.assert_status(StatusCode::OK)["status"],
        "needs_reauthorization"
    );
    let events = s
        .app
        .get("/v1/events?types=connection.needs_reauthorization")
        .await;
    let events = events.assert_status(StatusCode::OK)["data"].clone();
    assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
    let event: ConnectionNeedsReauthorizationEvent =
        serde_json::from_value(events[0].clone()).expect("the event matches its schema");
    assert_eq!(event.data.connection_id.as_str(), s.connection);
    let revoked = s.app.get("/v1/events?types=agent_session.revoked").await;
    assert_eq!(
        revoked.assert_status(StatusCode::OK)["data"][0]["data"]["cause"],
        "upstream_revoked"
    );
    // Nothing is issued for the provider until the person connects again.
    let session = s.app.sign_in(&s.alice).await;
    s.app
        .exchange(&s.coder, &session.token, Some("acme:repo"))
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    let back = s
        .app
        .connect_granting(&s.provider, &session, &["repo"])
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let healed = s.app.delegate(&s.coder, &session, Some("acme:repo")).await;
    s.app
        .vend(&healed.access, "acme")
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn a_provider_that_is_down_leaves_the_grant_alone_and_says_when_to_retry() {
    let s = scene().await;
    s.provider.token_mode(TokenMode::Down);
    let tokens = s.near_expiry(&s.tokens).await;
    let down = s.app.vend(&tokens.access, "acme").await;
    down.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "provider_unavailable");
    assert!(down.retry_after.is_some(), "{down:?}");
    // Backing off: the provider is not asked again at once.
    let asked = s.provider.refreshes();
    s.app
        .vend(&tokens.access, "acme")
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "provider_unavailable");
    assert_eq!(s.provider.refreshes(), asked);
    assert!(s.app.is_active(&tokens.access).await);
    // Back up, after the backoff: refreshed.
    s.provider.token_mode(TokenMode::Normal);
    s.app.advance(TimeDelta::seconds(6));
    s.app
        .vend(&tokens.access, "acme")
        .await
        .assert_status(StatusCode::OK);
}
