//! A real `leash serve` process on an ephemeral loopback port, killed when dropped.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TEST_ENCRYPTION_KEY;

pub struct Instance {
    child: Child,
    pub base: String,
    /// Where a first start writes its admin key.
    _dir: tempfile::TempDir,
}

impl Instance {
    /// Starts `leash serve` on `database_url` with `env` added, and waits until ready.
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_leash"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("LEASH_DATABASE_URL", database_url)
            .env("LEASH_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
            .env("LEASH_LOG", "warn")
            .env("LEASH_ADMIN_KEY_FILE", dir.path().join("admin.key"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let instance = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while reqwest::get(format!("{}/readyz", instance.base))
            .await
            .map(|r| r.status().is_success())
            .ok()
            != Some(true)
        {
            assert!(
                Instant::now() < deadline,
                "instance on port {port} never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        instance
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process at once (SIGKILL): no graceful shutdown, no last flush.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
