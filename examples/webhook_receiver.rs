//! A webhook receiver: verifies each message's Standard Webhooks signature and
//! timestamp, drops duplicates by `webhook-id`, and prints every revocation.
//!
//!     cargo run -- serve --webhook-allow-private-targets    # the receiver is on loopback
//!     LEASH_ADMIN_KEY=leash_ak_… cargo run --example webhook_receiver
//!     LEASH_ADMIN_KEY=leash_ak_… cargo run --example sign_out_everywhere   # in a third shell
//!
//! With `LEASH_ADMIN_KEY` it registers itself as an endpoint and takes the signing secret
//! from the answer; with `WEBHOOK_SECRET=whsec_…` it verifies against an endpoint you
//! made. `RECEIVER_LISTEN` changes its address (default 127.0.0.1:9000).

#[path = "common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;

use common::{Leash, Result};

/// How far a message's timestamp may be from this clock (replayed old messages are
/// refused).
const TOLERANCE_SECONDS: i64 = 5 * 60;

struct Receiver {
    key: Vec<u8>,
    seen: Mutex<HashSet<String>>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let listen = std::env::var("RECEIVER_LISTEN").unwrap_or_else(|_| "127.0.0.1:9000".to_owned());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let secret = match std::env::var("WEBHOOK_SECRET") {
        Ok(secret) => secret,
        Err(_) => register(&format!("http://{listen}/webhooks/leash")).await?,
    };
    let key = STANDARD.decode(
        secret
            .strip_prefix("whsec_")
            .ok_or("a secret starts with whsec_")?,
    )?;
    let receiver = Arc::new(Receiver {
        key,
        seen: Mutex::default(),
    });
    println!("listening on http://{listen}/webhooks/leash");
    let router = Router::new()
        .route("/webhooks/leash", post(receive))
        .with_state(receiver);
    axum::serve(listener, router).await?;
    Ok(())
}

/// Registers this receiver with Leash; returns the signing secret, shown this once.
async fn register(url: &str) -> Result<String> {
    let leash = Leash::from_env()?;
    let created = leash
        .post(
            "/v1/webhook-endpoints",
            json!({ "url": url, "description": "examples/webhook_receiver.rs" }),
        )
        .await?;
    println!("registered as {}", created["endpoint"]["id"]);
    Ok(created["secret"]
        .as_str()
        .ok_or("no secret in the answer")?
        .to_owned())
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let (id, timestamp, signatures) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    if let Err(why) = verify(&receiver.key, id, timestamp, signatures, &body) {
        eprintln!("refused a message: {why}");
        return StatusCode::UNAUTHORIZED;
    }
    // Delivery is at least once: the same event may come again after a lost answer.
    if !receiver
        .seen
        .lock()
        .map(|mut seen| seen.insert(id.to_owned()))
        .unwrap_or(true)
    {
        return StatusCode::NO_CONTENT;
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let data = &event["data"];
    match event["type"].as_str() {
        Some(kind @ ("user_session.revoked" | "agent_session.revoked")) => {
            let text = |field: &Value| field.as_str().unwrap_or("?").to_owned();
            let chain = data["chain"]
                .as_array()
                .map(|chain| {
                    format!(
                        ", chain {}",
                        chain.iter().map(text).collect::<Vec<_>>().join(" <- ")
                    )
                })
                .unwrap_or_default();
            println!(
                "{kind}: {} of {} ({}, {}, by {}{chain})",
                text(&data["session"]["id"]),
                text(&data["user_id"]),
                text(&data["cause"]),
                text(&data["revocation_id"]),
                text(&data["actor"]),
            );
        }
        Some(other) => println!("{other}: {data}"),
        None => return StatusCode::BAD_REQUEST,
    }
    StatusCode::NO_CONTENT
}

/// Checks the timestamp is recent and one of the `v1,` signatures is the HMAC-SHA256
/// of `{id}.{timestamp}.{body}` under the secret (there are two during a rotation).
// A receiver has only the wall clock to judge a timestamp by.
#[allow(clippy::disallowed_methods)]
fn verify(
    key: &[u8],
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
) -> std::result::Result<(), String> {
    let sent: i64 = timestamp.parse().map_err(|_| "no webhook-timestamp")?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    if (i64::try_from(now).unwrap_or(i64::MAX) - sent).abs() > TOLERANCE_SECONDS {
        return Err(format!("timestamp {sent} is outside the tolerance"));
    }
    let signed = |given: &[u8]| {
        Hmac::<Sha256>::new_from_slice(key).is_ok_and(|mut mac| {
            mac.update(format!("{id}.{timestamp}.").as_bytes());
            mac.update(body);
            // verify_slice compares in constant time.
            mac.verify_slice(given).is_ok()
        })
    };
    let matches = signatures
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|candidate| STANDARD.decode(candidate).is_ok_and(|given| signed(&given)));
    if matches {
        Ok(())
    } else {
        Err("no signature matches".to_owned())
    }
}
