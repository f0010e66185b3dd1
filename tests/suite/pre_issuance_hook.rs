//! The pre-issuance hook: what it is asked, how its allow, deny, silence and garbage
//! decide, that a blocked address never reaches it, and that while it thinks Leash holds
//! no transaction (a sign-out goes through, and the issuance then sees it).

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use leash::domain::issuance_hook::FailurePolicy;
use serde_json::{Value, json};

use crate::support::agents::{AgentTokens, TestAgent, exchange_params, form};
use crate::support::issuance_hook::{self, Answer, Hook};
use crate::support::{RawAnswer, TestApp, TestSession, TestUser};

const RUNTIME_IP: &str = "198.51.100.23";
const RUNTIME_UA: &str = "calendar-runtime/2.1";

struct Scene {
    app: TestApp,
    alice: TestUser,
    laptop: TestSession,
    planner: TestAgent,
    helper: TestAgent,
    planner_grant: String,
}

async fn scene_with(settings: leash::usecase::Settings) -> Scene {
    let app = TestApp::start_with(settings).await;
    let alice = app.create_user("alice").await;
    let laptop = app.sign_in(&alice).await;
    let planner = app
        .register_agent("Planner", &["calendar.read", "mail.send"])
        .await;
    let helper = app.register_agent("Helper", &["calendar.read"]).await;
    let planner_grant = app
        .consent(&alice, &planner, &["calendar.read", "mail.send"])
        .await;
    app.consent(&alice, &helper, &["calendar.read"]).await;
    Scene {
        app,
        alice,
        laptop,
        planner,
        helper,
        planner_grant,
    }
}

async fn scene(hook: &Hook, policy: FailurePolicy, timeout: Duration) -> Scene {
    scene_with(hook.settings(policy, timeout)).await
}

/// A token exchange as an agent runtime at `RUNTIME_IP` sends it.
async fn exchange(
    app: &TestApp,
    agent: &TestAgent,
    subject: &str,
    scope: Option<&str>,
) -> RawAnswer {
    let params = exchange_params(subject, scope);
    let mut request = Request::post("/oauth2/token")
        .header(header::AUTHORIZATION, agent.basic())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::USER_AGENT, RUNTIME_UA)
        .body(Body::from(form(&params)))
        .unwrap();
    let peer: SocketAddr = format!("{RUNTIME_IP}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    app.send_raw(request).await
}

fn json_of(answer: &RawAnswer) -> Value {
    answer.json()
}

async fn mint(s: &Scene, scopes: &[&str]) -> crate::support::Answer {
    s.app
        .post(
            &format!("/v1/users/{}/agent-sessions", s.alice.id),
            json!({ "agent_id": s.planner.id, "scopes": scopes, "user_session_id": s.laptop.id }),
        )
        .await
}

async fn audited(app: &TestApp, action: &str) -> Vec<Value> {
    app.get(&format!("/v1/audit?action={action}"))
        .await
        .assert_status(StatusCode::OK)["data"]
        .as_array()
        .unwrap()
        .clone()
}

async fn agent_sessions_of(s: &Scene) -> usize {
    s.app
        .get(&format!(
            "/v1/users/{}/agent-sessions?status=all",
            s.alice.id
        ))
        .await
        .assert_status(StatusCode::OK)["data"]
        .as_array()
        .unwrap()
        .len()
}

fn assert_counted(metrics: &str, decision: &str, failure: &str, count: u32) {
    let line = format!(
        r#"leash_issuance_hook_decisions_total{{decision="{decision}",failure="{failure}"}} {count}"#
    );
    assert!(metrics.contains(&line), "{line} not in\n{metrics}");
}

