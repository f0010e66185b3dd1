//! `/v1/me`: a person's own sessions, agents, grants, connections and activity as JSON,
//! with their user session token as Bearer; each act with a dry run that changes
//! nothing; anything not theirs is 404; no other credential gets in.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::connections::app_with;
use crate::support::fake_provider::FakeProvider;
use crate::support::{Answer, TestApp, TestSession};

async fn as_person(
    app: &TestApp,
    session: &TestSession,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Answer {
    let (content_type, body) = match body {
        Some(body) => (Some("application/json"), body.to_string().into()),
        None => (None, axum::body::Body::empty()),
    };
    app.send(method, path, Some(&session.token), content_type, body)
        .await
}

#[tokio::test]
async fn a_person_reads_and_ends_their_own_things_with_a_dry_run_first() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let alice = app.create_user("alice").await;
    let laptop = app.sign_in(&alice).await;
    let phone = app.sign_in(&alice).await;
    let connection = app.connect(&provider, &alice, &laptop).await;
    let coder = app.register_agent("Coder", &["acme:repo", "read"]).await;
    let grant = app.consent(&alice, &coder, &["acme:repo", "read"]).await;
    let coding = app.delegate(&coder, &laptop, Some("acme:repo read")).await;
    let reading = app.delegate(&coder, &phone, Some("read")).await;

    let get = |path: &'static str| as_person(&app, &laptop, Method::GET, path, None);
    assert_eq!(
        get("/v1/me/sessions").await.assert_status(StatusCode::OK)["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        get("/v1/me/agent-sessions")
            .await
            .assert_status(StatusCode::OK)["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        get("/v1/me/grants").await.assert_status(StatusCode::OK)["data"][0]["id"],
        grant.as_str()
    );
    assert_eq!(
        get("/v1/me/connections")
            .await
            .assert_status(StatusCode::OK)["data"][0]["id"],
        connection.as_str()
    );
    let activity = get("/v1/me/activity").await;
    let texts: Vec<String> = activity.assert_status(StatusCode::OK)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        texts.contains(&"You connected acme".to_owned()),
        "{texts:?}"
    );

    // Narrowing away `read`: the dry run names the phone's session, and changes nothing.
    let path = format!("/v1/me/grants/{grant}");
    let dry = as_person(
        &app,
        &laptop,
        Method::PATCH,
        &format!("{path}?dry_run=true"),
        Some(json!({ "scopes": ["acme:repo"] })),
    )
    .await;
    let would = &dry.assert_status(StatusCode::OK)["would_revoke"];
    assert_eq!(would["agent_sessions"], 2, "{would}");
    assert!(app.is_active(&reading.access).await);
    let done = as_person(
        &app,
        &laptop,
        Method::PATCH,
        &path,
        Some(json!({ "scopes": ["acme:repo"] })),
    )
    .await;
    assert_eq!(
        done.assert_status(StatusCode::OK)["revocation"]["agent_sessions_revoked"],
        2
    );
    assert!(!app.is_active(&reading.access).await);
    assert!(!app.is_active(&coding.access).await);

    // Disconnect, dry run first; the actor is the person.
    let path = format!("/v1/me/connections/{connection}/disconnect");
    let dry = as_person(
        &app,
        &laptop,
        Method::POST,
        &format!("{path}?dry_run=true"),
        None,
    )
    .await;
    assert!(dry.assert_status(StatusCode::OK)["would_revoke"].is_object());
    assert_eq!(app.connections(&alice).await[0]["status"], "connected");
    let done = as_person(&app, &laptop, Method::POST, &path, None).await;
    assert_eq!(
        done.assert_status(StatusCode::OK)["revocation"]["cause"],
        "integration_disconnected"
    );
    let audit = app
        .get(&format!(
            "/v1/audit?action=connection.disconnected&actor=user:{}",
            alice.id
        ))
        .await;
    assert_eq!(
        audit.assert_status(StatusCode::OK)["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(app.connections(&alice).await[0]["status"], "disconnected");

    // Everywhere else: the phone goes, this device stays.
    let done = as_person(&app, &laptop, Method::POST, "/v1/me/sign-out-others", None).await;
    assert_eq!(
        done.assert_status(StatusCode::OK)["revocation"]["user_sessions_revoked"],
        1
    );
    assert!(!app.is_active(&phone.token).await);
    assert!(app.is_active(&laptop.token).await);
}

#[tokio::test]
async fn only_the_persons_own_session_token_gets_in_and_only_to_their_things() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let laptop = app.sign_in(&alice).await;
    let bob = app.create_user("bob").await;
    let bobs = app.sign_in(&bob).await;
    let agent = app.register_agent("Coder", &["read"]).await;
    let grant = app.consent(&alice, &agent, &["read"]).await;
    let tokens = app.delegate(&agent, &laptop, None).await;
    let session = app.introspect(&tokens.access).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();

    for (method, path) in [
        (
            Method::POST,
            format!("/v1/me/sessions/{}/revoke", laptop.id),
        ),
        (
            Method::POST,
            format!("/v1/me/agent-sessions/{session}/revoke"),
        ),
        (Method::POST, format!("/v1/me/grants/{grant}/revoke")),
        (
            Method::POST,
            format!("/v1/me/grants/{grant}/revoke?dry_run=true"),
        ),
    ] {
        let answer = as_person(&app, &bobs, method, &path, None).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{path}: {:?}",
            answer.body
        );
    }
    assert!(app.is_active(&tokens.access).await);

    // No token, an API key, an agent token, the page's cookie: none is a person.
    let browser = app.browser(&alice, &laptop).await;
    for credential in [
        None,
        Some(app.admin_key.clone()),
        Some(tokens.access.clone()),
        Some(browser.cookie.clone()),
    ] {
        let answer = app
            .send(
                Method::GET,
                "/v1/me/sessions",
                credential.as_deref(),
                None,
                axum::body::Body::empty(),
            )
            .await;
        answer.assert_problem(StatusCode::UNAUTHORIZED, "user_session_required");
    }
    app.post(
        &format!("/v1/user-sessions/{}/revoke", laptop.id),
        json!({}),
    )
    .await;
    as_person(&app, &laptop, Method::GET, "/v1/me/sessions", None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "user_session_required");
}
