use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn health_and_readiness_answer_without_a_key() {
    let app = TestApp::start().await;
    assert_eq!(
        app.send(Method::GET, "/healthz", None, None, Body::empty())
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.send(Method::GET, "/readyz", None, None, Body::empty())
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::start().await;
    app.db.close().await;
    let answer = app
        .send(Method::GET, "/readyz", None, None, Body::empty())
        .await;
    answer.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}

#[tokio::test]
async fn metrics_count_requests_introspections_and_revocations() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let session = app.sign_in(&alice).await;
    app.is_active(&session.token).await;
    app.sign_out_everywhere(&alice, json!({})).await;

    let text = metrics_text(&app).await;
    assert!(
        text.contains(
            r#"leash_http_requests_total{route="/v1/users",method="POST",status="201"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains("leash_introspection_duration_seconds_count 1"),
        "{text}"
    );
    assert!(
        text.contains(r#"leash_revocations_total{cause="sign_out_everywhere"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"leash_revoked_user_sessions_total{cause="sign_out_everywhere"} 1"#),
        "{text}"
    );
    assert!(!text.contains(&session.token));
}

#[tokio::test]
async fn metrics_count_webhook_attempts_by_outcome() {
    let app = TestApp::start_with_webhooks().await;
    let receiver = crate::support::receiver::Receiver::start().await;
    receiver.answer(500);
    app.webhook_endpoint(json!({ "url": receiver.url })).await;
    let alice = app.create_user("alice").await;
    app.sign_in(&alice).await;
    app.sign_in(&alice).await;
    app.sign_out_everywhere(&alice, json!({})).await;
    app.deliver().await;
    receiver.answer(200);
    app.advance(chrono::TimeDelta::seconds(6));
    app.deliver().await;

    let text = metrics_text(&app).await;
    assert!(
        text.contains(r#"leash_webhook_attempts_total{outcome="retrying"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"leash_webhook_attempts_total{outcome="succeeded"} 2"#),
        "{text}"
    );
    assert!(
        text.contains("leash_webhook_endpoints_disabled_total 0"),
        "{text}"
    );
}

/// What `/metrics` answers, unauthenticated.
async fn metrics_text(app: &TestApp) -> String {
    let request = axum::http::Request::get("/metrics")
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}