#[tokio::test]
async fn an_allowing_hook_is_asked_about_each_issuance_and_its_allow_is_audited() {
    let hook = Hook::start(Answer::allow()).await;
    let s = scene(&hook, FailurePolicy::FailClosed, Duration::from_secs(5)).await;

    let root = exchange(
        &s.app,
        &s.planner,
        &s.laptop.token,
        Some("calendar.read mail.send"),
    )
    .await;
    assert_eq!(root.status, StatusCode::OK, "{:?}", json_of(&root));
    let root = AgentTokens::from_answer(&json_of(&root));
    let root_session = s.app.introspect(&root.access).await["session_id"].clone();
    let child = exchange(&s.app, &s.helper, &root.access, None).await;
    assert_eq!(child.status, StatusCode::OK, "{:?}", json_of(&child));
    mint(&s, &["calendar.read"])
        .await
        .assert_status(StatusCode::CREATED);

    let received = hook.received();
    assert_eq!(received.len(), 3);
    for (_, authorization) in &received {
        assert_eq!(
            authorization.as_deref(),
            Some(format!("Bearer {}", issuance_hook::TOKEN).as_str())
        );
    }
    let (exchanged, sub_delegated, minted) = (&received[0].0, &received[1].0, &received[2].0);
    assert_eq!(exchanged["kind"], "token_exchange");
    assert_eq!(exchanged["user"]["id"], s.alice.id.as_str());
    assert_eq!(exchanged["user"]["external_id"], "alice");
    assert_eq!(
        exchanged["agent"],
        json!({ "id": s.planner.id, "name": "Planner" })
    );
    assert_eq!(exchanged["scopes"], json!(["calendar.read", "mail.send"]));
    assert_eq!(exchanged["ip"], RUNTIME_IP);
    assert_eq!(exchanged["user_agent"], RUNTIME_UA);
    assert_eq!(exchanged["user_session_id"], s.laptop.id.as_str());
    assert_eq!(exchanged["parent_chain"], json!([]));
    assert!(exchanged["requested_at"].is_string());

    assert_eq!(sub_delegated["kind"], "sub_delegation");
    assert_eq!(sub_delegated["agent"]["name"], "Helper");
    // Asked for all it may hold: the hook sees what that is.
    assert_eq!(sub_delegated["scopes"], json!(["calendar.read"]));
    assert_eq!(
        sub_delegated["parent_chain"],
        json!([{ "agent_session_id": root_session, "agent_id": s.planner.id }])
    );

    assert_eq!(minted["kind"], "host_mint");
    // A mint is asked from the address and browser the person signed in with.
    assert_eq!(minted["ip"], "203.0.113.7");
    assert_eq!(minted["user_agent"], "Firefox/140");

    let allowed = audited(&s.app, "issuance_hook.allowed").await;
    let targets: Vec<&str> = allowed
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            s.laptop.id.as_str(),
            root_session.as_str().unwrap(),
            s.laptop.id.as_str()
        ]
    );
    assert_eq!(allowed[0]["actor"], s.planner.id.as_str());
    assert_counted(&s.app.metrics_text().await, "allowed", "none", 3);
}

