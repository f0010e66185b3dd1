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

/// A `leash serve` child on a free port, ready; its admin key file goes to `key_file`.
async fn spawn_serve(database_url: &str, key_file: &std::path::Path) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("LEASH_DATABASE_URL", database_url)
        .env("LEASH_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
        .env("LEASH_ADMIN_KEY_FILE", key_file)
        .env("LEASH_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
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
    (child, port)
}

#[tokio::test]
async fn serve_writes_the_first_admin_key_to_a_private_file_and_shuts_down_on_sigterm() {
    let database = TestDatabase::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("admin.key");
    let (mut child, _) = spawn_serve(&database.url(), &key_file).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "serve exited with {status} on SIGTERM");
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert!(key.trim().starts_with("leash_ak_"), "{key:?}");
    assert!(
        !stdout.contains(key.trim()),
        "the admin key went to stdout: {stdout:?}"
    );
    assert!(
        stdout.contains(&key_file.display().to_string()),
        "{stdout:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    // The key works, and a second start (a key exists) starts with the file still
    // there and leaves it as it was.
    let (mut again, port) = spawn_serve(&database.url(), &key_file).await;
    let users = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/v1/audit"))
        .bearer_auth(key.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);
    again.kill().unwrap();
    again.wait().unwrap();
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key);
}

#[tokio::test]
async fn a_second_serve_on_one_sqlite_file_refuses_to_start_until_the_first_is_gone() {
    let database = TestDatabase::fresh().await;
    if database.is_postgres() {
        return; // PostgreSQL serves any number of instances.
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut first, _) = spawn_serve(&database.url(), &dir.path().join("a.key")).await;
    let second = Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LEASH_DATABASE_URL", database.url())
        .env("LEASH_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
        .env("LEASH_ADMIN_KEY_FILE", dir.path().join("b.key"))
        .env("LEASH_LOG", "warn")
        .output()
        .unwrap();
    assert!(!second.status.success(), "a second serve started");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("another leash process"), "{stderr}");
    // A crash releases the lock.
    first.kill().unwrap();
    first.wait().unwrap();
    let (mut third, _) = spawn_serve(&database.url(), &dir.path().join("c.key")).await;
    third.kill().unwrap();
    third.wait().unwrap();
}

const PROVIDER: &str = r#"
public_url = "https://from-file.example"

[[providers]]
id = "acme"
authorization_url = "https://idp.acme.example/authorize"
token_url = "https://idp.acme.example/token"
revocation_url = "https://idp.acme.example/revoke"
client_id = "leash-client"
client_secret_env = "LEASH_TEST_ACME_SECRET"
scopes = ["files.read", "files.write"]
token_auth_method = "client_secret_post"
"#;

fn leash_with_config(config: &str, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leash.toml");
    std::fs::write(&path, config).unwrap();
    Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(args)
        .env("LEASH_CONFIG", &path)
        .env("LEASH_LOG", "warn")
        .env_remove("LEASH_PUBLIC_URL")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn providers_list_shows_the_configured_providers_and_never_a_secret() {
    let secret = "s3cr3t-from-the-environment";
    let output = leash_with_config(
        PROVIDER,
        &[("LEASH_TEST_ACME_SECRET", secret)],
        &["providers", "list"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let fields: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(fields[0], "acme");
    assert_eq!(fields[6], "files.read files.write");
    assert_eq!(fields[8], "client_secret_post");
    assert_eq!(
        fields.last(),
        Some(&"https://from-file.example/v1/oauth/callback")
    );
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
}

#[test]
fn a_variable_overrides_the_file_and_a_flag_overrides_the_variable() {
    let env = [
        ("LEASH_TEST_ACME_SECRET", "x"),
        ("LEASH_PUBLIC_URL", "https://from-env.example"),
    ];
    let redirect = |args: &[&str]| {
        let output = leash_with_config(PROVIDER, &env, args);
        assert!(output.status.success());
        let stdout = String::from_utf8(output.stdout).unwrap();
        stdout
            .lines()
            .nth(1)
            .unwrap()
            .rsplit('\t')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        redirect(&["providers", "list"]),
        "https://from-env.example/v1/oauth/callback"
    );
    assert_eq!(
        redirect(&[
            "--public-url",
            "https://from-flag.example",
            "providers",
            "list"
        ]),
        "https://from-flag.example/v1/oauth/callback"
    );
}

#[test]
fn a_bad_configuration_file_stops_leash_naming_the_file_the_provider_and_the_field() {
    let output = leash_with_config(PROVIDER, &[], &["providers", "list"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "leash.toml: provider \"acme\": client_secret_env: the environment variable \
             LEASH_TEST_ACME_SECRET is not set"
        ),
        "{stderr}"
    );
    let output = leash_with_config(
        &PROVIDER
            .replace(
                "client_secret_env = \"LEASH_TEST_ACME_SECRET\"",
                "client_secret = \"inline-secret\"",
            )
            .replace(
                "https://idp.acme.example/token",
                "http://idp.acme.example/token",
            ),
        &[],
        &["serve"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("provider \"acme\": token_url: must be an https URL"),
        "{stderr}"
    );
    assert!(!stderr.contains("inline-secret"));
}

/// `leash` with explicit encryption keys (base64), the current one and previous ones.
fn leash_keyed(
    database_url: &str,
    current: &str,
    previous: &str,
    args: &[&str],
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_leash"))
        .args(args)
        .env("LEASH_DATABASE_URL", database_url)
        .env("LEASH_ENCRYPTION_KEY", current)
        .env("LEASH_PREVIOUS_ENCRYPTION_KEYS", previous)
        .env("LEASH_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_key_set_missing_a_key_refuses_and_a_finished_rotation_lets_the_old_key_go() {
    let database = TestDatabase::fresh().await;
    let old = leash::secret_box::EncryptionKey::from_base64(TEST_ENCRYPTION_KEY).unwrap();
    let new_key = "HxwdHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";
    let new = leash::secret_box::EncryptionKey::from_base64(new_key).unwrap();
    let ok = |output: &std::process::Output| {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    ok(&leash(
        &database.url(),
        &["keys", "create", "--role", "admin"],
    ));

    let refused = leash_keyed(&database.url(), new_key, "", &["keys", "list"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains(&old.id().to_string()), "{stderr}");

    let rotated = leash_keyed(
        &database.url(),
        new_key,
        TEST_ENCRYPTION_KEY,
        &["keys", "rotate-encryption"],
    );
    ok(&rotated);
    let stdout = String::from_utf8_lossy(&rotated.stdout);
    assert!(
        stdout.contains(&format!(
            "with key {}; no longer used: {}",
            new.id(),
            old.id()
        )),
        "{stdout}"
    );
    ok(&leash_keyed(
        &database.url(),
        new_key,
        "",
        &["keys", "list"],
    ));
    let stale = leash(&database.url(), &["keys", "list"]);
    assert!(!stale.status.success());
}
