//! Files only their owner may read (mode 0600), created fresh: the encryption key, the
//! first admin key. Creating never overwrites: an existing file is an error, so a secret
//! already written is never silently replaced.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;

/// Creates `path` (it must not exist), readable by its owner only, holding `contents`.
pub fn create(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut file = open_new(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// Creates `path` (it must not exist), readable by its owner only, empty.
pub fn open_new(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
