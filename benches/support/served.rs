//! `leash serve` as a process of its own, as it is deployed: for measurements of the
//! server's own memory, and of acts long enough that the request's path matters.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ENCRYPTION_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A running `leash serve`, killed when dropped.
pub struct Served {
    child: Child,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Starts `leash serve` on the database at `url`, with `env` added to its
    /// environment, and answers it once it accepts connections.
    pub fn start(url: &str, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_leash"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("LEASH_DATABASE_URL", url)
            .env("LEASH_ENCRYPTION_KEY", ENCRYPTION_KEY)
            .env("LEASH_ADMIN_KEY_FILE", dir.path().join("admin.key"))
            .env("LEASH_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "serve did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// The server's resident memory now, in MiB.
    pub fn rss_mib(&self) -> u64 {
        self.status_kib("VmRSS") / 1024
    }

    /// The server's peak resident memory so far, in MiB.
    pub fn peak_rss_mib(&self) -> u64 {
        self.status_kib("VmHWM") / 1024
    }

    /// A field of `/proc/<pid>/status`, in KiB.
    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{field}:")))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
