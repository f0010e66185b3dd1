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

/// Reads Server-Sent Events from a live stream until `count` arrived: (id, event, data).
async fn read_stream(
    body: &mut axum::body::Body,
    buffer: &mut String,
    count: usize,
) -> Vec<(String, String, Value)> {
    use http_body_util::BodyExt as _;
    let mut events = Vec::new();
    while events.len() < count {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                    .map(str::to_owned)
            };
            if let (Some(id), Some(event), Some(data)) =
                (field("id"), field("event"), field("data"))
            {
                events.push((id, event, serde_json::from_str(&data).unwrap()));
            }
        }
        if events.len() >= count {
            break;
        }
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            buffer.push_str(std::str::from_utf8(&data).unwrap());
        }
    }
    events
}

async fn open_stream(app: &TestApp, last_event_id: Option<&str>) -> axum::response::Response {
    use tower::ServiceExt as _;
    let mut request = axum::http::Request::get("/v1/events/stream")
        .header("authorization", format!("Bearer {}", app.admin_key));
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    app.router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_live_stream_sends_past_events_then_new_ones_and_resumes_after_the_last_id() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    app.sign_in(&alice).await;
    app.sign_in(&alice).await;
    app.sign_out_everywhere(&alice, json!({})).await;

    let response = open_stream(&app, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    let mut buffer = String::new();
    let past = read_stream(&mut body, &mut buffer, 2).await;
    assert!(
        past.iter()
            .all(|(_, kind, data)| kind == "user_session.revoked"
                && data["type"] == "user_session.revoked")
    );

    // Written while the stream is open: it arrives without asking again.
    let bob = app.create_user("bob").await;
    app.sign_in(&bob).await;
    app.sign_out_everywhere(&bob, json!({})).await;
    let live = read_stream(&mut body, &mut buffer, 1).await;
    assert_eq!(live[0].2["data"]["user_id"], bob.id.as_str());

    // A reconnecting client sends the last id it saw and gets only what came after.
    let resumed = open_stream(&app, Some(&past[1].0)).await;
    let mut body = resumed.into_body();
    let mut buffer = String::new();
    let next = read_stream(&mut body, &mut buffer, 1).await;
    assert_eq!(next[0].2["id"], live[0].2["id"]);

    app.get("/v1/events/stream?after=garbage")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_cursor");
}

#[tokio::test]
async fn live_streams_per_instance_are_bounded() {
    let app = TestApp::start().await;
    let mut open = Vec::new();
    for _ in 0..leash::http::MAX_EVENT_STREAMS {
        let response = open_stream(&app, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        open.push(response);
    }
    app.get("/v1/events/stream")
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "too_many_streams");
    // A closed stream frees its place.
    open.pop();
    let response = open_stream(&app, None).await;
    assert_eq!(response.status(), StatusCode::OK);
}
