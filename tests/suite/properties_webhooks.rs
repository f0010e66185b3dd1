//! Property: random interleavings of revocations, a receiver that fails and recovers,
//! workers that die between lease and send, delivery rounds and time passing never lose
//! or duplicate a delivery. After every step the database agrees with what the receiver
//! saw: each event has one delivery, each delivery's attempts are the requests the
//! receiver got for it, and a delivery is succeeded exactly when the receiver answered
//! 2xx for it, once. At the end, with the receiver healthy, every event is delivered
//! (or, if its retries ran out, its delivery is failed and the endpoint disabled).

use std::collections::HashMap;

use chrono::TimeDelta;
use leash::store::Db;
use leash::usecase::deliver_webhooks;
use proptest::prelude::*;
use serde_json::json;

use crate::support::TestApp;
use crate::support::receiver::Receiver;

#[derive(Debug, Clone)]
enum Op {
    /// A user signs in on `sessions` devices, then signs out everywhere.
    Revoke {
        sessions: usize,
    },
    /// The receiver answers with this status from now on.
    Answer {
        status: u16,
    },
    /// Delivery rounds until one finds nothing to do.
    Deliver,
    /// A worker leases due deliveries and dies before sending.
    CrashAfterLease,
    Advance {
        seconds: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1usize..4).prop_map(|sessions| Op::Revoke { sessions }),
        2 => prop_oneof![Just(200u16), Just(204), Just(500), Just(503), Just(404)].prop_map(|status| Op::Answer { status }),
        3 => Just(Op::Deliver),
        1 => Just(Op::CrashAfterLease),
        2 => prop_oneof![1i64..120, 120i64..7200, 3600i64..90_000].prop_map(|seconds| Op::Advance { seconds }),
    ]
}

/// (event id, delivery status, attempts) of every delivery.
async fn deliveries(db: &Db) -> Vec<(String, String, i64)> {
    const SQL: &str = "SELECT e.id, d.status, d.attempts FROM webhook_deliveries d \
                       JOIN events e ON e.seq = d.event_seq ORDER BY e.seq";
    match db {
        Db::Sqlite(readers, _) => sqlx::query_as(SQL).fetch_all(readers).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
    }
}

async fn check(app: &TestApp, receiver: &Receiver, step: usize) {
    let rows = deliveries(&app.db).await;
    let mut requests: HashMap<String, (i64, u32)> = HashMap::new();
    for message in receiver.received() {
        let entry = requests.entry(message.id.clone()).or_default();
        entry.0 += 1;
        if (200..300).contains(&message.status) {
            entry.1 += 1;
        }
    }
    let mut per_event: HashMap<&str, usize> = HashMap::new();
    for (event, status, attempts) in &rows {
        *per_event.entry(event).or_default() += 1;
        let (sent, succeeded) = requests.get(event).copied().unwrap_or_default();
        assert_eq!(
            *attempts, sent,
            "step {step}: attempts of {event} are the requests sent"
        );
        assert_eq!(
            status == "succeeded",
            succeeded == 1,
            "step {step}: {event} is {status} after {succeeded} successful requests"
        );
        assert!(succeeded <= 1, "step {step}: {event} delivered twice");
    }
    assert!(
        per_event.values().all(|&n| n == 1),
        "step {step}: one delivery per event"
    );
    assert!(
        requests
            .keys()
            .all(|id| per_event.contains_key(id.as_str())),
        "step {step}: nothing sent without a delivery"
    );
}

async fn run(ops: Vec<Op>) {
    let app = TestApp::start_with_webhooks().await;
    let receiver = Receiver::start().await;
    let (endpoint, _) = app.webhook_endpoint(json!({ "url": receiver.url })).await;
    let mut users = 0;
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Revoke { sessions } => {
                users += 1;
                let user = app.create_user(&format!("user-{users}")).await;
                for _ in 0..*sessions {
                    app.sign_in(&user).await;
                }
                app.sign_out_everywhere(&user, json!({})).await;
            }
            Op::Answer { status } => receiver.answer(*status),
            Op::Deliver => {
                app.deliver().await;
            }
            Op::CrashAfterLease => {
                deliver_webhooks::dispatch(&app.app).await.unwrap();
                drop(deliver_webhooks::lease(&app.app).await.unwrap());
            }
            Op::Advance { seconds } => app.advance(TimeDelta::seconds(*seconds)),
        }
        check(&app, &receiver, step).await;
    }
    // The receiver recovers; time passes beyond every retry and lease.
    receiver.answer(200);
    for _ in 0..4 {
        app.advance(TimeDelta::days(1));
        app.deliver().await;
    }
    check(&app, &receiver, ops.len()).await;
    let events = leash::store::events::list_after(&app.db, 0, 10_000)
        .await
        .unwrap();
    let rows = deliveries(&app.db).await;
    assert_eq!(rows.len(), events.len(), "every event was dispatched");
    let gave_up = rows.iter().any(|(_, status, _)| status == "failed");
    let endpoint_now = app.get(&format!("/v1/webhook-endpoints/{endpoint}")).await;
    assert_eq!(
        endpoint_now.body["status"] == "disabled",
        gave_up,
        "the endpoint is disabled exactly when a delivery ran out of retries"
    );
    // Enabled again, what was still pending goes out.
    app.post_empty(&format!("/v1/webhook-endpoints/{endpoint}/enable"))
        .await;
    app.deliver().await;
    check(&app, &receiver, ops.len() + 1).await;
    assert!(
        deliveries(&app.db)
            .await
            .iter()
            .all(|(_, status, _)| status != "pending"),
        "nothing left pending"
    );
}

fn cases() -> u32 {
    std::env::var("LEASH_PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(16)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 100, ..ProptestConfig::default() })]

    #[test]
    fn no_delivery_is_lost_or_sent_twice(ops in prop::collection::vec(op(), 1..30)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run(ops));
    }
}
