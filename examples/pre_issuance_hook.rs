//! A pre-issuance hook, and a running Leash asking it: the hook's policy is "sub-agents
//! may not send mail". An assistant gets the person's calendar and mail; its summarizer
//! sub-agent asks for mail too and is denied, with the hook's reason; asking for the
//! calendar alone, it is allowed.
//!
//!     cargo run -- serve --pre-issuance-hook-url http://127.0.0.1:9100/decide \
//!         --pre-issuance-hook-allow-private-network
//!     LEASH_ADMIN_KEY=leash_ak_… cargo run --example pre_issuance_hook
//!
//! `HOOK_LISTEN` moves the hook from 127.0.0.1:9100; `LEASH_URL` points elsewhere than
//! http://127.0.0.1:8080.

#[path = "common/mod.rs"]
mod common;

use axum::Json;
use axum::routing::post;
use common::{Leash, Result};
use serde_json::{Value, json};

/// The hook's whole policy: what Leash sends, and the decision.
async fn decide(Json(asked): Json<Value>) -> Json<Value> {
    let scopes: Vec<&str> = asked["scopes"]
        .as_array()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    println!(
        "  hook: {} for {} by {} ({}), scopes {scopes:?}, chain depth {}",
        asked["kind"].as_str().unwrap_or("?"),
        asked["user"]["external_id"].as_str().unwrap_or("?"),
        asked["agent"]["name"].as_str().unwrap_or("?"),
        asked["ip"].as_str().unwrap_or("no address"),
        asked["parent_chain"].as_array().map_or(0, Vec::len),
    );
    if asked["kind"] == "sub_delegation" && scopes.contains(&"mail.send") {
        return Json(json!({ "decision": "deny", "reason": "sub-agents may not send mail" }));
    }
    Json(json!({ "decision": "allow" }))
}

#[tokio::main]
async fn main() -> Result<()> {
    let listen = std::env::var("HOOK_LISTEN").unwrap_or_else(|_| "127.0.0.1:9100".to_owned());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let hook = axum::Router::new().route("/decide", post(decide));
    tokio::spawn(async move { axum::serve(listener, hook).await });
    println!("the hook listens on http://{listen}/decide");

    let admin = Leash::from_env()?;
    let run = std::process::id();
    let user = admin
        .post(
            "/v1/users",
            json!({ "external_id": format!("example-hook-{run}") }),
        )
        .await?;
    let user_id = user["id"].as_str().ok_or("no user id")?;
    let session = admin
        .post(
            &format!("/v1/users/{user_id}/sessions"),
            json!({ "ip_address": "203.0.113.20", "user_agent": "Mozilla/5.0 Firefox/140" }),
        )
        .await?;
    let user_token = session["token"].as_str().ok_or("no token")?;
    let mut agents = Vec::new();
    for name in ["Assistant", "Summarizer"] {
        agents.push(
            admin
                .agent_allowed_by(user_id, name, &["calendar.read", "mail.send"])
                .await?,
        );
    }
    let exchange = |agent: usize, subject: String, scope: &'static str| {
        let (id, secret) = agents[agent].clone();
        let admin = &admin;
        async move {
            admin
                .oauth(
                    "/oauth2/token",
                    &id,
                    &secret,
                    &[
                        (
                            "grant_type",
                            "urn:ietf:params:oauth:grant-type:token-exchange",
                        ),
                        ("subject_token", &subject),
                        (
                            "subject_token_type",
                            "urn:ietf:params:oauth:token-type:access_token",
                        ),
                        ("scope", scope),
                    ],
                )
                .await
        }
    };

    println!("\nthe assistant asks for calendar.read mail.send:");
    let (status, assistant) = exchange(0, user_token.to_owned(), "calendar.read mail.send").await?;
    println!("  leash: {status} {}", assistant["scope"]);
    let assistant_token = assistant["access_token"]
        .as_str()
        .ok_or("the assistant was refused")?
        .to_owned();

    println!("\nits summarizer asks for mail.send:");
    let (status, denied) = exchange(1, assistant_token.clone(), "mail.send").await?;
    println!(
        "  leash: {status} {}: {}",
        denied["error"], denied["error_description"]
    );
    if status != reqwest::StatusCode::FORBIDDEN {
        return Err("the hook's denial was not enforced".into());
    }

    println!("\nit asks for calendar.read alone:");
    let (status, allowed) = exchange(1, assistant_token, "calendar.read").await?;
    println!("  leash: {status} {}", allowed["scope"]);
    if !status.is_success() {
        return Err("the hook's allow was not honoured".into());
    }

    let audit = admin.get("/v1/audit?action=issuance_hook.denied").await?;
    println!(
        "\naudit: {} denial(s) recorded as issuance_hook.denied",
        audit["data"].as_array().map_or(0, Vec::len)
    );
    Ok(())
}
