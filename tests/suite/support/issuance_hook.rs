//! A pre-issuance hook on loopback, answering as the test tells it, keeping every
//! request (body and `Authorization`), and able to hold a request until released.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use leash::domain::issuance_hook::FailurePolicy;
use leash::upstream::issuance_hook::{HookConfig, IssuanceHook};
use leash::usecase::Settings;
use serde_json::Value;
use tokio::sync::Notify;

/// How the hook answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// This status and body.
    Raw(u16, String),
    /// Nothing, until [`Hook::release`]; then this status and body.
    Held(u16, String),
}

impl Answer {
    pub fn allow() -> Self {
        Self::Raw(200, r#"{"decision":"allow"}"#.to_owned())
    }

    pub fn deny(reason: &str) -> Self {
        Self::Raw(
            200,
            serde_json::json!({ "decision": "deny", "reason": reason }).to_string(),
        )
    }
}

/// A request the hook got: its JSON body and its `Authorization` header.
pub type Received = (Value, Option<String>);

#[derive(Clone)]
struct Shared {
    answer: Arc<Mutex<Answer>>,
    received: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
    released: Arc<Notify>,
}

pub struct Hook {
    pub url: String,
    shared: Shared,
}

pub const TOKEN: &str = "hook-token-for-tests";

impl Hook {
    pub async fn start(answer: Answer) -> Self {
        let shared = Shared {
            answer: Arc::new(Mutex::new(answer)),
            received: Arc::default(),
            arrived: Arc::default(),
            released: Arc::default(),
        };
        let router = Router::new()
            .route("/decide", post(decide))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/decide", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { url, shared }
    }

    /// Settings whose hook is this one, under `policy`, giving up after `timeout`.
    pub fn settings(&self, policy: FailurePolicy, timeout: Duration) -> Settings {
        settings_calling(&self.url, policy, timeout)
    }

    pub fn answer_with(&self, answer: Answer) {
        *self.shared.answer.lock().unwrap() = answer;
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits until a request arrives.
    pub async fn arrival(&self) {
        self.shared.arrived.notified().await;
    }

    /// Lets a held request answer.
    pub fn release(&self) {
        self.shared.released.notify_one();
    }
}

/// Settings whose hook is at `url` (which may be one nothing listens on).
pub fn settings_calling(url: &str, policy: FailurePolicy, timeout: Duration) -> Settings {
    Settings {
        issuance_hook: Some(
            IssuanceHook::new(HookConfig {
                url: url.parse().unwrap(),
                timeout,
                on_failure: policy,
                token: Some(leash::domain::secret::Secret::new(TOKEN.to_owned())),
                allow_private_network: true,
                extra_roots_pem: None,
            })
            .unwrap(),
        ),
        ..Settings::default()
    }
}

async fn decide(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    shared.received.lock().unwrap().push((
        serde_json::from_str(&body).unwrap_or(Value::Null),
        authorization,
    ));
    shared.arrived.notify_one();
    let answer = shared.answer.lock().unwrap().clone();
    let (status, body) = match answer {
        Answer::Raw(status, body) => (status, body),
        Answer::Held(status, body) => {
            shared.released.notified().await;
            (status, body)
        }
    };
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
