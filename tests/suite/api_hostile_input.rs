//! Property: nothing a caller sends makes Leash answer 5xx, and every refusal is
//! problem+json (at the OAuth endpoints, an RFC 6749 error body; at the providers'
//! callback, a page for a browser). Random bodies (bytes, JSON of any shape), content types and path ids go
//! to every endpoint, the webhook and audit APIs included.

use axum::body::Body;
use axum::http::Method;
use proptest::prelude::*;
use serde_json::Value;

use crate::support::TestApp;

const ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/v1/users"),
    ("GET", "/v1/users/{user}"),
    ("POST", "/v1/users/{user}/sessions"),
    ("GET", "/v1/users/{user}/sessions"),
    ("POST", "/v1/users/{user}/sign-out-everywhere"),
    ("POST", "/v1/users/{user}/credential-changed"),
    ("POST", "/v1/users/{user}/disable"),
    ("POST", "/v1/users/{user}/enable"),
    ("GET", "/v1/user-sessions/{session}"),
    ("POST", "/v1/user-sessions/{session}/revoke"),
    ("POST", "/oauth2/introspect"),
    ("POST", "/v1/agents"),
    ("GET", "/v1/agents"),
    ("GET", "/v1/agents/{agent}"),
    ("POST", "/v1/agents/{agent}/rotate-secret"),
    ("POST", "/v1/users/{user}/grants"),
    ("GET", "/v1/users/{user}/grants"),
    ("GET", "/v1/grants/{grant}"),
    ("PATCH", "/v1/grants/{grant}"),
    ("POST", "/v1/grants/{grant}/revoke"),
    ("PATCH", "/v1/agents/{agent}"),
    ("POST", "/v1/agents/{agent}/disable"),
    ("POST", "/v1/agents/{agent}/enable"),
    ("POST", "/v1/users/{user}/agent-sessions"),
    ("GET", "/v1/users/{user}/agent-sessions"),
    ("GET", "/v1/agent-sessions/{agent_session}"),
    ("POST", "/v1/agent-sessions/{agent_session}/revoke"),
    ("GET", "/v1/events"),
    ("POST", "/oauth2/token"),
    ("POST", "/oauth2/revoke"),
    ("POST", "/v1/webhook-endpoints"),
    ("GET", "/v1/webhook-endpoints"),
    ("GET", "/v1/webhook-endpoints/{webhook}"),
    ("PATCH", "/v1/webhook-endpoints/{webhook}"),
    ("DELETE", "/v1/webhook-endpoints/{webhook}"),
    ("POST", "/v1/webhook-endpoints/{webhook}/disable"),
    ("POST", "/v1/webhook-endpoints/{webhook}/rotate-secret"),
    ("POST", "/v1/webhook-endpoints/{webhook}/replay"),
    ("GET", "/v1/webhook-endpoints/{webhook}/attempts"),
    ("GET", "/v1/audit"),
    ("GET", "/v1/api-keys"),
    ("POST", "/v1/api-keys"),
    ("POST", "/v1/api-keys/{api_key}/revoke"),
    ("GET", "/v1/connections/{provider}/authorize"),
    ("GET", "/v1/oauth/callback"),
    ("GET", "/v1/users/{user}/connections"),
    ("GET", "/v1/connections/{connection}"),
    ("POST", "/v1/connections/{connection}/disconnect"),
    ("POST", "/v1/credentials"),
    ("POST", "/v1/revocations"),
    ("POST", "/v1/risk/signals"),
    ("GET", "/v1/risk/ip-blocks"),
    ("POST", "/v1/risk/ip-blocks"),
    ("POST", "/v1/risk/ip-blocks/{ip_block}/lift"),
    ("POST", "/v1/users/{user}/login-links"),
    // A person's own, with their user session token.
    ("GET", "/v1/me/sessions"),
    ("POST", "/v1/me/sessions/{session}/revoke"),
    ("POST", "/v1/me/sign-out-others"),
    ("GET", "/v1/me/agent-sessions"),
    ("POST", "/v1/me/agent-sessions/{agent_session}/revoke"),
    ("GET", "/v1/me/grants"),
    ("PATCH", "/v1/me/grants/{grant}"),
    ("POST", "/v1/me/grants/{grant}/revoke"),
    ("GET", "/v1/me/connections"),
    ("POST", "/v1/me/connections/{connection}/disconnect"),
    ("GET", "/v1/me/activity"),
    // The page, with the person's cookie: refusals are HTML pages.
    ("GET", "/account"),
    ("GET", "/account/login"),
    ("GET", "/account/confirm"),
    ("POST", "/account/act"),
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("external_id".to_owned()),
                    Just("except_session_id".to_owned()),
                    Just("ttl_seconds".to_owned()),
                    Just("idle_timeout_seconds".to_owned()),
                    Just("reason".to_owned()),
                    Just("token".to_owned()),
                    Just("name".to_owned()),
                    Just("scopes".to_owned()),
                    Just("agent_id".to_owned()),
                    Just("user_session_id".to_owned()),
                    Just("url".to_owned()),
                    Just("event_types".to_owned()),
                    Just("since".to_owned()),
                    Just("overlap_seconds".to_owned()),
                    Just("role".to_owned()),
                    Just("expires_at".to_owned()),
                    Just("provider".to_owned()),
                    Just("selector".to_owned()),
                    Just("dry_run".to_owned()),
                    Just("ip_address".to_owned()),
                    Just("user_agent_contains".to_owned()),
                    Just("created_after".to_owned()),
                    Just("user_id".to_owned()),
                    Just("kind".to_owned()),
                    Just("severity".to_owned()),
                    Just("subject".to_owned()),
                    Just("evidence".to_owned()),
                    Just("signal_id".to_owned()),
                    Just("duration_seconds".to_owned()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Payload {
    Json(Value),
    Bytes(Vec<u8>),
    Form(String),
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        json_value().prop_map(Payload::Json),
        prop::collection::vec(any::<u8>(), 0..200).prop_map(Payload::Bytes),
        "[a-z_=&%0-9]{0,80}".prop_map(Payload::Form),
        "(grant_type=(refresh_token|urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange)|subject_token=leash_(ust|at)_[a-z]{0,8}|subject_token_type=[a-z%:]{0,20}|refresh_token=leash_rt_[a-z]{0,4}|scope=[a-z %]{0,10}|token=[a-z_]{0,10}|client_id=agt_[0-9a-f]{0,32}|client_secret=[a-z]{0,8})(&(grant_type=refresh_token|scope=a|subject_token=x)){0,3}".prop_map(Payload::Form),
    ]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop::sample::select(vec![
        None,
        Some("application/json"),
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        Some("application/json; charset=utf-8"),
    ])
}

