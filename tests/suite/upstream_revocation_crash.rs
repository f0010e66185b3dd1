//! A `leash serve` killed (SIGKILL) while its worker waits on the provider to answer a
//! revocation: after a restart the provider is asked again and the token dies there,
//! the receipt says `revoked`. At least once, through a crash.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::TestDatabase;
use crate::support::fake_provider::{CLIENT_SECRET, FakeProvider};
use crate::support::serve::Instance;

/// Waits until `done` holds, for at most `seconds`.
async fn until(seconds: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {seconds} s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leash_killed_while_the_provider_holds_a_revocation_asks_again_after_restart() {
    let provider = FakeProvider::start().await;
    let database = TestDatabase::fresh().await;
    let url = database.url();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &provider.ca_pem).unwrap();
    let config = dir.path().join("leash.toml");
    std::fs::write(
        &config,
        format!(
            "[[providers]]\nid = \"acme\"\nauthorization_url = \"{base}/authorize\"\n\
             token_url = \"{base}/token\"\nrevocation_url = \"{base}/revoke\"\n\
             issuer = \"{base}\"\nclient_id = \"{id}\"\nclient_secret = \"{CLIENT_SECRET}\"\n\
             scopes = [\"repo\"]\nallow_private_network = true\nca_file = \"{ca}\"\n",
            base = provider.base,
            id = crate::support::fake_provider::CLIENT_ID,
            ca = ca.display(),
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let env = [
        ("LEASH_CONFIG", config.as_str()),
        ("LEASH_PROVIDER_TIMEOUT_SECONDS", "1"),
        ("LEASH_UPSTREAM_LEASE_SECONDS", "2"),
    ];
    let key = crate::cli::leash(&url, &["keys", "create", "--role", "admin"]);
    let key = String::from_utf8(key.stdout).unwrap().trim().to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let first = Instance::start(&url, &env).await;
    let post = |path: String, body: Value| {
        http.post(format!("{}{path}", first.base))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let user: Value = post("/v1/users".to_owned(), json!({ "external_id": "alice" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user = user["id"].as_str().unwrap().to_owned();
    let session: Value = post(format!("/v1/users/{user}/sessions"), json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let started = http
        .get(format!("{}/v1/connections/acme/authorize", first.base))
        .bearer_auth(session["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let back = provider.consent(&location).await;
    let finished = http
        .get(format!("{}/v1/oauth/callback?{back}", first.base))
        .send()
        .await
        .unwrap();
    assert_eq!(finished.status(), 200);
    let held_by_leash = provider.issued_tokens();
    let connections: Value = http
        .get(format!("{}/v1/users/{user}/connections", first.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let connection = connections["data"][0]["id"].as_str().unwrap().to_owned();

    // The provider takes the first revocation and never answers; Leash dies waiting.
    provider.hold_revocations(true);
    let disconnected = post(
        format!("/v1/connections/{connection}/disconnect"),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(disconnected.status(), 200);
    until(10, "the worker asks the provider", || {
        !provider.revocations().is_empty()
    })
    .await;
    first.kill();
    let asked_before = provider.revocations().len();

    provider.hold_revocations(false);
    let second = Instance::start(&url, &env).await;
    until(
        15,
        "every token dead at the provider after the restart",
        || held_by_leash.iter().all(|token| !provider.is_active(token)),
    )
    .await;
    assert!(
        provider.revocations().len() > asked_before,
        "asked again after the restart"
    );
    let receipt = || async {
        let connection: Value = http
            .get(format!("{}/v1/connections/{connection}", second.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        connection["revocation_receipt"].clone()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = receipt().await;
        if lines
            .as_array()
            .unwrap()
            .iter()
            .all(|line| line["status"] == "revoked")
        {
            break;
        }
        assert!(Instant::now() < deadline, "{lines}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
