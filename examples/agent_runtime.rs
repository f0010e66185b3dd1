//! Against a running Leash, the life of a delegation: register two agents, a user signs
//! in and consents, the planner exchanges the user's session token for an agent
//! session, sub-delegates to the booker, both introspect active; the user signs out
//! everywhere; both introspect inactive and the planner's refresh fails.
//!
//!     cargo run -- serve                       # prints an admin key on first start
//!     LEASH_ADMIN_KEY=leash_ak_… cargo run --example agent_runtime
//!
//! `LEASH_URL` points elsewhere than http://127.0.0.1:8080.

#[path = "common/mod.rs"]
mod common;

use common::{Leash, Result};
use serde_json::{Value, json};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

struct Agent {
    id: String,
    secret: String,
}

async fn register(leash: &Leash, name: &str, scopes: &[&str]) -> Result<Agent> {
    let created = leash
        .post("/v1/agents", json!({ "name": name, "scopes": scopes }))
        .await?;
    println!("registered agent {name}: {}", created["client_id"]);
    Ok(Agent {
        id: created["client_id"]
            .as_str()
            .ok_or("no client_id")?
            .to_owned(),
        secret: created["client_secret"]
            .as_str()
            .ok_or("no secret")?
            .to_owned(),
    })
}

/// RFC 8693: `agent` exchanges `subject` (a user session token or an agent access
/// token) for an agent session of its own.
async fn exchange(leash: &Leash, agent: &Agent, subject: &str, scope: &str) -> Result<Value> {
    let form = [
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", subject),
        ("subject_token_type", ACCESS_TOKEN),
        ("scope", scope),
    ];
    let (status, body) = leash
        .oauth("/oauth2/token", &agent.id, &agent.secret, &form)
        .await?;
    if !status.is_success() {
        return Err(format!("exchange refused: {status} {body}").into());
    }
    Ok(body)
}

fn token<'a>(body: &'a Value, field: &str) -> Result<&'a str> {
    Ok(body[field].as_str().ok_or("missing token")?)
}

#[tokio::main]
async fn main() -> Result<()> {
    let leash = Leash::from_env()?;
    let planner = register(
        &leash,
        "trip planner",
        &["calendar.read", "calendar.write", "mail.send"],
    )
    .await?;
    let booker = register(
        &leash,
        "flight booker",
        &["calendar.read", "calendar.write"],
    )
    .await?;

    let user = leash
        .post("/v1/users", json!({ "external_id": "example-bob" }))
        .await?;
    let user_id = user["id"].as_str().ok_or("no user id")?;
    let signed_in = leash
        .post(
            &format!("/v1/users/{user_id}/sessions"),
            json!({ "ip_address": "203.0.113.9", "user_agent": "Firefox" }),
        )
        .await?;
    let user_token = token(&signed_in, "token")?;
    for (agent, scopes) in [
        (&planner, json!(["calendar.read", "calendar.write"])),
        (&booker, json!(["calendar.read", "calendar.write"])),
    ] {
        leash
            .post(
                &format!("/v1/users/{user_id}/grants"),
                json!({ "agent_id": agent.id, "scopes": scopes }),
            )
            .await?;
    }
    println!("user {user_id} signed in and consented to both agents");

    let planner_tokens =
        exchange(&leash, &planner, user_token, "calendar.read calendar.write").await?;
    println!(
        "planner holds {} for {} s",
        planner_tokens["scope"], planner_tokens["expires_in"]
    );
    let booker_tokens = exchange(
        &leash,
        &booker,
        token(&planner_tokens, "access_token")?,
        "calendar.write",
    )
    .await?;
    println!("booker sub-delegated: {}", booker_tokens["scope"]);

    let planner_access = token(&planner_tokens, "access_token")?;
    let booker_access = token(&booker_tokens, "access_token")?;
    for (name, access) in [("planner", planner_access), ("booker", booker_access)] {
        let seen = leash.introspect(access).await?;
        println!("  {name}: active={} act={}", seen["active"], seen["act"]);
        if seen["active"] != true {
            return Err(format!("{name} should be active").into());
        }
    }

    let revocation = leash
        .post(
            &format!("/v1/users/{user_id}/sign-out-everywhere"),
            json!({}),
        )
        .await?;
    println!(
        "signed out everywhere: {} user session(s), {} agent session(s) revoked",
        revocation["user_sessions_revoked"], revocation["agent_sessions_revoked"]
    );
    for (name, access) in [("planner", planner_access), ("booker", booker_access)] {
        let seen = leash.introspect(access).await?;
        println!("  {name}: {seen}");
        if seen["active"] != false {
            return Err(format!("{name} outlived the sign-out").into());
        }
    }
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", token(&planner_tokens, "refresh_token")?),
    ];
    let (status, body) = leash
        .oauth("/oauth2/token", &planner.id, &planner.secret, &refresh)
        .await?;
    println!("planner's refresh: {status} {body}");
    if status.is_success() {
        return Err("a refresh outlived the sign-out".into());
    }
    Ok(())
}
