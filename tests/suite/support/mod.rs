//! Test harness: a fresh database per test (a SQLite file by default, a fresh schema in
//! the PostgreSQL named by `LEASH_TEST_DATABASE_URL` otherwise), the real router driven
//! in-process, a manual clock, and helpers that speak the domain.

pub mod account_page;
pub mod agents;
pub mod connections;
pub mod database;
pub mod fake_provider;
pub mod invariants;
pub mod issuance_hook;
pub mod oidc_provider;
pub mod receiver;
pub mod scopes;
pub mod serve;
pub mod ssf;
pub mod test_ca;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, TimeDelta, Utc};
use http_body_util::BodyExt as _;
use leash::clock::ManualClock;
use leash::domain::actor::Actor;
use leash::domain::api_key::Role;
use leash::http::{self, AppState};
use leash::store::Db;
use leash::usecase;
use leash::usecase::{App, Settings};
use serde_json::{Value, json};
use tokio::sync::watch;
use tower::ServiceExt as _;

pub use database::TestDatabase;

/// 32 bytes, base64: spawned binaries read it instead of creating `leash.key` in the crate.
pub const TEST_ENCRYPTION_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub fn epoch() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("a valid timestamp")
}

pub struct TestApp {
    pub db: Db,
    pub app: App,
    pub router: Router,
    pub clock: Arc<ManualClock>,
    pub admin_key: String,
    _shutdown: watch::Sender<bool>,
    pub database: Arc<TestDatabase>,
}

/// An HTTP answer, its body parsed as JSON (or `Null` if it was not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub www_authenticate: Option<String>,
    pub retry_after: Option<String>,
    pub body: Value,
}

/// An answer of any content type.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

impl Answer {
    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(
            self.content_type, "application/problem+json",
            "body: {}",
            self.body
        );
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["status"], status.as_u16());
        assert!(self.body["title"].is_string() && self.body["type"].is_string());
    }

    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) -> &Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        &self.body
    }
}

/// A user the test signed in, with their device sessions.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
}

