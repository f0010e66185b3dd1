use axum::http::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn creating_a_user_twice_with_one_external_id_answers_the_same_user() {
    let app = TestApp::start().await;
    let first = app
        .post(
            "/v1/users",
            json!({ "external_id": "alice", "email": "alice@example.com" }),
        )
        .await;
    let first = first.assert_status(StatusCode::CREATED).clone();
    assert_eq!(first["status"], "active");
    let again = app
        .post("/v1/users", json!({ "external_id": "alice" }))
        .await;
    assert_eq!(again.assert_status(StatusCode::OK)["id"], first["id"]);

    let fetched = app
        .get(&format!("/v1/users/{}", first["id"].as_str().unwrap()))
        .await;
    assert_eq!(fetched.assert_status(StatusCode::OK), &first);
}

#[tokio::test]
async fn an_unknown_or_malformed_user_id_is_user_not_found() {
    let app = TestApp::start().await;
    app.get("/v1/users/usr_0123456789abcdef0123456789abcdef")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "user_not_found");
    app.get("/v1/users/not-an-id")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "user_not_found");
    app.post_empty("/v1/users/usr_0123456789abcdef0123456789abcdef/sign-out-everywhere")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "user_not_found");
}

#[tokio::test]
async fn user_fields_are_checked() {
    let app = TestApp::start().await;
    for body in [
        json!({ "external_id": "" }),
        json!({ "external_id": "x".repeat(256) }),
        json!({ "external_id": "bob\u{0}" }),
        json!({ "external_id": "bob", "email": "" }),
        json!({ "external_id": "bob", "display_name": "Bob\n" }),
    ] {
        app.post("/v1/users", body)
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    }
}

#[tokio::test]
async fn a_disabled_user_loses_every_session_and_gets_no_new_one_until_enabled() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let phone = app.sign_in(&alice).await;
    let laptop = app.sign_in(&alice).await;
    assert!(app.is_active(&phone.token).await);

    let disabled = app
        .post_empty(&format!("/v1/users/{}/disable", alice.id))
        .await;
    let disabled = disabled.assert_status(StatusCode::OK);
    assert_eq!(disabled["status"], "disabled");
    assert!(disabled["disabled_at"].is_string());
    assert!(!app.is_active(&phone.token).await);
    assert!(!app.is_active(&laptop.token).await);

    let refused = app
        .post(&format!("/v1/users/{}/sessions", alice.id), json!({}))
        .await;
    refused.assert_problem(StatusCode::CONFLICT, "user_disabled");

    let listed = app.sessions(&alice, "status=all").await;
    assert!(
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["revocation_cause"] == "user_disabled")
    );

    let enabled = app
        .post_empty(&format!("/v1/users/{}/enable", alice.id))
        .await;
    assert_eq!(enabled.assert_status(StatusCode::OK)["status"], "active");
    assert!(
        !app.is_active(&phone.token).await,
        "enabling revives nothing"
    );
    let fresh = app.sign_in(&alice).await;
    assert!(app.is_active(&fresh.token).await);
}
