//! The `leash` binary's subcommands, run as a user would run them.

use std::process::Command;

use crate::support::{TEST_ENCRYPTION_KEY, TestDatabase};

pub fn leash(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(args)
        .env("LEASH_DATABASE_URL", database_url)
        .env("LEASH_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
        .env("LEASH_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test]
async fn keys_create_prints_the_key_alone_on_stdout() {
    let database = TestDatabase::fresh().await;
    for role in ["admin", "risk", "introspect"] {
        let output = leash(&database.url(), &["keys", "create", "--role", role]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "stdout: {stdout:?}");
        assert!(lines[0].starts_with("leash_ak_"));
    }
    let refused = leash(&database.url(), &["keys", "create", "--role", "root"]);
    assert!(!refused.status.success());
}

#[tokio::test]
async fn migrate_applies_migrations_and_can_run_twice() {
    let database = TestDatabase::fresh().await;
    for _ in 0..2 {
        let output = leash(&database.url(), &["migrate"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.stdout.is_empty());
    }
}

#[tokio::test]
async fn a_bad_database_url_fails_clearly() {
    let output = leash("mysql://nowhere", &["migrate"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("sqlite: or postgres:"));
}

#[tokio::test]
async fn serve_shuts_down_cleanly_on_sigterm() {
    let database = TestDatabase::fresh().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("LEASH_DATABASE_URL", database.url())
        .env("LEASH_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
        .env("LEASH_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .is_err()
    {
        assert!(std::time::Instant::now() < deadline, "serve never answered");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "serve exited with {status} on SIGTERM");
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "the first start prints the admin key once: {stdout:?}"
    );
    assert!(lines[1].starts_with("leash_ak_"));
}
