//! Against a running Leash, as a security system would: with a `risk` key, report a
//! high-severity signal about a hostile address, preview a revocation of every session
//! from its /24, then revoke them (retried under the same Idempotency-Key: answered,
//! not done twice), and show the tokens inactive.
//!
//!     cargo run -- serve                       # prints an admin key on first start
//!     LEASH_ADMIN_KEY=leash_ak_… cargo run --example security_hook
//!
//! The admin key only sets the scene (people signed in, and the risk key); everything
//! after runs with the risk key. `LEASH_URL` points elsewhere than http://127.0.0.1:8080.

#[path = "common/mod.rs"]
mod common;

use common::{Leash, Result};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<()> {
    let admin = Leash::from_env()?;
    let risk = Leash {
        key: admin
            .post("/v1/api-keys", json!({ "role": "risk" }))
            .await?["secret"]
            .as_str()
            .ok_or("no key secret")?
            .to_owned(),
        http: admin.http.clone(),
        base: admin.base.clone(),
    };
    let run = uuid_like();
    let mut tokens = Vec::new();
    for (name, ip) in [
        ("dana", "203.0.113.66"),
        ("eli", "203.0.113.67"),
        ("fay", "198.51.100.5"),
    ] {
        let user = admin
            .post(
                "/v1/users",
                json!({ "external_id": format!("example-{name}-{run}") }),
            )
            .await?;
        let user_id = user["id"].as_str().ok_or("no user id")?;
        let session = admin
            .post(
                &format!("/v1/users/{user_id}/sessions"),
                json!({ "ip_address": ip, "user_agent": "Mozilla/5.0 Firefox/140" }),
            )
            .await?;
        let token = session["token"].as_str().ok_or("no token")?.to_owned();
        println!("{name} signed in from {ip}");
        tokens.push((name, token));
    }

    println!("\nthe EDR reports 203.0.113.66 beaconing to a known C2 server (severity high):");
    let signal = risk
        .post(
            "/v1/risk/signals",
            json!({
                "signal_id": format!("edr-{run}"),
                "kind": "edr.c2_beacon",
                "severity": "high",
                "subject": { "ip_address": "203.0.113.66" },
                "evidence": { "host": "build-agent-7", "rule": "C2-1138" },
            }),
        )
        .await?;
    for action in signal["actions"].as_array().ok_or("no actions")? {
        println!(
            "  {:<32} {:<8} user sessions {}, agent sessions {} {}",
            action["action"].as_str().unwrap_or(""),
            action["status"].as_str().unwrap_or(""),
            action["user_sessions"],
            action["agent_sessions"],
            action["detail"].as_str().unwrap_or("")
        );
    }

    let selector = json!({ "ip_address": "203.0.113.0/24" });
    let preview = risk
        .post(
            "/v1/revocations",
            json!({ "selector": selector, "dry_run": true }),
        )
        .await?;
    let would = &preview["would_revoke"];
    println!(
        "\na revocation of 203.0.113.0/24 would end {} user session(s) and {} agent session(s):",
        would["user_sessions"], would["agent_sessions"]
    );
    for session in would["sample"].as_array().ok_or("no sample")? {
        println!(
            "  {} {} of {} from {}",
            session["kind"].as_str().unwrap_or(""),
            session["id"].as_str().unwrap_or(""),
            session["user_id"].as_str().unwrap_or(""),
            session["ip_address"].as_str().unwrap_or("")
        );
    }

    let body = json!({ "selector": selector, "reason": "EDR: C2 beacon from 203.0.113.66" });
    let key = format!("incident-{run}");
    let (first, _) = revoke(&risk, &body, &key).await?;
    println!(
        "\nrevoked: {} user session(s), {} agent session(s) ({})",
        first["revocation"]["user_sessions_revoked"],
        first["revocation"]["agent_sessions_revoked"],
        first["revocation"]["id"]
    );
    let (again, replayed) = revoke(&risk, &body, &key).await?;
    println!(
        "retried under the same Idempotency-Key: {} (replayed: {replayed})",
        again["revocation"]["id"]
    );
    if again["revocation"]["id"] != first["revocation"]["id"] || !replayed {
        return Err("a retry revoked again".into());
    }

    println!();
    for (name, token) in &tokens {
        let active = admin.introspect(token).await?["active"] == true;
        println!("  {name}'s session active: {active}");
        if active == (*name != "fay") {
            return Err(format!("{name}'s session is in the wrong state").into());
        }
    }
    Ok(())
}

/// Posts a selector revocation under `key`; answers the body and whether it was a replay.
async fn revoke(risk: &Leash, body: &Value, key: &str) -> Result<(Value, bool)> {
    let response = risk
        .http
        .post(format!("{}/v1/revocations", risk.base))
        .bearer_auth(&risk.key)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await?;
    let replayed = response.headers().contains_key("idempotent-replayed");
    if !response.status().is_success() {
        return Err(format!("{}: {}", response.status(), response.text().await?).into());
    }
    Ok((response.json().await?, replayed))
}

/// Unique per run, so the example can run again on the same database.
fn uuid_like() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}
