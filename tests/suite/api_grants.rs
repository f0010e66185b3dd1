use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

async fn agent(app: &TestApp, scopes: &[&str]) -> String {
    let created = app
        .post("/v1/agents", json!({ "name": "planner", "scopes": scopes }))
        .await;
    created.assert_status(StatusCode::CREATED)["client_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_user_consents_to_scopes_within_the_agents_ceiling() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let planner = agent(&app, &["calendar.read", "calendar.write", "github:repo"]).await;
    let answer = app
        .post(
            &format!("/v1/users/{}/grants", alice.id),
            json!({ "agent_id": planner, "scopes": ["calendar.read", "github:repo"] }),
        )
        .await;
    let grant = answer.assert_status(StatusCode::CREATED).clone();
    assert!(grant["id"].as_str().unwrap().starts_with("grt_"));
    assert_eq!(grant["user_id"], alice.id.as_str());
    assert_eq!(grant["agent_id"], planner.as_str());
    assert_eq!(grant["scopes"], json!(["calendar.read", "github:repo"]));
    assert_eq!(grant["status"], "active");

    let fetched = app
        .get(&format!("/v1/grants/{}", grant["id"].as_str().unwrap()))
        .await;
    assert_eq!(fetched.assert_status(StatusCode::OK), &grant);
    let listed = app.get(&format!("/v1/users/{}/grants", alice.id)).await;
    assert_eq!(listed.assert_status(StatusCode::OK)["data"], json!([grant]));
}

#[tokio::test]
async fn consent_beyond_the_ceiling_is_refused_naming_what_was_refused() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let planner = agent(&app, &["calendar.read"]).await;
    let answer = app
        .post(
            &format!("/v1/users/{}/grants", alice.id),
            json!({ "agent_id": planner, "scopes": ["calendar.read", "mail.send"] }),
        )
        .await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "scopes_beyond_ceiling");
    assert!(
        answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("mail.send")
    );
    assert!(
        !answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("calendar.read")
    );
}

#[tokio::test]
async fn a_user_has_one_active_grant_per_agent() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let planner = agent(&app, &["calendar.read"]).await;
    let body = json!({ "agent_id": planner, "scopes": ["calendar.read"] });
    app.post(&format!("/v1/users/{}/grants", alice.id), body.clone())
        .await
        .assert_status(StatusCode::CREATED);
    app.post(&format!("/v1/users/{}/grants", alice.id), body.clone())
        .await
        .assert_problem(StatusCode::CONFLICT, "grant_exists");
    app.post(&format!("/v1/users/{}/grants", bob.id), body)
        .await
        .assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn a_grant_needs_a_real_user_and_agent() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let planner = agent(&app, &["calendar.read"]).await;
    let scopes = json!(["calendar.read"]);
    let post = |user: &str, agent: &str| {
        let (app, scopes) = (&app, scopes.clone());
        let (user, agent) = (user.to_owned(), agent.to_owned());
        async move {
            app.post(
                &format!("/v1/users/{user}/grants"),
                json!({ "agent_id": agent, "scopes": scopes }),
            )
            .await
        }
    };
    post("usr_0123456789abcdef0123456789abcdef", &planner)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "user_not_found");
    post(&alice.id, "agt_0123456789abcdef0123456789abcdef")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "agent_not_found");
    post(&alice.id, &alice.id)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    app.get("/v1/grants/grt_0123456789abcdef0123456789abcdef")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "grant_not_found");
    let empty: Value = app
        .get(&format!("/v1/users/{}/grants?limit=1", alice.id))
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(empty["data"], json!([]));
}
