//! One `leash serve` per SQLite file. Two processes on one file would each trust their
//! own token cache and API-key map, and nothing tells one what the other revoked
//! (PostgreSQL has notifications for that; SQLite does not). So a process that serves,
//! or revokes what a server may have cached, holds an exclusive lock on a file beside
//! the database (`<database>.lock`); the operating system releases it when the process
//! exits, however it exits.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::str::FromStr as _;

use sqlx::sqlite::SqliteConnectOptions;

/// Held for as long as the process serves; dropping it releases the lock.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum InstanceLockError {
    #[error(
        "another leash process is serving {database} (it holds {lock}); SQLite serves one \
         instance at a time: stop it, or use PostgreSQL to run several"
    )]
    Held { database: String, lock: String },
    #[error("lock file {lock}: {source}")]
    Io {
        lock: String,
        source: std::io::Error,
    },
}

impl InstanceLock {
    /// Takes the lock for the SQLite database at `database_url`; nothing to take for
    /// PostgreSQL or an in-memory database.
    pub fn acquire(database_url: &str) -> Result<Option<Self>, InstanceLockError> {
        let Some(database) = sqlite_file(database_url) else {
            return Ok(None);
        };
        let mut lock = database.clone().into_os_string();
        lock.push(".lock");
        let lock = PathBuf::from(lock);
        let io = |source| InstanceLockError::Io {
            lock: lock.display().to_string(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { _file: file })),
            Err(TryLockError::WouldBlock) => Err(InstanceLockError::Held {
                database: database.display().to_string(),
                lock: lock.display().to_string(),
            }),
            Err(TryLockError::Error(source)) => Err(io(source)),
        }
    }
}

/// The file an SQLite URL names; none for PostgreSQL or an in-memory database (sqlx
/// gives `:memory:` a made-up name, so the URL is what tells).
fn sqlite_file(database_url: &str) -> Option<PathBuf> {
    let rest = database_url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    if database == ":memory:" || params.split('&').any(|p| p == "mode=memory") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(database_url).ok()?;
    let file = options.get_filename();
    (!file.as_os_str().is_empty()).then(|| file.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("leash.db").display());
        let first = InstanceLock::acquire(&url).unwrap();
        assert!(first.is_some());
        let second = InstanceLock::acquire(&url).unwrap_err().to_string();
        assert!(second.contains("another leash process"), "{second}");
        drop(first);
        assert!(InstanceLock::acquire(&url).unwrap().is_some());
        for nothing_to_lock in [
            "postgres://x@127.0.0.1/db",
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://shared?mode=memory&cache=shared",
            "sqlite://",
        ] {
            assert!(InstanceLock::acquire(nothing_to_lock).unwrap().is_none());
        }
    }
}
