//! Two Leash processes on one PostgreSQL database: a revoke served by one is seen by the
//! other at once when nothing is cached, within a bound when it is cached, and still
//! after the other's notification connection was cut. PostgreSQL only: SQLite serves a
//! single instance. (CI runs the suite on PostgreSQL with LEASH_TEST_REQUIRE_POSTGRES=1,
//! so this test cannot silently not run there.)

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection as _;

use crate::support::serve::Instance;
use crate::support::{TestDatabase, database::postgres_url, urlencode};

/// How long the other instance may take to stop trusting a revoked token in this test.
/// The benchmark measures the real distribution (README); this bound only has to be
/// generous enough not to flake on a loaded CI machine.
const BOUND: Duration = Duration::from_secs(3);

struct Client {
    http: reqwest::Client,
    key: String,
}

impl Client {
    async fn post(&self, instance: &Instance, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", instance.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    async fn is_active(&self, instance: &Instance, token: &str) -> bool {
        let response = self
            .http
            .post(format!("{}/oauth2/introspect", instance.base))
            .bearer_auth(&self.key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={}", urlencode(token)))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["active"].as_bool().unwrap()
    }

    async fn sign_in(&self, instance: &Instance, user_id: &str) -> String {
        let created = self
            .post(
                instance,
                &format!("/v1/users/{user_id}/sessions"),
                json!({}),
            )
            .await;
        created["token"].as_str().unwrap().to_owned()
    }

    /// An agent "planner" registered with scope `a`, which the user grants it.
    async fn consented_agent(&self, instance: &Instance, user_id: &str) -> Value {
        let agent = self
            .post(
                instance,
                "/v1/agents",
                json!({ "name": "planner", "scopes": ["a"] }),
            )
            .await;
        let grant = json!({ "agent_id": agent["client_id"], "scopes": ["a"] });
        self.post(instance, &format!("/v1/users/{user_id}/grants"), grant)
            .await;
        agent
    }

    async fn sign_out_everywhere(&self, instance: &Instance, user_id: &str) {
        let path = format!("/v1/users/{user_id}/sign-out-everywhere");
        self.post(instance, &path, json!({})).await;
    }

    /// Polls until the token is inactive on `instance`; returns how long that took.
    async fn time_until_inactive(&self, instance: &Instance, token: &str) -> Duration {
        let started = Instant::now();
        while self.is_active(instance, token).await {
            assert!(started.elapsed() < BOUND, "still active after {BOUND:?}");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        started.elapsed()
    }
}

async fn listener_pids(base_url: &str, instance: &Instance) -> Vec<i32> {
    let mut admin = sqlx::PgConnection::connect(base_url).await.unwrap();
    let name = format!(
        "{}:{}",
        leash::store::invalidation::LISTENER_APPLICATION_NAME,
        instance.pid()
    );
    sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
        .bind(name)
        .fetch_all(&mut admin)
        .await
        .unwrap()
}

/// Two instances on a fresh PostgreSQL schema, an admin key, and a user; `None` when
/// the suite runs on SQLite.
async fn two_instances() -> Option<(TestDatabase, String, Client, Instance, Instance, String)> {
    let Some(base_url) = postgres_url() else {
        eprintln!(
            "two_instances: SQLite serves one instance; this test runs in the PostgreSQL suite"
        );
        return None;
    };
    let database = TestDatabase::fresh().await;
    assert!(database.is_postgres());
    let url = database.url();
    let output = Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(["keys", "create", "--role", "admin"])
        .env("LEASH_DATABASE_URL", &url)
        .env("LEASH_ENCRYPTION_KEY", crate::support::TEST_ENCRYPTION_KEY)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let client = Client {
        http: reqwest::Client::new(),
        key: String::from_utf8(output.stdout).unwrap().trim().to_owned(),
    };
    let a = Instance::start(&url, &[]).await;
    let b = Instance::start(&url, &[]).await;
    let user = client
        .post(&a, "/v1/users", json!({ "external_id": "alice" }))
        .await;
    let user_id = user["id"].as_str().unwrap().to_owned();
    Some((database, base_url, client, a, b, user_id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_through_one_instance_is_seen_by_the_other() {
    let Some((_database, base_url, client, a, b, user_id)) = two_instances().await else {
        return;
    };
    let user_id = user_id.as_str();

    // Nothing cached on B: inactive at the first ask.
    let uncached = client.sign_in(&a, user_id).await;
    client.sign_out_everywhere(&a, user_id).await;
    assert!(
        !client.is_active(&b, &uncached).await,
        "B answered active for a token revoked through A"
    );

    // Cached on B: inactive within the bound, through NOTIFY.
    let cached = client.sign_in(&a, user_id).await;
    for _ in 0..3 {
        assert!(client.is_active(&b, &cached).await);
    }
    client.sign_out_everywhere(&a, user_id).await;
    let took = client.time_until_inactive(&b, &cached).await;
    eprintln!("two_instances: cached token inactive on B {took:?} after the revoke returned on A");

    // Cut B's notification connection, then revoke at once: the NOTIFY may be lost, and
    // B must still stop answering active for the token it cached.
    let survivor = client.sign_in(&a, user_id).await;
    assert!(client.is_active(&b, &survivor).await);
    let before = listener_pids(&base_url, &b).await;
    assert_eq!(before.len(), 1, "B listens on exactly one connection");
    let mut admin = sqlx::PgConnection::connect(&base_url).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(before[0])
        .execute(&mut admin)
        .await
        .unwrap();
    client.sign_out_everywhere(&a, user_id).await;
    let took = client.time_until_inactive(&b, &survivor).await;
    eprintln!("two_instances: after a cut connection, inactive on B {took:?} after the revoke");

    // B listens again, and invalidations flow as before.
    let deadline = Instant::now() + BOUND;
    loop {
        let now = listener_pids(&base_url, &b).await;
        if now.len() == 1 && now != before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B never reconnected its listener"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let later = client.sign_in(&a, user_id).await;
    assert!(client.is_active(&b, &later).await);
    client.sign_out_everywhere(&a, user_id).await;
    client.time_until_inactive(&b, &later).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_disabled_through_one_instance_is_seen_by_the_other() {
    let Some((_database, _, client, a, b, user_id)) = two_instances().await else {
        return;
    };
    let agent = client.consented_agent(&a, &user_id).await;
    let agent_id = agent["client_id"].as_str().unwrap();
    let device = client
        .post(&a, &format!("/v1/users/{user_id}/sessions"), json!({}))
        .await;
    let minted = client
        .post(
            &a,
            &format!("/v1/users/{user_id}/agent-sessions"),
            json!({ "agent_id": agent_id, "scopes": ["a"], "user_session_id": device["session"]["id"] }),
        )
        .await;
    let access = minted["access_token"].as_str().unwrap();
    for _ in 0..3 {
        assert!(client.is_active(&b, access).await);
    }
    // Disabling an agent reaches across users: A tells every instance to forget all.
    client
        .post(&a, &format!("/v1/agents/{agent_id}/disable"), json!({}))
        .await;
    let took = client.time_until_inactive(&b, access).await;
    eprintln!(
        "two_instances: agent token inactive on B {took:?} after the agent was disabled on A"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_revoked_through_one_instance_is_refused_by_the_other() {
    let Some((_database, _base_url, client, a, b, _user_id)) = two_instances().await else {
        return;
    };
    let created = client
        .post(&a, "/v1/api-keys", json!({ "role": "introspect" }))
        .await;
    let resource_server = Client {
        http: reqwest::Client::new(),
        key: created["secret"].as_str().unwrap().to_owned(),
    };
    let id = created["api_key"]["id"].as_str().unwrap();
    // B verifies and remembers the key.
    for _ in 0..3 {
        assert!(!resource_server.is_active(&b, "leash_ust_nothing").await);
    }
    client
        .post(&a, &format!("/v1/api-keys/{id}/revoke"), json!({}))
        .await;
    let started = Instant::now();
    loop {
        let answer = resource_server
            .http
            .post(format!("{}/oauth2/introspect", b.base))
            .bearer_auth(&resource_server.key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("token=leash_ust_nothing")
            .send()
            .await
            .unwrap();
        if answer.status() == 401 {
            break;
        }
        assert!(
            started.elapsed() < BOUND,
            "B still accepts a revoked key after {BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    eprintln!(
        "two_instances: revoked API key refused on B {:?} after the revoke returned on A",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_secret_rotated_through_one_instance_is_refused_by_the_other() {
    let Some((_database, _, client, a, b, user_id)) = two_instances().await else {
        return;
    };
    let agent = client.consented_agent(&a, &user_id).await;
    let agent_id = agent["client_id"].as_str().unwrap();
    let secret = agent["client_secret"].as_str().unwrap();
    let subject = client.sign_in(&a, &user_id).await;
    let exchange = |secret: String| {
        let request = client
            .http
            .post(format!("{}/oauth2/token", b.base))
            .basic_auth(agent_id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type={}&subject_token={}&subject_token_type={}",
                urlencode("urn:ietf:params:oauth:grant-type:token-exchange"),
                urlencode(&subject),
                urlencode("urn:ietf:params:oauth:token-type:access_token"),
            ));
        async move { request.send().await.unwrap().status() }
    };
    // B verifies and remembers the agent's credentials.
    for _ in 0..3 {
        assert_eq!(exchange(secret.to_owned()).await, 200);
    }
    let rotated = client
        .post(
            &a,
            &format!("/v1/agents/{agent_id}/rotate-secret"),
            json!({}),
        )
        .await;
    let started = Instant::now();
    while exchange(secret.to_owned()).await != 401 {
        assert!(
            started.elapsed() < BOUND,
            "B still accepts a replaced secret after {BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    eprintln!(
        "two_instances: replaced agent secret refused on B {:?} after the rotation returned on A",
        started.elapsed()
    );
    let new = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(exchange(new).await, 200);
}
