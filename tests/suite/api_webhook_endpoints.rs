//! The webhook endpoints API: create (secret shown once, sealed at rest), read, list,
//! change, disable and enable, delete, and every bad input refused clearly.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use leash::domain::api_key::Role;
use serde_json::{Value, json};

use crate::support::TestApp;

async fn send_json(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Value,
) -> crate::support::Answer {
    app.send(
        method,
        path,
        Some(&app.admin_key),
        Some("application/json"),
        Body::from(body.to_string()),
    )
    .await
}

#[tokio::test]
async fn an_endpoint_is_created_read_changed_listed_and_deleted() {
    let app = TestApp::start_with_webhooks().await;
    let created = app
        .post(
            "/v1/webhook-endpoints",
            json!({
                "url": "https://hooks.example.com/leash",
                "event_types": ["user_session.revoked", "agent_session.revoked", "user_session.revoked"],
                "description": "security team",
            }),
        )
        .await;
    let body = created.assert_status(StatusCode::CREATED).clone();
    let id = body["endpoint"]["id"].as_str().unwrap().to_owned();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(id.starts_with("whe_") && secret.starts_with("whsec_"));
    assert_eq!(
        body["endpoint"]["event_types"],
        json!(["agent_session.revoked", "user_session.revoked"]),
        "types are kept once each"
    );
    assert_eq!(body["endpoint"]["status"], "active");

    let read = app.get(&format!("/v1/webhook-endpoints/{id}")).await;
    let read = read.assert_status(StatusCode::OK);
    assert_eq!(read, &body["endpoint"]);
    assert!(
        !read.to_string().contains(&secret),
        "the secret is shown once"
    );

    let changed = send_json(
        &app,
        Method::PATCH,
        &format!("/v1/webhook-endpoints/{id}"),
        json!({ "event_types": [], "description": "" }),
    )
    .await;
    let changed = changed.assert_status(StatusCode::OK);
    assert_eq!(changed["event_types"], json!([]));
    assert_eq!(changed["description"], Value::Null);
    assert_eq!(changed["url"], "https://hooks.example.com/leash");

    let disabled = app
        .post_empty(&format!("/v1/webhook-endpoints/{id}/disable"))
        .await;
    assert_eq!(disabled.assert_status(StatusCode::OK)["status"], "disabled");
    let event = app.get("/v1/events?types=webhook_endpoint.disabled").await;
    assert_eq!(event.body["data"][0]["data"]["reason"], "admin");
    let enabled = app
        .post_empty(&format!("/v1/webhook-endpoints/{id}/enable"))
        .await;
    assert_eq!(enabled.assert_status(StatusCode::OK)["status"], "active");

    app.post(
        "/v1/webhook-endpoints",
        json!({ "url": "https://b.example.com/" }),
    )
    .await
    .assert_status(StatusCode::CREATED);
    let page = app.get("/v1/webhook-endpoints?limit=1").await;
    let page = page.assert_status(StatusCode::OK).clone();
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        page["data"][0]["url"], "https://b.example.com/",
        "newest first"
    );
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("/v1/webhook-endpoints?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(rest.body["data"][0]["id"], id.as_str());

    let deleted = app
        .send(
            Method::DELETE,
            &format!("/v1/webhook-endpoints/{id}"),
            Some(&app.admin_key),
            None,
            Body::empty(),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&format!("/v1/webhook-endpoints/{id}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "webhook_endpoint_not_found");

    // Every change is in the audit log, and none of it holds the secret.
    let audit = app.get(&format!("/v1/audit?target={id}")).await;
    let actions: Vec<&str> = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "webhook_endpoint.created",
            "webhook_endpoint.updated",
            "webhook_endpoint.disabled",
            "webhook_endpoint.enabled",
            "webhook_endpoint.deleted"
        ]
    );
    assert!(!audit.body.to_string().contains(&secret));
}

