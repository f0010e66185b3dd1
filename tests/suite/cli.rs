//! The `leash` binary's subcommands, run as a user would run them.

use std::process::Command;

use crate::support::TestDatabase;

fn leash(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(args)
        .env("LEASH_DATABASE_URL", database_url)
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
