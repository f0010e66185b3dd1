//! The events API: every revocation's events, in the order they were written, page by
//! page, filtered by type.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;

#[tokio::test]
async fn a_sign_out_is_listed_as_its_events_in_order_page_by_page_and_by_type() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    app.sign_in(&alice).await;
    let agent = app.register_agent("planner", &["a"]).await;
    app.consent(&alice, &agent, &["a"]).await;
    let delegated = app.delegate(&agent, &device, None).await;
    let revocation = app.sign_out_everywhere(&alice, json!({})).await;

    let first = app
        .get("/v1/events?limit=2")
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("/v1/events?limit=2&after={cursor}"))
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(first["has_more"], true);
    assert_eq!(rest["has_more"], false);
    // The feed's cursor stands after the last event read, for what comes later.
    let later = rest["next_cursor"].as_str().unwrap();
    let empty = app
        .get(&format!("/v1/events?after={later}"))
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(empty["data"], json!([]));
    assert_eq!(empty["next_cursor"], Value::Null);
    let all: Vec<&Value> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["data"].as_array().unwrap())
        .collect();
    assert!(
        all.iter()
            .all(|e| e["data"]["revocation_id"] == revocation["id"])
    );
    assert!(
        all.iter()
            .all(|e| e["id"].as_str().unwrap().starts_with("evt_"))
    );

    let agents = app
        .get("/v1/events?types=agent_session.revoked")
        .await
        .assert_status(StatusCode::OK)
        .clone();
    let agents = agents["data"].as_array().unwrap();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0]["type"], "agent_session.revoked");
    assert_eq!(agents[0]["data"]["chain"], json!([agent.id]));
    assert_eq!(agents[0]["data"]["cause"], "sign_out_everywhere");
    assert!(!app.is_active(&delegated.access).await);

    let both = app
        .get("/v1/events?types=user_session.revoked,agent_session.revoked")
        .await
        .assert_status(StatusCode::OK)
        .clone();
    assert_eq!(both["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn the_events_api_refuses_what_it_cannot_read() {
    let app = TestApp::start().await;
    app.get("/v1/events?types=user.exploded")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_event_type");
    app.get("/v1/events?after=garbage")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_cursor");
    app.get("/v1/events?limit=0")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_limit");
    app.get("/v1/events?since=1")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_query");
    app.send(Method::GET, "/v1/events", None, None, Body::empty())
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "missing_credentials");
}