#[tokio::test]
async fn the_signing_secret_is_stored_sealed_not_in_plain_text() {
    let app = TestApp::start_with_webhooks().await;
    let (id, secret) = app
        .webhook_endpoint(json!({ "url": "https://hooks.example.com/" }))
        .await;
    let key = base64_decode(secret.strip_prefix("whsec_").unwrap());
    let stored = leash::store::webhook_endpoints::get(
        &app.db,
        &leash::domain::id::WebhookEndpointId::parse(&id).unwrap(),
        None,
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        !stored
            .secret_sealed
            .windows(key.len())
            .any(|w| w == key.as_slice())
    );
    assert!(
        stored.secret_sealed.len() > key.len(),
        "nonce and tag travel with it"
    );
}

fn base64_decode(raw: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(raw)
        .unwrap()
}

#[tokio::test]
async fn private_and_loopback_targets_are_refused_unless_the_instance_allows_them() {
    let app = TestApp::start().await;
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        // IPv4 inside IPv6 is judged by the IPv4 address; every special-purpose range
        // of the IANA registries is refused.
        "http://[::127.0.0.1]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://[64:ff9b::a9fe:a9fe]/hook",
        "http://[2002:7f00:1::1]/hook",
        "http://[fec0::1]/hook",
        "http://[::ffff:0:7f00:1]/hook",
        "http://192.0.0.8/hook",
    ] {
        app.post("/v1/webhook-endpoints", json!({ "url": url }))
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_webhook_url");
    }
    let allowed = TestApp::start_with_webhooks().await;
    allowed
        .post(
            "/v1/webhook-endpoints",
            json!({ "url": "http://127.0.0.1:9000/hook" }),
        )
        .await
        .assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn bad_input_is_refused_with_a_problem() {
    let app = TestApp::start_with_webhooks().await;
    let cases = [
        (
            json!({ "url": "ftp://hooks.example.com/" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_webhook_url",
        ),
        (
            json!({ "url": "https://user:pw@hooks.example.com/" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_webhook_url",
        ),
        (
            json!({ "url": "not a url" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_webhook_url",
        ),
        (
            json!({ "url": format!("https://h.example.com/{}", "a".repeat(2100)) }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_webhook_url",
        ),
        (
            json!({ "url": "https://h.example.com/", "event_types": ["user.teleported"] }),
            StatusCode::BAD_REQUEST,
            "invalid_event_type",
        ),
        (
            json!({ "url": "https://h.example.com/", "description": "a\u{0}b" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({ "url": "https://h.example.com/", "secret": "mine" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({ "url": 7 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
    ];
    for (body, status, code) in cases {
        let answer = app.post("/v1/webhook-endpoints", body.clone()).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        answer.assert_problem(status, code);
    }
    let (id, _) = app
        .webhook_endpoint(json!({ "url": "https://h.example.com/" }))
        .await;
    app.post(
        &format!("/v1/webhook-endpoints/{id}/rotate-secret"),
        json!({ "overlap_seconds": 700_000 }),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    app.post(
        &format!("/v1/webhook-endpoints/{id}/replay"),
        json!({ "since": "yesterday" }),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    app.get("/v1/webhook-endpoints/whe_nope")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "webhook_endpoint_not_found");
    app.get("/v1/webhook-endpoints/whe_0123456789abcdef0123456789abcdef/attempts")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "webhook_endpoint_not_found");
    app.get("/v1/webhook-endpoints?limit=0")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_limit");
}

#[tokio::test]
async fn only_an_admin_key_manages_endpoints() {
    let app = TestApp::start_with_webhooks().await;
    let risk = app.key(Role::Risk).await;
    let answer = app
        .send(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(&risk),
            Some("application/json"),
            Body::from(json!({ "url": "https://h.example.com/" }).to_string()),
        )
        .await;
    answer.assert_problem(StatusCode::FORBIDDEN, "wrong_role");
    app.send(Method::GET, "/v1/audit", None, None, Body::empty())
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "missing_credentials");
}

#[tokio::test]
async fn the_number_of_endpoints_is_bounded() {
    let app = TestApp::start_with_webhooks().await;
    let max = leash::domain::webhook::MAX_ENDPOINTS;
    for i in 0..max {
        app.webhook_endpoint(json!({ "url": format!("https://h{i}.example.com/") }))
            .await;
    }
    app.post(
        "/v1/webhook-endpoints",
        json!({ "url": "https://one-more.example.com/" }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "too_many_webhook_endpoints");
}
