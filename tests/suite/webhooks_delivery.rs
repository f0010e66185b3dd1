//! Webhook delivery to a real receiver on loopback: signatures checked by openssl, the
//! retry schedule on a manual clock, giving up, replay, crash safety, and two workers
//! sharing one database.

use std::collections::HashMap;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::StatusCode;
use chrono::TimeDelta;
use leash::domain::webhook::{MAX_ATTEMPTS, RETRY_DELAYS_SECONDS};
use leash::usecase::deliver_webhooks;
use serde_json::json;

use crate::support::TestApp;
use crate::support::receiver::{Received, Receiver};

/// The Standard Webhooks signature of a message as openssl computes it, from the
/// `whsec_…` secret: an implementation independent of Leash's.
fn openssl_signature(secret: &str, message: &Received) -> String {
    let script = r#"key=$(printf '%s' "${SECRET#whsec_}" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \n')
openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | openssl base64 -A"#;
    let mut child = Command::new("sh")
        .args(["-c", script])
        .env("SECRET", secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh and openssl");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{}.{}.", message.id, message.timestamp).as_bytes())
        .unwrap();
    stdin.write_all(&message.body).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    format!("v1,{}", String::from_utf8(output.stdout).unwrap().trim())
}

/// A user with `sessions` signed-in devices who then signs out everywhere.
async fn revoke_sessions(app: &TestApp, name: &str, sessions: usize) {
    let user = app.create_user(name).await;
    for _ in 0..sessions {
        app.sign_in(&user).await;
    }
    app.sign_out_everywhere(&user, json!({})).await;
}

