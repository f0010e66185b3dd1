//! API keys through the API and the CLI: created with a role and an optional expiry,
//! listed without secrets, revoked (refused at once), never the last admin key.

use axum::http::{Method, StatusCode};
use chrono::TimeDelta;
use serde_json::json;

use crate::cli::leash;
use crate::support::{TestApp, TestDatabase};

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.get("/v1/audit?limit=200").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

/// A new introspect key through the API: its id and secret.
async fn introspect_key(app: &TestApp) -> (String, String) {
    let created = app
        .post("/v1/api-keys", json!({ "role": "introspect" }))
        .await;
    created.assert_status(StatusCode::CREATED);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    let id = created.body["api_key"]["id"].as_str().unwrap().to_owned();
    (id, secret)
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once_and_listed_without_its_secret() {
    let app = TestApp::start().await;
    let created = app
        .post("/v1/api-keys", json!({ "role": "introspect" }))
        .await;
    let body = created.assert_status(StatusCode::CREATED).clone();
    let secret = body["secret"].as_str().unwrap().to_owned();
    let id = body["api_key"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("leash_ak_"));
    assert_eq!(body["api_key"]["status"], "active");
    assert_eq!(
        app.introspect_with(&secret, "leash_ust_nothing")
            .await
            .status,
        StatusCode::OK
    );
    let listed = app.get("/v1/api-keys").await;
    let listed = listed.assert_status(StatusCode::OK);
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains(&secret));
    let mine = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap();
    assert!(
        mine["last_used_at"].is_string(),
        "its use is recorded: {mine}"
    );

    let revoked = app.post_empty(&format!("/v1/api-keys/{id}/revoke")).await;
    assert_eq!(revoked.assert_status(StatusCode::OK)["status"], "revoked");
    app.introspect_with(&secret, "leash_ust_nothing")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    // Revoking again changes nothing.
    app.post_empty(&format!("/v1/api-keys/{id}/revoke"))
        .await
        .assert_status(StatusCode::OK);
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"api_key.created".to_owned()));
    assert_eq!(
        actions.iter().filter(|a| *a == "api_key.revoked").count(),
        1
    );
}