fn path_id() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("usr_0123456789abcdef0123456789abcdef".to_owned()),
        Just("uss_0123456789abcdef0123456789abcdef".to_owned()),
        Just("agt_0123456789abcdef0123456789abcdef".to_owned()),
        Just("grt_0123456789abcdef0123456789abcdef".to_owned()),
        Just("ags_0123456789abcdef0123456789abcdef".to_owned()),
        Just("whe_0123456789abcdef0123456789abcdef".to_owned()),
        Just("con_0123456789abcdef0123456789abcdef".to_owned()),
        Just("ipb_0123456789abcdef0123456789abcdef".to_owned()),
        "[a-zA-Z0-9_%.-]{1,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_input_makes_leash_answer_5xx(
        endpoint in prop::sample::select(ENDPOINTS.to_vec()),
        payload in payload(),
        content_type in content_type(),
        id in path_id(),
        query in "[a-z_=&%0-9]{0,40}",
    ) {
        let (runtime, app, person) = shared();
        runtime.block_on(async {
            let path = ["{user}", "{session}", "{agent}", "{grant}", "{agent_session}", "{webhook}", "{api_key}", "{provider}", "{connection}", "{ip_block}"].iter().fold(endpoint.1.to_owned(), |path, slot| path.replace(slot, &id));
            let path = if query.is_empty() { path } else { format!("{path}?{query}") };
            let body = match &payload {
                Payload::Json(value) => Body::from(value.to_string()),
                Payload::Bytes(bytes) => Body::from(bytes.clone()),
                Payload::Form(form) => Body::from(form.clone()),
            };
            let method = Method::from_bytes(endpoint.0.as_bytes()).unwrap();
            if endpoint.1.starts_with("/account") {
                let mut request = axum::http::Request::builder()
                    .method(method)
                    .uri(&path)
                    .header("cookie", format!("leash_session={}", person.cookie));
                if let Some(content_type) = content_type {
                    request = request.header("content-type", content_type);
                }
                let answer = app.send_raw(request.body(body).unwrap()).await;
                assert!(!answer.status.is_server_error(), "{path} {payload:?} → {} {}", answer.status, answer.body);
                if answer.status.is_client_error() {
                    let html = answer.header("content-type").is_some_and(|t| t.starts_with("text/html"));
                    assert!(html, "{path}: {:?}", answer.headers);
                }
                return;
            }
            let key = if endpoint.1.starts_with("/v1/me") { &person.token } else { &app.admin_key };
            let answer = app.send(method, &path, Some(key), content_type, body).await;
            assert!(!answer.status.is_server_error(), "{endpoint:?} {path} {payload:?} → {} {}", answer.status, answer.body);
            if answer.status.is_client_error() && endpoint.1.starts_with("/oauth2/") && endpoint.1 != "/oauth2/introspect" && answer.content_type == "application/json" {
                assert!(answer.body["error"].is_string(), "{path}: {}", answer.body);
            } else if answer.status.is_client_error() && endpoint.1 == "/v1/oauth/callback" && answer.content_type.starts_with("text/html") {
                // A browser's callback that asked for no JSON gets a page.
            } else if answer.status.is_client_error() {
                assert_eq!(answer.content_type, "application/problem+json", "{path}: {}", answer.body);
                assert!(answer.body["code"].is_string());
            }
        });
    }
}

/// A person signed in: their user session token, and the page's cookie.
struct Person {
    token: String,
    cookie: String,
}

/// One app for all cases (a database per case would dominate the run time), on one
/// runtime that every case runs on: a pooled connection belongs to the runtime that
/// opened it.
fn shared() -> (
    &'static tokio::runtime::Runtime,
    &'static TestApp,
    &'static Person,
) {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    static APP: std::sync::OnceLock<(TestApp, Person)> = std::sync::OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    });
    let (app, person) = APP.get_or_init(|| {
        runtime.block_on(async {
            let app = TestApp::start().await;
            let alice = app.create_user("alice").await;
            let laptop = app.sign_in(&alice).await;
            let browser = app.browser(&alice, &laptop).await;
            let person = Person {
                token: laptop.token.clone(),
                cookie: browser.cookie,
            };
            (app, person)
        })
    });
    (runtime, app, person)
}