#[derive(Debug, Clone)]
pub struct TestSession {
    pub id: String,
    pub token: String,
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(Settings::default()).await
    }

    pub async fn start_with(settings: Settings) -> Self {
        let database = Arc::new(TestDatabase::fresh().await);
        let clock = Arc::new(ManualClock::starting_at(epoch()));
        let db = database.connect().await;
        let app = App::new(db.clone(), clock.clone(), settings.clone());
        let (_, secret) =
            usecase::create_api_key::create_api_key(&app, &Actor::operator(), Role::Admin, None)
                .await
                .unwrap();
        Self::on(database, clock, settings, secret.into_exposed()).await
    }

    /// Another instance on the same database and clock, with the same settings and
    /// admin key, and caches, batches and pools of its own (as a second process has).
    pub async fn peer(&self) -> Self {
        self.peer_with((*self.app.settings).clone()).await
    }

    /// Another instance on the same database and clock, with other settings (another
    /// encryption key set).
    pub async fn peer_with(&self, settings: Settings) -> Self {
        Self::on(
            Arc::clone(&self.database),
            Arc::clone(&self.clock),
            settings,
            self.admin_key.clone(),
        )
        .await
    }

    async fn on(
        database: Arc<TestDatabase>,
        clock: Arc<ManualClock>,
        settings: Settings,
        admin_key: String,
    ) -> Self {
        let db = database.connect().await;
        let app = App::new(db.clone(), clock.clone(), settings);
        let (shutdown, shutdown_rx) = watch::channel(false);
        tokio::spawn(leash::workers::invalidation_listener::run(
            app.clone(),
            shutdown_rx.clone(),
        ));
        tokio::spawn(leash::workers::last_use_writer::run(
            app.clone(),
            shutdown_rx,
        ));
        let router = http::router(AppState::new(app.clone()));
        Self {
            db,
            app,
            router,
            clock,
            admin_key,
            _shutdown: shutdown,
            database,
        }
    }

    /// An app whose webhooks may target loopback, where the tests' receivers listen.
    pub async fn start_with_webhooks() -> Self {
        let mut settings = Settings::default();
        settings.webhooks.allow_private_targets = true;
        Self::start_with(settings).await
    }

    /// Delivery rounds, as the worker runs them, until one finds nothing to do.
    pub async fn deliver(&self) -> usecase::deliver_webhooks::Round {
        let sender = self.app.settings.webhooks.sender().unwrap();
        let mut total = usecase::deliver_webhooks::Round::default();
        loop {
            let round = usecase::deliver_webhooks::run_once(&self.app, &sender)
                .await
                .unwrap();
            total.deliveries_created += round.deliveries_created;
            total.attempts += round.attempts;
            total.succeeded += round.succeeded;
            total.endpoints_disabled += round.endpoints_disabled;
            if !round.found_work() {
                return total;
            }
        }
    }

    /// Creates a webhook endpoint; returns its id and signing secret.
    pub async fn webhook_endpoint(&self, body: Value) -> (String, String) {
        let answer = self.post("/v1/webhook-endpoints", body).await;
        let body = answer.assert_status(StatusCode::CREATED);
        (
            body["endpoint"]["id"].as_str().unwrap().to_owned(),
            body["secret"].as_str().unwrap().to_owned(),
        )
    }

    pub fn clock_now(&self) -> DateTime<Utc> {
        leash::clock::Clock::now(&*self.clock)
    }

    pub fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
    }

    pub async fn key(&self, role: Role) -> String {
        let (_, secret) =
            usecase::create_api_key::create_api_key(&self.app, &Actor::operator(), role, None)
                .await
                .unwrap();
        secret.into_exposed()
    }

    /// Sends a request with the given key, body and content type.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        content_type: Option<&str>,
        body: Body,
    ) -> Answer {
        let authorization = key.map(|key| format!("Bearer {key}"));
        self.send_authorized(method, path, authorization, content_type, body)
            .await
    }

    /// Sends a request with the given `Authorization` header, body and content type.
    pub async fn send_authorized(
        &self,
        method: Method,
        path: &str,
        authorization: Option<String>,
        content_type: Option<&str>,
        body: Body,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let www_authenticate = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            www_authenticate,
            retry_after,
            body,
        }
    }

    /// Sends `request` as built, answering the status, the headers and the body as text.
    pub async fn send_raw(&self, request: Request<Body>) -> RawAnswer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        RawAnswer {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    /// What `/metrics` answers, unauthenticated.
    pub async fn metrics_text(&self) -> String {
        let answer = self
            .send_raw(Request::get("/metrics").body(Body::empty()).unwrap())
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        answer.body
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(
            Method::POST,
            path,
            Some(&self.admin_key),
            Some("application/json"),
            Body::from(body.to_string()),
        )
        .await
    }

    pub async fn post_empty(&self, path: &str) -> Answer {
        self.send(
            Method::POST,
            path,
            Some(&self.admin_key),
            None,
            Body::empty(),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(
            Method::GET,
            path,
            Some(&self.admin_key),
            None,
            Body::empty(),
        )
        .await
    }

    pub async fn create_user(&self, external_id: &str) -> TestUser {
        let answer = self
            .post("/v1/users", json!({ "external_id": external_id }))
            .await;
        let body = answer.assert_status(StatusCode::CREATED);
        TestUser {
            id: body["id"].as_str().unwrap().to_owned(),
        }
    }

    /// A user signs in on one device.
    pub async fn sign_in(&self, user: &TestUser) -> TestSession {
        self.sign_in_with(
            user,
            json!({ "ip_address": "203.0.113.7", "user_agent": "Firefox/140" }),
        )
        .await
    }

    pub async fn sign_in_with(&self, user: &TestUser, body: Value) -> TestSession {
        let answer = self
            .post(&format!("/v1/users/{}/sessions", user.id), body)
            .await;
        let body = answer.assert_status(StatusCode::CREATED);
        TestSession {
            id: body["session"]["id"].as_str().unwrap().to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn introspect_with(&self, key: &str, token: &str) -> Answer {
        let form = format!("token={}", urlencode(token));
        self.send(
            Method::POST,
            "/oauth2/introspect",
            Some(key),
            Some("application/x-www-form-urlencoded"),
            Body::from(form),
        )
        .await
    }

    /// Whether introspection calls the token active. Afterwards the last-use buffer is
    /// written, as the worker does every second, so the database is as a test expects.
    pub async fn is_active(&self, token: &str) -> bool {
        let answer = self.introspect_with(&self.admin_key, token).await;
        usecase::record_last_use::flush(&self.app).await.unwrap();
        let body = answer.assert_status(StatusCode::OK);
        let active = body["active"].as_bool().unwrap();
        if !active {
            assert_eq!(
                body,
                &json!({ "active": false }),
                "an inactive answer says nothing more"
            );
        }
        active
    }

    pub async fn sign_out_everywhere(&self, user: &TestUser, body: Value) -> Value {
        let answer = self
            .post(&format!("/v1/users/{}/sign-out-everywhere", user.id), body)
            .await;
        answer.assert_status(StatusCode::OK).clone()
    }

    pub async fn sessions(&self, user: &TestUser, query: &str) -> Value {
        self.get(&format!("/v1/users/{}/sessions?{query}", user.id))
            .await
            .assert_status(StatusCode::OK)
            .clone()
    }
}

pub fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