#[tokio::test]
async fn the_last_active_admin_key_cannot_be_revoked() {
    let app = TestApp::start().await;
    let listed = app.get("/v1/api-keys").await;
    let mine = listed.body["data"][0]["id"].as_str().unwrap().to_owned();
    app.post_empty(&format!("/v1/api-keys/{mine}/revoke"))
        .await
        .assert_problem(StatusCode::CONFLICT, "last_admin_key");
    // Other keys can go while one admin key remains.
    let (reader_id, _) = introspect_key(&app).await;
    app.post_empty(&format!("/v1/api-keys/{reader_id}/revoke"))
        .await
        .assert_status(StatusCode::OK);
    // An admin key about to expire does not count as the one that remains.
    let soon = app.clock_now() + TimeDelta::minutes(1);
    let short = app
        .post(
            "/v1/api-keys",
            json!({ "role": "admin", "expires_at": soon.to_rfc3339() }),
        )
        .await;
    let short_secret = short.body["secret"].as_str().unwrap().to_owned();
    app.advance(TimeDelta::minutes(2));
    app.post_empty(&format!("/v1/api-keys/{mine}/revoke"))
        .await
        .assert_problem(StatusCode::CONFLICT, "last_admin_key");
    app.send(
        Method::GET,
        "/v1/api-keys",
        Some(&short_secret),
        None,
        axum::body::Body::empty(),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    // With another active admin key, the first can go, and is refused from then on.
    let other = app.post("/v1/api-keys", json!({ "role": "admin" })).await;
    assert_eq!(other.status, StatusCode::CREATED);
    app.post_empty(&format!("/v1/api-keys/{mine}/revoke"))
        .await
        .assert_status(StatusCode::OK);
    app.get("/v1/api-keys")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn bad_key_requests_are_refused_with_a_problem() {
    let app = TestApp::start().await;
    let past = (app.clock_now() - TimeDelta::minutes(1)).to_rfc3339();
    let now = app.clock_now().to_rfc3339();
    let far = (app.clock_now() + TimeDelta::days(4000)).to_rfc3339();
    for body in [
        json!({ "role": "root" }),
        json!({ "role": "admin", "expires_at": past }),
        json!({ "role": "admin", "expires_at": now }),
        json!({ "role": "admin", "expires_at": far }),
        json!({ "role": "admin", "extra": 1 }),
        json!({}),
    ] {
        let answer = app.post("/v1/api-keys", body.clone()).await;
        assert!(
            answer.status.is_client_error()
                && answer.content_type.starts_with("application/problem+json"),
            "{body}: {} {}",
            answer.status,
            answer.body
        );
    }
    app.post_empty("/v1/api-keys/ak_nope/revoke")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "api_key_not_found");
    let introspect_key = app.key(leash::domain::api_key::Role::Introspect).await;
    app.send(
        Method::GET,
        "/v1/api-keys",
        Some(&introspect_key),
        None,
        axum::body::Body::empty(),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "wrong_role");
}

#[tokio::test]
async fn keys_list_and_revoke_from_the_command_line() {
    let database = TestDatabase::fresh().await;
    let first = leash(&database.url(), &["keys", "create", "--role", "admin"]);
    let second = leash(
        &database.url(),
        &[
            "keys",
            "create",
            "--role",
            "risk",
            "--expires-in-days",
            "30",
        ],
    );
    assert!(first.status.success() && second.status.success());
    let risk_secret = String::from_utf8(second.stdout).unwrap();
    let listed = leash(&database.url(), &["keys", "list"]);
    assert!(listed.status.success());
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(!listed.contains(risk_secret.trim()), "a secret was listed");
    assert_eq!(listed.lines().count(), 3, "{listed}");
    let risk_line = listed.lines().find(|l| l.contains("\trisk\t")).unwrap();
    let risk_id = risk_line.split('\t').next().unwrap();
    assert!(risk_line.contains("\tactive\t"));
    let revoked = leash(&database.url(), &["keys", "revoke", risk_id]);
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let listed = String::from_utf8(leash(&database.url(), &["keys", "list"]).stdout).unwrap();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(risk_id) && l.contains("\trevoked\t"))
    );
    let admin_id = listed
        .lines()
        .find(|l| l.contains("\tadmin\t"))
        .unwrap()
        .split('\t')
        .next()
        .unwrap();
    let last = leash(&database.url(), &["keys", "revoke", admin_id]);
    assert!(!last.status.success());
    assert!(String::from_utf8_lossy(&last.stderr).contains("last active admin key"));
}

/// A key's use is written at most once a minute: the cached key carries the written use.
#[tokio::test]
async fn a_key_use_is_written_at_most_once_a_minute() {
    let app = TestApp::start().await;
    let (id, secret) = introspect_key(&app).await;
    let last_used = || async {
        let listed = app.get("/v1/api-keys").await;
        listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id.as_str())
            .unwrap()["last_used_at"]
            .clone()
    };
    app.introspect_with(&secret, "leash_ust_nothing").await;
    let first = last_used().await;
    assert!(first.is_string());
    app.advance(TimeDelta::seconds(61));
    app.introspect_with(&secret, "leash_ust_nothing").await;
    let second = last_used().await;
    assert_ne!(second, first);
    app.advance(TimeDelta::seconds(30));
    app.introspect_with(&secret, "leash_ust_nothing").await;
    assert_eq!(last_used().await, second, "written again within the minute");
}

/// The key list pages: a full page says there is more, the last page says there is not.
#[tokio::test]
async fn keys_are_listed_page_by_page() {
    let app = TestApp::start().await;
    for _ in 0..2 {
        introspect_key(&app).await;
    }
    let first = app.get("/v1/api-keys?limit=2").await.body;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("/v1/api-keys?limit=2&cursor={cursor}"))
        .await
        .body;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_cursor"], serde_json::Value::Null);
    let all = app.get("/v1/api-keys?limit=3").await.body;
    assert_eq!(all["data"].as_array().unwrap().len(), 3);
    assert_eq!(all["next_cursor"], serde_json::Value::Null);
}