#[tokio::test]
async fn a_revocation_reaches_a_real_receiver_signed_as_openssl_computes_it() {
    let app = TestApp::start_with_webhooks().await;
    let receiver = Receiver::start().await;
    let (_, secret) = app.webhook_endpoint(json!({ "url": receiver.url })).await;
    assert!(secret.starts_with("whsec_"));
    revoke_sessions(&app, "alice", 1).await;
    let round = app.deliver().await;
    assert_eq!((round.deliveries_created, round.succeeded), (1, 1));
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.signature, openssl_signature(&secret, message));
    assert_eq!(
        message.timestamp,
        app.clock_now().timestamp().to_string(),
        "webhook-timestamp is the send time in seconds"
    );
    // The body is the event exactly as the events API lists it; webhook-id is its id.
    let events = app.get("/v1/events").await;
    let listed = &events.assert_status(StatusCode::OK)["data"][0];
    assert_eq!(&message.json(), listed);
    assert_eq!(message.id, listed["id"].as_str().unwrap());
    assert_eq!(listed["type"], "user_session.revoked");
    // Delivered once: another round sends nothing.
    assert_eq!(app.deliver().await.attempts, 0);
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn failed_deliveries_back_off_on_schedule_then_the_endpoint_is_disabled_and_announced() {
    let app = TestApp::start_with_webhooks().await;
    let receiver = Receiver::start().await;
    receiver.answer(503);
    let (endpoint, _) = app.webhook_endpoint(json!({ "url": receiver.url })).await;
    revoke_sessions(&app, "alice", 1).await;
    assert_eq!(app.deliver().await.attempts, 1);
    for (i, delay) in RETRY_DELAYS_SECONDS.iter().enumerate() {
        // Not before 80% of the wait (the jitter's low end)…
        app.advance(TimeDelta::milliseconds(delay * 800 - 1));
        assert_eq!(
            app.deliver().await.attempts,
            0,
            "retry {} came early",
            i + 1
        );
        // …and by 120% of it.
        app.advance(TimeDelta::milliseconds(delay * 400 + 1));
        assert_eq!(
            app.deliver().await.attempts,
            1,
            "retry {} did not come",
            i + 1
        );
        let status = app.get(&format!("/v1/webhook-endpoints/{endpoint}")).await;
        let expected = if i + 2 >= 5 { "failing" } else { "active" };
        if i + 2 < MAX_ATTEMPTS as usize {
            assert_eq!(status.body["status"], expected, "after {} attempts", i + 2);
        }
    }
    assert_eq!(receiver.received().len(), MAX_ATTEMPTS as usize);
    let endpoint_now = app.get(&format!("/v1/webhook-endpoints/{endpoint}")).await;
    assert_eq!(endpoint_now.body["status"], "disabled");
    assert_eq!(endpoint_now.body["consecutive_failures"], MAX_ATTEMPTS);
    // Every attempt was recorded with what the receiver answered.
    let attempts = app
        .get(&format!(
            "/v1/webhook-endpoints/{endpoint}/attempts?limit=200"
        ))
        .await;
    let attempts = attempts.assert_status(StatusCode::OK)["data"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(attempts.len(), MAX_ATTEMPTS as usize);
    assert_eq!(attempts[0]["attempt"], MAX_ATTEMPTS, "newest first");
    assert!(
        attempts
            .iter()
            .all(|a| a["status_code"] == 503 && a["error"].is_string())
    );
    // Giving up is announced and audited.
    let disabled = app.get("/v1/events?types=webhook_endpoint.disabled").await;
    let data = &disabled.assert_status(StatusCode::OK)["data"];
    assert_eq!(data.as_array().unwrap().len(), 1);
    assert_eq!(data[0]["data"]["endpoint_id"], endpoint.as_str());
    assert_eq!(data[0]["data"]["reason"], "retries_exhausted");
    assert_eq!(data[0]["data"]["actor"], "system");
    let audit = app
        .get(&format!(
            "/v1/audit?target={endpoint}&action=webhook_endpoint.disabled"
        ))
        .await;
    assert_eq!(audit.body["data"][0]["actor"], "system");
    // A disabled endpoint gets nothing more, even once its receiver recovers.
    receiver.answer(200);
    revoke_sessions(&app, "bob", 1).await;
    app.advance(TimeDelta::days(2));
    assert_eq!(app.deliver().await.attempts, 0);
}

#[tokio::test]
async fn a_success_after_failures_makes_a_failing_endpoint_active_again() {
    let app = TestApp::start_with_webhooks().await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let (endpoint, _) = app.webhook_endpoint(json!({ "url": receiver.url })).await;
    revoke_sessions(&app, "alice", 5).await;
    assert_eq!(app.deliver().await.attempts, 5);
    let failing = app.get(&format!("/v1/webhook-endpoints/{endpoint}")).await;
    assert_eq!(failing.body["status"], "failing");
    receiver.answer(204);
    app.advance(TimeDelta::seconds(6));
    assert_eq!(app.deliver().await.succeeded, 5);
    let active = app.get(&format!("/v1/webhook-endpoints/{endpoint}")).await;
    assert_eq!(active.body["status"], "active");
    assert_eq!(active.body["consecutive_failures"], 0);
}

#[tokio::test]
async fn replay_sends_retained_events_again_with_their_ids() {
    let app = TestApp::start_with_webhooks().await;
    let receiver = Receiver::start().await;
    let (endpoint, _) = app.webhook_endpoint(json!({ "url": receiver.url })).await;
    let since = app.clock_now();
    revoke_sessions(&app, "alice", 3).await;
    app.deliver().await;
    assert_eq!(receiver.received().len(), 3);
    app.advance(TimeDelta::minutes(5));
    let replayed = app
        .post(
            &format!("/v1/webhook-endpoints/{endpoint}/replay"),
            json!({ "since": since }),
        )
        .await;
    assert_eq!(
        replayed.assert_status(StatusCode::OK)["deliveries_queued"],
        3
    );
    assert_eq!(app.deliver().await.succeeded, 3);
    let received = receiver.received();
    let mut first: Vec<_> = received[..3].iter().map(|m| m.id.clone()).collect();
    let mut again: Vec<_> = received[3..].iter().map(|m| m.id.clone()).collect();
    first.sort();
    again.sort();
    assert_eq!(first, again, "a replay re-sends the same event ids");
    let future = app
        .post(
            &format!("/v1/webhook-endpoints/{endpoint}/replay"),
            json!({ "since": app.clock_now() + TimeDelta::hours(1) }),
        )
        .await;
    assert_eq!(future.assert_status(StatusCode::OK)["deliveries_queued"], 0);
}

#[tokio::test]
async fn a_worker_that_dies_between_lease_and_send_leaves_the_delivery_to_the_next_exactly_once() {
    let app = TestApp::start_with_webhooks().await;
    let receiver = Receiver::start().await;
    app.webhook_endpoint(json!({ "url": receiver.url })).await;
    revoke_sessions(&app, "alice", 1).await;
    deliver_webhooks::dispatch(&app.app).await.unwrap();
    // The first worker leases, then dies before sending.
    let leased = deliver_webhooks::lease(&app.app).await.unwrap();
    assert_eq!(leased.len(), 1);
    drop(leased);
    // While the lease holds, nobody else sends it.
    assert_eq!(app.deliver().await.attempts, 0);
    app.advance(app.app.settings.webhooks.lease - TimeDelta::milliseconds(1));
    assert_eq!(app.deliver().await.attempts, 0);
    // Once it runs out, a restarted worker sends it, once.
    app.advance(TimeDelta::milliseconds(1));
    assert_eq!(app.deliver().await.succeeded, 1);
    app.advance(TimeDelta::hours(1));
    assert_eq!(app.deliver().await.attempts, 0);
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_database_never_send_one_delivery_twice() {
    let mut settings = leash::usecase::Settings::default();
    settings.webhooks.allow_private_targets = true;
    // Small leases, so the two workers contend for the same rows many times over.
    settings.webhooks.batch_size = 16;
    let app = TestApp::start_with(settings).await;
    // A second instance: its own pool on the same database, same key and clock.
    let other = leash::usecase::App::new(
        app.database.connect().await,
        app.clock.clone(),
        (*app.app.settings).clone(),
    );
    // Two endpoints: both workers record outcomes for both, concurrently.
    let receivers = [Receiver::start().await, Receiver::start().await];
    for receiver in &receivers {
        app.webhook_endpoint(json!({ "url": receiver.url })).await;
    }
    revoke_sessions(&app, "alice", 200).await;
    // More events are written while the workers run, so dispatching races recording.
    let writing_done = Arc::new(AtomicBool::new(false));
    let workers = [app.app.clone(), other].map(|instance| {
        let writing_done = Arc::clone(&writing_done);
        tokio::spawn(async move {
            let sender = instance.settings.webhooks.sender().unwrap();
            let mut sent = 0;
            loop {
                // Read before the round: a round that began before the last write
                // committed may find nothing, and must not end the worker.
                let wrote_all = writing_done.load(Ordering::SeqCst);
                let round = deliver_webhooks::run_once(&instance, &sender)
                    .await
                    .unwrap();
                sent += round.attempts;
                if !round.found_work() {
                    if wrote_all {
                        return sent;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
        })
    });
    for batch in 0..4 {
        revoke_sessions(&app, &format!("bob-{batch}"), 50).await;
    }
    writing_done.store(true, Ordering::SeqCst);
    let mut per_worker = Vec::new();
    for worker in workers {
        per_worker.push(worker.await.unwrap());
    }
    for receiver in &receivers {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for message in receiver.received() {
            *counts.entry(message.id).or_default() += 1;
        }
        assert_eq!(counts.len(), 400, "every event delivered");
        assert!(counts.values().all(|&n| n == 1), "no event sent twice");
    }
    assert_eq!(per_worker.iter().sum::<u64>(), 800);
    println!("two workers: attempts per worker {per_worker:?}");
}

#[tokio::test]
async fn an_endpoint_gets_only_the_types_it_subscribes_to_and_only_events_after_it_existed() {
    let app = TestApp::start_with_webhooks().await;
    let receiver = Receiver::start().await;
    let agent_only = Receiver::start().await;
    revoke_sessions(&app, "before", 1).await;
    app.advance(TimeDelta::seconds(1));
    app.webhook_endpoint(json!({ "url": receiver.url })).await;
    app.webhook_endpoint(json!({
        "url": agent_only.url,
        "event_types": ["agent_session.revoked"],
    }))
    .await;
    revoke_sessions(&app, "after", 2).await;
    app.deliver().await;
    assert_eq!(receiver.received().len(), 2);
    assert!(agent_only.received().is_empty());
}

#[tokio::test]
async fn during_a_rotation_overlap_both_secrets_sign_then_only_the_new_one() {
    let app = TestApp::start_with_webhooks().await;
    let receiver = Receiver::start().await;
    let (endpoint, old) = app.webhook_endpoint(json!({ "url": receiver.url })).await;
    let rotated = app
        .post(
            &format!("/v1/webhook-endpoints/{endpoint}/rotate-secret"),
            json!({ "overlap_seconds": 3600 }),
        )
        .await;
    let body = rotated.assert_status(StatusCode::OK);
    let new = body["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    revoke_sessions(&app, "alice", 1).await;
    app.deliver().await;
    let message = &receiver.received()[0];
    assert_eq!(
        message.signature,
        format!(
            "{} {}",
            openssl_signature(&new, message),
            openssl_signature(&old, message)
        )
    );
    app.advance(TimeDelta::seconds(3600));
    revoke_sessions(&app, "bob", 1).await;
    app.deliver().await;
    let message = &receiver.received()[1];
    assert_eq!(message.signature, openssl_signature(&new, message));
}

#[tokio::test]
async fn a_loopback_target_is_refused_when_sending_unless_allowed() {
    // Accepted while allowed, then the instance restarts without the allowance.
    let app = TestApp::start_with_webhooks().await;
    let receiver = Receiver::start().await;
    let (endpoint, _) = app.webhook_endpoint(json!({ "url": receiver.url })).await;
    revoke_sessions(&app, "alice", 1).await;
    let strict = leash::usecase::WebhookSettings::default().sender().unwrap();
    let round = deliver_webhooks::run_once(&app.app, &strict).await.unwrap();
    assert_eq!((round.attempts, round.succeeded), (1, 0));
    assert!(receiver.received().is_empty());
    let attempts = app
        .get(&format!("/v1/webhook-endpoints/{endpoint}/attempts"))
        .await;
    let error = attempts.body["data"][0]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("private"), "{error}");
}

#[tokio::test]
async fn events_past_retention_are_pruned_unless_a_pending_delivery_needs_them() {
    let app = TestApp::start_with_webhooks().await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    revoke_sessions(&app, "old", 2).await;
    app.deliver().await;
    app.webhook_endpoint(json!({ "url": receiver.url })).await;
    revoke_sessions(&app, "pending", 1).await;
    app.deliver().await;
    app.advance(app.app.settings.event_retention + TimeDelta::seconds(1));
    let pruned = leash::usecase::prune_events::prune_events(&app.app)
        .await
        .unwrap();
    assert_eq!(pruned, 2, "the event still being retried is kept");
    let left = app.get("/v1/events").await;
    assert_eq!(left.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_endpoint_deleted_while_its_deliveries_are_in_flight_does_not_hold_up_the_others() {
    let app = TestApp::start_with_webhooks().await;
    let kept = Receiver::start().await;
    let deleted = Receiver::start().await;
    app.webhook_endpoint(json!({ "url": kept.url })).await;
    let (gone, _) = app.webhook_endpoint(json!({ "url": deleted.url })).await;
    revoke_sessions(&app, "alice", 2).await;
    deliver_webhooks::dispatch(&app.app).await.unwrap();
    let leased = deliver_webhooks::lease(&app.app).await.unwrap();
    assert_eq!(leased.len(), 4);
    app.send(
        axum::http::Method::DELETE,
        &format!("/v1/webhook-endpoints/{gone}"),
        Some(&app.admin_key),
        None,
        axum::body::Body::empty(),
    )
    .await;
    let sender = app.app.settings.webhooks.sender().unwrap();
    let round = deliver_webhooks::send_and_record(&app.app, &sender, leased)
        .await
        .unwrap();
    assert_eq!(round.attempts, 4);
    // The kept endpoint's deliveries are recorded as delivered: nothing is sent again.
    app.advance(TimeDelta::hours(1));
    assert_eq!(app.deliver().await.attempts, 0);
    assert_eq!(kept.received().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leash_killed_mid_send_sends_the_delivery_exactly_once_more_after_restart() {
    let database = crate::support::TestDatabase::fresh().await;
    let url = database.url();
    let env = [
        ("LEASH_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
        ("LEASH_WEBHOOK_TIMEOUT_SECONDS", "1"),
        ("LEASH_WEBHOOK_LEASE_SECONDS", "2"),
    ];
    let key = crate::cli::leash(&url, &["keys", "create", "--role", "admin"]);
    let key = String::from_utf8(key.stdout).unwrap().trim().to_owned();
    let http = reqwest::Client::new();
    let post = |base: &str, path: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let receiver = Receiver::start().await;
    // The first request is held unanswered: Leash is killed while it waits.
    receiver.answer(0);
    let first = crate::support::serve::Instance::start(&url, &env).await;
    let created = post(
        &first.base,
        "/v1/webhook-endpoints",
        json!({ "url": receiver.url }),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), 201);
    let user: serde_json::Value = post(&first.base, "/v1/users", json!({ "external_id": "alice" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user = user["id"].as_str().unwrap();
    post(
        &first.base,
        &format!("/v1/users/{user}/sessions"),
        json!({}),
    )
    .await
    .unwrap();
    post(
        &first.base,
        &format!("/v1/users/{user}/sign-out-everywhere"),
        json!({}),
    )
    .await
    .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), receiver.arrival())
        .await
        .expect("the worker sends within 10 s");
    first.kill();

    // Restarted, it sends the delivery again once the dead worker's lease runs out.
    receiver.answer(200);
    let second = crate::support::serve::Instance::start(&url, &env).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while receiver.received().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "not sent again after restart"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Past another lease and a few rounds: still exactly once more.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let received = receiver.received();
    assert_eq!(
        received.len(),
        2,
        "sent once before the kill and once after"
    );
    assert_eq!(received[0].id, received[1].id);
    assert_eq!(received[1].status, 200);
    drop(second);
}
