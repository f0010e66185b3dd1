//! A real `leash serve` process on an ephemeral loopback port, killed when dropped.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TEST_ENCRYPTION_KEY;

pub struct Instance {
    child: Child,
    pub base: String,
    /// Where a first start writes its admin key.
    _dir: tempfile::TempDir,
}

impl Instance {
    /// Starts `leash serve` on `database_url` with `env` added, and waits until ready.
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_leash"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("LEASH_DATABASE_URL", database_url)
            .env("LEASH_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
            .env("LEASH_LOG", "warn")
            .env("LEASH_ADMIN_KEY_FILE", dir.path().join("admin.key"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let instance = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while reqwest::get(format!("{}/readyz", instance.base))
            .await
            .map(|r| r.status().is_success())
            .ok()
            != Some(true)
        {
            assert!(
                Instant::now() < deadline,
                "instance on port {port} never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        instance
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process at once (SIGKILL): no graceful shutdown, no last flush.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An admin's HTTP client for instances of `leash serve`.
pub struct Admin {
    pub http: reqwest::Client,
    pub key: String,
}

impl Admin {
    /// Creates the first admin key of the database at `database_url` with the CLI.
    pub fn of(database_url: &str) -> Self {
        let key = crate::cli::leash(database_url, &["keys", "create", "--role", "admin"]);
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            key: String::from_utf8(key.stdout).unwrap().trim().to_owned(),
        }
    }

    pub async fn post(
        &self,
        instance: &Instance,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let answer = self
            .http
            .post(format!("{}{path}", instance.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        answer.json().await.unwrap()
    }

    pub async fn get(&self, instance: &Instance, path: &str) -> serde_json::Value {
        self.http
            .get(format!("{}{path}", instance.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A person signed in and connected to the test provider `acme` through
    /// `instance`: (user id, user session id, connection id).
    pub async fn connected_person(
        &self,
        instance: &Instance,
        provider: &super::fake_provider::FakeProvider,
        external_id: &str,
    ) -> (String, String, String) {
        let user = self
            .post(
                instance,
                "/v1/users",
                serde_json::json!({ "external_id": external_id }),
            )
            .await;
        let user = user["id"].as_str().unwrap().to_owned();
        let session = self
            .post(
                instance,
                &format!("/v1/users/{user}/sessions"),
                serde_json::json!({}),
            )
            .await;
        let started = self
            .http
            .get(format!("{}/v1/connections/acme/authorize", instance.base))
            .bearer_auth(session["token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        let location = started.headers()["location"].to_str().unwrap().to_owned();
        let back = provider.consent(&location).await;
        let finished = self
            .http
            .get(format!("{}/v1/oauth/callback?{back}", instance.base))
            .send()
            .await
            .unwrap();
        assert_eq!(finished.status(), 200);
        let connections = self
            .get(instance, &format!("/v1/users/{user}/connections"))
            .await;
        let connection = connections["data"][0]["id"].as_str().unwrap().to_owned();
        let session_id = session["session"]["id"].as_str().unwrap().to_owned();
        (user, session_id, connection)
    }
}
