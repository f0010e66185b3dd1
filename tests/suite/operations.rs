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

    let text = app.metrics_text().await;
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

/// A reused refresh token revokes its family inside the token endpoint, not through an
/// admin route: it is counted all the same.
#[tokio::test]
async fn metrics_count_a_family_revoked_for_refresh_token_reuse() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let agent = app.register_agent("planner", &["a"]).await;
    app.consent(&alice, &agent, &["a"]).await;
    let first = app.delegate(&agent, &device, None).await;
    app.refresh(&agent, &first.refresh)
        .await
        .assert_status(StatusCode::OK);
    app.advance(chrono::TimeDelta::seconds(11));
    app.refresh(&agent, &first.refresh)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");

    let text = app.metrics_text().await;
    assert!(
        text.contains(r#"leash_revocations_total{cause="refresh_token_reused"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"leash_revoked_agent_sessions_total{cause="refresh_token_reused"} 1"#),
        "{text}"
    );
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

    let text = app.metrics_text().await;
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

/// A request with extra headers, answered with its status, headers and body.
async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let mut request = axum::http::Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response =
        tower::ServiceExt::oneshot(app.router.clone(), request.body(Body::empty()).unwrap())
            .await
            .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body)
        .await
        .unwrap()
        .to_bytes();
    (
        parts.status,
        parts.headers,
        serde_json::from_slice(&bytes).unwrap_or_default(),
    )
}

#[tokio::test]
async fn made_up_methods_share_one_metric_label() {
    let app = TestApp::start().await;
    for i in 0..50 {
        let (status, ..) = raw(&app, &format!("BREW{i}"), "/v1/users", &[]).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
    let text = app.metrics_text().await;
    assert!(!text.contains("BREW"), "{text}");
    assert!(
        text.contains(
            r#"leash_http_requests_total{route="/v1/users",method="other",status="405"} 50"#
        ),
        "{text}"
    );
    // Unmatched paths are one route label, whatever the path.
    raw(&app, "GET", "/no/such/path/42", &[]).await;
    let text = app.metrics_text().await;
    assert!(!text.contains("/no/such"), "{text}");
}

#[tokio::test]
async fn a_caller_request_id_is_kept_only_when_short_and_plain() {
    let app = TestApp::start().await;
    let key = format!("Bearer {}", app.admin_key);
    let plain = "req-42_a.b:c";
    let (_, headers, _) = raw(
        &app,
        "GET",
        "/v1/users/usr_nope",
        &[("x-request-id", plain), ("authorization", &key)],
    )
    .await;
    assert_eq!(headers["x-request-id"], plain);

    let long = "a".repeat(200_000);
    let at_limit = "b".repeat(128);
    let over = "c".repeat(129);
    for refused in [
        long.as_str(),
        over.as_str(),
        "has space",
        "quote\"d",
        "<script>",
    ] {
        let (status, headers, body) = raw(
            &app,
            "POST",
            "/v1/users/usr_nope/disable",
            &[("x-request-id", refused), ("authorization", &key)],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let echoed = headers["x-request-id"].to_str().unwrap();
        assert!(echoed != refused, "a refused id was kept");
        assert!(echoed.len() <= 128, "an id of {} characters", echoed.len());
        assert_eq!(
            body["request_id"], echoed,
            "the problem names the id we chose"
        );
    }
    let (_, headers, _) = raw(&app, "GET", "/healthz", &[("x-request-id", &at_limit)]).await;
    assert_eq!(headers["x-request-id"], at_limit.as_str());

    // Nothing the caller sent reaches the append-only audit log.
    let alice = app.create_user("alice").await;
    raw(
        &app,
        "POST",
        &format!("/v1/users/{}/disable", alice.id),
        &[("x-request-id", &long), ("authorization", &key)],
    )
    .await;
    let audit = app.get("/v1/audit?limit=100").await;
    assert!(
        !audit.body.to_string().contains(&over),
        "the caller's long id reached the audit log"
    );
}
