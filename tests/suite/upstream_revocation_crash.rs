//! A `leash serve` killed (SIGKILL) while its worker waits on the provider to answer a
//! revocation: after a restart the provider is asked again and the token dies there,
//! the receipt says `revoked`. At least once, through a crash.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::TestDatabase;
use crate::support::fake_provider::FakeProvider;
use crate::support::serve::{Admin, Instance};

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
    let config = provider.config_file(dir.path()).display().to_string();
    let env = [
        ("LEASH_CONFIG", config.as_str()),
        ("LEASH_PROVIDER_TIMEOUT_SECONDS", "1"),
        ("LEASH_UPSTREAM_LEASE_SECONDS", "2"),
    ];
    let admin = Admin::of(&url);
    let first = Instance::start(&url, &env).await;
    let (_, _, connection) = admin.connected_person(&first, &provider, "alice").await;
    let held_by_leash = provider.issued_tokens();

    // The provider takes the first revocation and never answers; Leash dies waiting.
    provider.hold_revocations(true);
    admin
        .post(
            &first,
            &format!("/v1/connections/{connection}/disconnect"),
            json!({}),
        )
        .await;
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
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = admin
            .get(&second, &format!("/v1/connections/{connection}"))
            .await["revocation_receipt"]
            .clone();
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
