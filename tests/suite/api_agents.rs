use axum::http::StatusCode;
use leash::domain::id::AgentId;
use serde_json::{Value, json};

use crate::support::TestApp;

async fn register(app: &TestApp, name: &str, scopes: &[&str]) -> Value {
    let answer = app
        .post("/v1/agents", json!({ "name": name, "scopes": scopes }))
        .await;
    answer.assert_status(StatusCode::CREATED).clone()
}

#[tokio::test]
async fn a_registered_agent_gets_a_client_id_and_a_secret_shown_once() {
    let app = TestApp::start().await;
    let created = register(
        &app,
        "planner",
        &["calendar.read", "github:repo", "calendar.read"],
    )
    .await;
    let agent = &created["agent"];
    assert_eq!(created["client_id"], agent["id"]);
    let secret = created["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("leash_cs_"));
    assert_eq!(agent["name"], "planner");
    assert_eq!(
        agent["scopes"],
        json!(["calendar.read", "github:repo"]),
        "duplicates collapse, order is stable"
    );
    assert_eq!(agent["status"], "active");

    let fetched = app
        .get(&format!("/v1/agents/{}", agent["id"].as_str().unwrap()))
        .await;
    assert_eq!(fetched.assert_status(StatusCode::OK), agent);
    assert!(!fetched.body.to_string().contains(secret));
}

#[tokio::test]
async fn agent_registration_checks_its_name_and_scopes() {
    let app = TestApp::start().await;
    let refused = |body: Value, code: &'static str| {
        let app = &app;
        async move {
            app.post("/v1/agents", body)
                .await
                .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, code)
        }
    };
    refused(json!({ "name": "", "scopes": ["a"] }), "invalid_field").await;
    refused(json!({ "name": "x", "scopes": [] }), "invalid_scope").await;
    refused(
        json!({ "name": "x", "scopes": ["has space"] }),
        "invalid_scope",
    )
    .await;
    refused(
        json!({ "name": "x", "scopes": ["github:"] }),
        "invalid_scope",
    )
    .await;
    refused(json!({ "name": "x", "scopes": ["tab\t"] }), "invalid_scope").await;
    let too_many: Vec<String> = (0..101).map(|i| format!("s{i}")).collect();
    refused(json!({ "name": "x", "scopes": too_many }), "invalid_scope").await;
    refused(
        json!({ "name": "x", "scopes": "calendar.read" }),
        "invalid_body",
    )
    .await;
}

#[tokio::test]
async fn rotating_the_secret_replaces_it() {
    let app = TestApp::start().await;
    let created = register(&app, "planner", &["calendar.read"]).await;
    let id = created["client_id"].as_str().unwrap();
    app.advance(chrono::TimeDelta::hours(1));
    let rotated = app
        .post_empty(&format!("/v1/agents/{id}/rotate-secret"))
        .await;
    let rotated = rotated.assert_status(StatusCode::OK);
    assert_eq!(rotated["client_id"], id);
    assert_ne!(rotated["client_secret"], created["client_secret"]);

    let stored = leash::store::agents::get(&app.db, &AgentId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.secret_rotated_at,
        stored.created_at + chrono::TimeDelta::hours(1)
    );
    app.post_empty("/v1/agents/agt_0123456789abcdef0123456789abcdef/rotate-secret")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "agent_not_found");
}

#[tokio::test]
async fn agents_are_listed_newest_first_page_by_page() {
    let app = TestApp::start().await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        ids.push(
            register(&app, name, &["calendar.read"]).await["client_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids.reverse();
    let first = app
        .get("/v1/agents?limit=2")
        .await
        .assert_status(StatusCode::OK)
        .clone();
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/v1/agents?limit=2&cursor={cursor}"))
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(second["next_cursor"], Value::Null);
    let listed: Vec<&str> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["data"].as_array().unwrap())
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids);
    app.get("/v1/agents/not-an-agent")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "agent_not_found");
    app.get("/v1/agents?cursor=not%20a%20cursor")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_cursor");
}
