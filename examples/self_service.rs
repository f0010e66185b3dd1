//! Against a running Leash, as a host application would: a person signed in on a laptop
//! and a phone lets an agent act for them, which delegates to a sub-agent. The host
//! makes a login link to the self-service page (open it in a browser within two
//! minutes), then, as the person, previews signing out everywhere else through
//! `/v1/me`, does it, and reads the activity in words.
//!
//!     cargo run -- serve
//!     LEASH_ADMIN_KEY=leash_ak_… cargo run --example self_service
//!
//! `LEASH_URL` points elsewhere than http://127.0.0.1:8080.

#[path = "common/mod.rs"]
mod common;

use common::{Leash, Result};
use serde_json::{Value, json};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

#[tokio::main]
async fn main() -> Result<()> {
    let admin = Leash::from_env()?;
    let run = std::process::id();
    let user = admin
        .post(
            "/v1/users",
            json!({ "external_id": format!("example-self-service-{run}") }),
        )
        .await?;
    let user_id = user["id"].as_str().ok_or("no user id")?.to_owned();
    let mut sessions = Vec::new();
    for (ip, ua) in [
        (
            "203.0.113.7",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:140.0) Gecko/20100101 Firefox/140.0",
        ),
        (
            "198.51.100.4",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        ),
    ] {
        let session = admin
            .post(
                &format!("/v1/users/{user_id}/sessions"),
                json!({ "ip_address": ip, "user_agent": ua }),
            )
            .await?;
        sessions.push((
            session["session"]["id"].as_str().ok_or("no id")?.to_owned(),
            session["token"].as_str().ok_or("no token")?.to_owned(),
        ));
    }
    let (laptop_id, laptop_token) = sessions[0].clone();
    let (_, phone_token) = sessions[1].clone();

    // An assistant acting from the phone, delegating to a summarizer.
    let mut agents = Vec::new();
    for name in ["Assistant", "Summarizer"] {
        agents.push(
            admin
                .agent_allowed_by(&user_id, name, &["calendar.read"])
                .await?,
        );
    }
    let mut subject = phone_token.clone();
    for (id, secret) in &agents {
        let (status, tokens) = admin
            .oauth(
                "/oauth2/token",
                id,
                secret,
                &[
                    ("grant_type", TOKEN_EXCHANGE),
                    ("subject_token", &subject),
                    ("subject_token_type", ACCESS_TOKEN),
                ],
            )
            .await?;
        if !status.is_success() {
            return Err(format!("the exchange was refused: {tokens}").into());
        }
        subject = tokens["access_token"]
            .as_str()
            .ok_or("no access token")?
            .to_owned();
    }
    let summarizer_token = subject;

    let link = admin
        .post(
            &format!("/v1/users/{user_id}/login-links"),
            json!({ "user_session_id": laptop_id }),
        )
        .await?;
    println!(
        "the person's page, for the next two minutes, once:\n  {}\n",
        link["url"].as_str().unwrap_or("")
    );

    // The same, as JSON, with the laptop's session token.
    let me = Leash {
        http: admin.http.clone(),
        base: admin.base.clone(),
        key: laptop_token,
    };
    let devices = me.get("/v1/me/sessions").await?;
    println!(
        "signed in on {} devices",
        devices["data"].as_array().map_or(0, Vec::len)
    );
    let preview = me
        .post("/v1/me/sign-out-others?dry_run=true", json!({}))
        .await?;
    let would = &preview["would_revoke"];
    println!(
        "signing out everywhere else would end {} device session(s) and {} agent session(s):",
        would["user_sessions"], would["agent_sessions"]
    );
    for session in would["sample"].as_array().ok_or("no sample")? {
        println!(
            "  {} {}",
            session["kind"].as_str().unwrap_or(""),
            session["id"].as_str().unwrap_or("")
        );
    }
    if !admin.introspect(&summarizer_token).await?["active"]
        .as_bool()
        .unwrap_or(false)
    {
        return Err("a dry run ended something".into());
    }
    let done = me.post("/v1/me/sign-out-others", json!({})).await?;
    println!(
        "\nsigned out everywhere else: {} device session(s), {} agent session(s) ended",
        done["revocation"]["user_sessions_revoked"], done["revocation"]["agent_sessions_revoked"]
    );
    let summarizer: Value = admin.introspect(&summarizer_token).await?;
    println!("the summarizer's token is active: {}", summarizer["active"]);
    if summarizer["active"] != false {
        return Err("the sub-agent outlived the sign-out".into());
    }
    println!("\nrecent activity:");
    for entry in me.get("/v1/me/activity").await?["data"]
        .as_array()
        .ok_or("no activity")?
    {
        println!("  {}", entry["text"].as_str().unwrap_or(""));
    }
    Ok(())
}
