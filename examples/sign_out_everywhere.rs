//! Against a running Leash: create a user with three device sessions, list them, sign
//! out everywhere, and show every token inactive.
//!
//!     cargo run -- serve                       # prints an admin key on first start
//!     LEASH_ADMIN_KEY=leash_ak_… cargo run --example sign_out_everywhere
//!
//! `LEASH_URL` points elsewhere than http://127.0.0.1:8080.

#[path = "common/mod.rs"]
mod common;

use common::{Leash, Result};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<()> {
    let leash = Leash::from_env()?;

    let user = leash
        .post(
            "/v1/users",
            json!({ "external_id": "example-alice", "email": "alice@example.com" }),
        )
        .await?;
    let user_id = user["id"].as_str().ok_or("no user id")?;
    println!("user {user_id} ({})", user["external_id"]);

    let mut tokens = Vec::new();
    for (ip, agent) in [
        ("203.0.113.10", "Firefox on Linux"),
        ("198.51.100.20", "Safari on iPhone"),
        ("192.0.2.30", "Chrome on Windows"),
    ] {
        let created = leash
            .post(
                &format!("/v1/users/{user_id}/sessions"),
                json!({ "ip_address": ip, "user_agent": agent }),
            )
            .await?;
        tokens.push(created["token"].as_str().ok_or("no token")?.to_owned());
    }

    println!("\nwhere alice is signed in:");
    let listed = leash
        .get(&format!("/v1/users/{user_id}/sessions?status=active"))
        .await?;
    for session in listed["data"].as_array().ok_or("no data")? {
        println!(
            "  {}  {:<18} {:<14} last seen {}",
            session["id"], session["user_agent"], session["ip_address"], session["last_seen_at"]
        );
    }
    for token in &tokens {
        println!(
            "  introspect …{}: active = {}",
            &token[token.len() - 6..],
            leash.introspect(token).await?["active"]
        );
    }

    let revocation = leash
        .post(
            &format!("/v1/users/{user_id}/sign-out-everywhere"),
            json!({ "reason": "example" }),
        )
        .await?;
    println!(
        "\nsigned out everywhere: {} session(s) revoked by {}",
        revocation["user_sessions_revoked"], revocation["id"]
    );

    for token in &tokens {
        let answer = leash.introspect(token).await?;
        println!("  introspect …{}: {answer}", &token[token.len() - 6..]);
        if answer["active"] != false {
            return Err("a token outlived sign out everywhere".into());
        }
    }
    Ok(())
}