#[tokio::test]
async fn a_denying_hook_refuses_with_its_reason_and_nothing_is_issued() {
    let hook = Hook::start(Answer::deny("impossible travel\u{7}")).await;
    let s = scene(&hook, FailurePolicy::FailOpen, Duration::from_secs(5)).await;

    let refused = exchange(&s.app, &s.planner, &s.laptop.token, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let body = json_of(&refused);
    assert_eq!(body["error"], "access_denied");
    assert_eq!(
        body["error_description"],
        "the issuance policy refused this delegation: impossible travel"
    );
    mint(&s, &["calendar.read"])
        .await
        .assert_problem(StatusCode::FORBIDDEN, "issuance_denied");

    assert_eq!(agent_sessions_of(&s).await, 0);
    let denied = audited(&s.app, "issuance_hook.denied").await;
    assert_eq!(denied.len(), 2);
    assert!(audited(&s.app, "agent_session.created").await.is_empty());
    assert_counted(&s.app.metrics_text().await, "denied", "none", 2);
}

#[tokio::test]
async fn a_hook_that_does_not_answer_in_time_is_decided_by_the_failure_policy() {
    let hook = Hook::start(Answer::Held(200, r#"{"decision":"allow"}"#.to_owned())).await;
    let timeout = Duration::from_millis(200);

    let closed = scene(&hook, FailurePolicy::FailClosed, timeout).await;
    let refused = exchange(&closed.app, &closed.planner, &closed.laptop.token, None).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json_of(&refused)["error"], "temporarily_unavailable");
    assert_eq!(refused.header("retry-after"), Some("1"));
    mint(&closed, &["calendar.read"])
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "issuance_hook_unavailable");
    assert_eq!(agent_sessions_of(&closed).await, 0);
    assert_eq!(
        audited(&closed.app, "issuance_hook.failed_closed")
            .await
            .len(),
        2
    );
    assert_counted(
        &closed.app.metrics_text().await,
        "failed_closed",
        "timeout",
        2,
    );

    let open = scene(&hook, FailurePolicy::FailOpen, timeout).await;
    let issued = exchange(&open.app, &open.planner, &open.laptop.token, None).await;
    assert_eq!(issued.status, StatusCode::OK, "{:?}", json_of(&issued));
    assert!(
        open.app
            .is_active(&AgentTokens::from_answer(&json_of(&issued)).access)
            .await
    );
    assert_eq!(
        audited(&open.app, "issuance_hook.failed_open").await.len(),
        1
    );
    assert_counted(&open.app.metrics_text().await, "failed_open", "timeout", 1);
}

#[tokio::test]
async fn garbage_and_errors_from_the_hook_are_decided_by_the_failure_policy() {
    let hook = Hook::start(Answer::allow()).await;
    // Three answers with a status other than 200, then six 200s that are no answer.
    let garbage = [
        Answer::Raw(500, r#"{"decision":"allow"}"#.to_owned()),
        Answer::Raw(204, String::new()),
        Answer::Raw(302, r#"{"decision":"allow"}"#.to_owned()),
        Answer::Raw(200, "allow".to_owned()),
        Answer::Raw(200, "<html>ok</html>".to_owned()),
        Answer::Raw(200, r#"{"decision":"ALLOW"}"#.to_owned()),
        Answer::Raw(200, r#"{"decision":null}"#.to_owned()),
        Answer::Raw(200, r#"{"verdict":"allow"}"#.to_owned()),
        // Past the 16 KiB an answer may take.
        Answer::Raw(
            200,
            format!(
                r#"{{"decision":"allow","reason":"{}"}}"#,
                "x".repeat(20_000)
            ),
        ),
    ];
    let closed = scene(&hook, FailurePolicy::FailClosed, Duration::from_secs(5)).await;
    let open = scene(&hook, FailurePolicy::FailOpen, Duration::from_secs(5)).await;
    for answer in &garbage {
        hook.answer_with(answer.clone());
        let refused = exchange(&closed.app, &closed.planner, &closed.laptop.token, None).await;
        assert_eq!(
            refused.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{answer:?}"
        );
        let issued = exchange(&open.app, &open.planner, &open.laptop.token, None).await;
        assert_eq!(
            issued.status,
            StatusCode::OK,
            "{answer:?}: {:?}",
            json_of(&issued)
        );
    }
    assert_eq!(agent_sessions_of(&closed).await, 0);
    assert_eq!(agent_sessions_of(&open).await, garbage.len());
    let metrics = closed.app.metrics_text().await;
    assert_counted(&metrics, "failed_closed", "status", 3);
    assert_counted(&metrics, "failed_closed", "invalid_answer", 6);

    // Nothing listening at all.
    let unreachable = scene_with(issuance_hook::settings_calling(
        "http://127.0.0.1:9/decide",
        FailurePolicy::FailClosed,
        Duration::from_secs(5),
    ))
    .await;
    let refused = exchange(
        &unreachable.app,
        &unreachable.planner,
        &unreachable.laptop.token,
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_counted(
        &unreachable.app.metrics_text().await,
        "failed_closed",
        "unreachable",
        1,
    );
}

#[tokio::test]
async fn a_blocked_address_is_refused_before_the_hook_is_asked() {
    let hook = Hook::start(Answer::allow()).await;
    let s = scene(&hook, FailurePolicy::FailOpen, Duration::from_secs(5)).await;
    for range in ["198.51.100.0/24", "203.0.113.7"] {
        s.app
            .post(
                "/v1/risk/ip-blocks",
                json!({ "ip_address": range, "duration_seconds": 600 }),
            )
            .await
            .assert_status(StatusCode::CREATED);
    }
    let refused = exchange(&s.app, &s.planner, &s.laptop.token, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(json_of(&refused)["error"], "access_denied");
    // The person's session was signed in from a blocked address: no mint from it.
    mint(&s, &["calendar.read"])
        .await
        .assert_problem(StatusCode::FORBIDDEN, "ip_blocked");
    assert!(hook.received().is_empty());
    assert_eq!(agent_sessions_of(&s).await, 0);
}

#[tokio::test]
async fn while_the_hook_thinks_no_transaction_is_held_and_the_issuance_sees_what_happened() {
    let hook = Hook::start(Answer::Held(200, r#"{"decision":"allow"}"#.to_owned())).await;
    let s = scene(&hook, FailurePolicy::FailClosed, Duration::from_secs(30)).await;

    // A grant widened while the hook thinks: the session holds what the hook saw.
    let (issued, ()) = tokio::join!(
        exchange(&s.app, &s.planner, &s.laptop.token, Some("calendar.read")),
        async {
            hook.arrival().await;
            s.app
                .send(
                    Method::PATCH,
                    &format!("/v1/grants/{}", s.planner_grant),
                    Some(&s.app.admin_key),
                    Some("application/json"),
                    json!({ "scopes": ["calendar.read", "mail.send"] })
                        .to_string()
                        .into(),
                )
                .await
                .assert_status(StatusCode::OK);
            hook.release();
        }
    );
    assert_eq!(json_of(&issued)["scope"], "calendar.read");

    // A sign-out while the hook thinks goes through at once; the issuance then finds
    // its subject revoked.
    let (refused, ()) = tokio::join!(exchange(&s.app, &s.planner, &s.laptop.token, None), async {
        hook.arrival().await;
        let signed_out = tokio::time::timeout(
            Duration::from_secs(10),
            s.app.sign_out_everywhere(&s.alice, json!({})),
        )
        .await
        .expect("the sign-out waited for the hook: a transaction was held across it");
        assert_eq!(signed_out["user_sessions_revoked"], 1, "{signed_out}");
        hook.release();
    });
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        json_of(&refused)
    );
    assert_eq!(json_of(&refused)["error"], "invalid_grant");
    // The allow that issued nothing is not audited: only the first went through.
    assert_eq!(audited(&s.app, "issuance_hook.allowed").await.len(), 1);
    assert_eq!(agent_sessions_of(&s).await, 1);
}
