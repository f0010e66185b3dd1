//! Against a running Leash with a provider configured: a person connects it, an agent
//! acts for them with one of its scopes and gets the upstream token from Leash each time
//! it needs it, and a disconnect ends the agent's session, stops the vending and has
//! the provider revoke the tokens.
//!
//!     cargo run -- --config leash.toml serve      # a [[providers]] entry, see the README
//!     LEASH_ADMIN_KEY=leash_ak_… LEASH_PROVIDER=github LEASH_PROVIDER_SCOPE=repo \
//!         cargo run --example connect_and_vend
//!
//! With the local test provider (`tests/oidc-provider/run`, then `cargo run -- --config
//! target/oidc-provider/leash.toml serve`): `LEASH_PROVIDER=local
//! LEASH_PROVIDER_SCOPE=api`.
//!
//! It prints the provider's authorization URL: open it in a browser signed in at the
//! provider, consent, and the example goes on once the connection exists.
//! `LEASH_URL` points elsewhere than http://127.0.0.1:8080.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Leash, Result};
use serde_json::{Value, json};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

#[tokio::main]
async fn main() -> Result<()> {
    let leash = Leash::from_env()?;
    let provider = std::env::var("LEASH_PROVIDER").unwrap_or_else(|_| "github".to_owned());
    let upstream_scope =
        std::env::var("LEASH_PROVIDER_SCOPE").unwrap_or_else(|_| "repo".to_owned());
    let scope = format!("{provider}:{upstream_scope}");

    let user = leash
        .post("/v1/users", json!({ "external_id": "example-connect" }))
        .await?;
    let user_id = user["id"].as_str().ok_or("no user id")?.to_owned();
    let signed_in = leash
        .post(&format!("/v1/users/{user_id}/sessions"), json!({}))
        .await?;
    let session_token = signed_in["token"].as_str().ok_or("no token")?.to_owned();

    // The host backend starts the connect with the person's session and sends the
    // browser to where Leash answers.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let started = no_redirects
        .get(format!(
            "{}/v1/connections/{provider}/authorize?scopes={upstream_scope}",
            leash.base
        ))
        .bearer_auth(&session_token)
        .send()
        .await?;
    let location = started
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("authorize answered {}", started.status()))?
        .to_owned();
    println!("open this in a browser and consent:\n\n  {location}\n");

    let connection = wait_for_connection(&leash, &user_id).await?;
    let connection_id = connection["id"]
        .as_str()
        .ok_or("no connection id")?
        .to_owned();
    println!(
        "connected {} ({}), granted {}",
        connection["provider"], connection_id, connection["granted_scopes"]
    );

    let agent = leash
        .post(
            "/v1/agents",
            json!({ "name": "example coder", "scopes": [scope] }),
        )
        .await?;
    let (client_id, client_secret) = (
        agent["client_id"].as_str().ok_or("no client id")?,
        agent["client_secret"].as_str().ok_or("no client secret")?,
    );
    leash
        .post(
            &format!("/v1/users/{user_id}/grants"),
            json!({ "agent_id": client_id, "scopes": [scope] }),
        )
        .await?;
    let (status, tokens) = leash
        .oauth(
            "/oauth2/token",
            client_id,
            client_secret,
            &[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", &session_token),
                ("subject_token_type", ACCESS_TOKEN_TYPE),
                ("scope", &scope),
            ],
        )
        .await?;
    let access = tokens["access_token"]
        .as_str()
        .ok_or_else(|| format!("exchange answered {status}: {tokens}"))?
        .to_owned();
    println!(
        "agent session with {scope}: active = {}",
        leash.introspect(&access).await?["active"]
    );

    // The agent asks for the upstream token whenever it calls the provider.
    let vended = vend(&leash, &access, &provider).await?;
    let token = vended["access_token"].as_str().unwrap_or_default();
    println!(
        "vended: {}… (expires {}, for {})",
        token.chars().take(6).collect::<String>(),
        vended["expires_at"],
        vended["scopes"]
    );

    let path = format!("/v1/connections/{connection_id}/disconnect");
    let dry = leash
        .post(&format!("{path}?dry_run=true"), json!({}))
        .await?;
    println!(
        "a disconnect would revoke {} agent session(s)",
        dry["would_revoke"]["agent_sessions"]
    );
    let done = leash.post(&path, json!({})).await?;
    println!(
        "disconnected: {} agent session(s) revoked; agent token active = {}",
        done["revocation"]["agent_sessions_revoked"],
        leash.introspect(&access).await?["active"]
    );
    println!(
        "vending after the disconnect: {}",
        vend(&leash, &access, &provider).await?["code"]
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = leash
            .get(&format!("/v1/connections/{connection_id}"))
            .await?;
        let receipt = &now["revocation_receipt"];
        let pending = receipt
            .as_array()
            .is_some_and(|lines| lines.iter().any(|l| l["status"] == "pending"));
        if !pending || Instant::now() > deadline {
            println!("receipt: {receipt}");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `POST /v1/credentials` with the agent's access token: the credential, or the problem.
async fn vend(leash: &Leash, access_token: &str, provider: &str) -> Result<Value> {
    Ok(reqwest::Client::new()
        .post(format!("{}/v1/credentials", leash.base))
        .bearer_auth(access_token)
        .json(&json!({ "provider": provider }))
        .send()
        .await?
        .json()
        .await?)
}

/// Waits (up to five minutes) for the person to finish at the provider.
async fn wait_for_connection(leash: &Leash, user_id: &str) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let listed = leash
            .get(&format!("/v1/users/{user_id}/connections"))
            .await?;
        if let Some(connection) = listed["data"].as_array().and_then(|c| c.first()) {
            return Ok(connection.clone());
        }
        if Instant::now() > deadline {
            return Err("nobody finished the authorization within five minutes".into());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
