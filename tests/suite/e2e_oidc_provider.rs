//! End to end against an OAuth server nobody here wrote: panva's `oidc-provider` over
//! HTTPS (its CA made at run time). A person connects it through Leash (authorization
//! code with PKCE, its own login and consent pages), an agent gets the upstream token,
//! a refresh is forced (the provider rotates the refresh token), the person disconnects,
//! and then the provider itself says the refresh and access tokens are dead, Leash says
//! the agent's token is, and the receipt says `revoked`.

use axum::http::StatusCode;
use chrono::TimeDelta;
use leash::domain::id::ConnectionId;
use leash::store;
use leash::usecase::Settings;
use leash::usecase::finish_connection::token_context;
use leash::usecase::revoke_upstream_tokens::revoke_due;

use crate::support::TestApp;
use crate::support::agents::AgentTokens;
use crate::support::connections::{Carrying, with_provider};
use crate::support::oidc_provider::OidcProvider;

/// The refresh token Leash holds for `connection` (opened with the app's key).
async fn held_refresh_token(app: &TestApp, connection: &str) -> String {
    let id = ConnectionId::parse(connection).unwrap();
    let held = store::connections::vendable_by_id(&app.db, &id)
        .await
        .unwrap()
        .unwrap();
    let sealed = held.tokens.unwrap().refresh_token.unwrap();
    let plain = app
        .app
        .settings
        .encryption_keys
        .open(&sealed, &token_context(&id, "refresh_token"))
        .unwrap();
    String::from_utf8(plain).unwrap()
}

#[tokio::test]
async fn connect_vend_refresh_and_disconnect_against_oidc_provider() {
    let Some(provider) = OidcProvider::start().await else {
        return;
    };
    let app = TestApp::start_with(with_provider(
        provider.config("upstream"),
        Settings::default(),
    ))
    .await;
    let (alice, session) = app.person("alice").await;
    let started = app
        .send_raw(crate::support::connections::get(
            "/v1/connections/upstream/authorize",
            &Carrying::Bearer(&session.token),
            None,
        ))
        .await;
    assert_eq!(started.status, StatusCode::FOUND, "{}", started.body);
    let location = started.header("location").unwrap();
    assert!(
        location.contains("code_challenge_method=S256"),
        "{location}"
    );
    let back = provider.sign_in_and_consent(location, "alice").await;
    let finished = app.callback(&back, &Carrying::Nothing, None).await;
    assert_eq!(finished.status, StatusCode::OK, "{}", finished.body);
    let connection = app.connections(&alice).await[0].clone();
    assert_eq!(connection["status"], "connected");
    assert!(
        connection["granted_scopes"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("api")),
        "{connection}"
    );
    let connection = connection["id"].as_str().unwrap().to_owned();

    // An agent holding the provider's scope gets the upstream token, which works there.
    let coder = app.register_agent("coder", &["upstream:api"]).await;
    app.consent(&alice, &coder, &["upstream:api"]).await;
    let agent = app.delegate(&coder, &session, None).await;
    let vended = app.vend(&agent.access, "upstream").await;
    let first = vended.assert_status(StatusCode::OK)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(provider.is_active(&first).await);
    let first_refresh = held_refresh_token(&app, &connection).await;

    // Within a minute of its expiry, the vend refreshes it; the provider rotated the
    // refresh token, and Leash holds the new one.
    app.advance(TimeDelta::seconds(3600 - 30));
    let agent = AgentTokens::from_answer(
        app.refresh(&coder, &agent.refresh)
            .await
            .assert_status(StatusCode::OK),
    );
    let vended = app.vend(&agent.access, "upstream").await;
    let second = vended.assert_status(StatusCode::OK)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    assert!(provider.is_active(&second).await);
    let refresh = held_refresh_token(&app, &connection).await;
    assert_ne!(
        refresh, first_refresh,
        "the provider rotates refresh tokens"
    );
    assert!(!provider.is_active(&first_refresh).await);
    assert!(provider.is_active(&refresh).await);

    // Disconnected: dead at Leash at once, and at the provider once the job ran.
    let disconnected = app
        .post_empty(&format!("/v1/connections/{connection}/disconnect"))
        .await;
    disconnected.assert_status(StatusCode::OK);
    assert!(!app.is_active(&agent.access).await);
    revoke_due(&app.app).await.unwrap();
    assert!(
        !provider.is_active(&refresh).await,
        "the refresh token is dead upstream"
    );
    assert!(
        !provider.is_active(&second).await,
        "the access token is dead upstream"
    );
    let receipt = app.get(&format!("/v1/connections/{connection}")).await;
    let receipt = receipt.assert_status(StatusCode::OK)["revocation_receipt"].clone();
    assert_eq!(receipt.as_array().unwrap().len(), 2, "{receipt}");
    assert!(
        receipt
            .as_array()
            .unwrap()
            .iter()
            .all(|line| line["status"] == "revoked"),
        "{receipt}"
    );
}
