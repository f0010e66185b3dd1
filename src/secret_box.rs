//! Encryption at rest for secrets Leash must be able to read back (webhook signing
//! secrets; later, upstream tokens): XChaCha20-Poly1305 with a random 24-byte nonce per
//! value, and the row's identity as associated data so a sealed value cannot be moved to
//! another row. The key lives outside the database (a file or the environment).

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand::RngCore as _;
use sha2::Sha256;

use crate::domain::token::RotationKey;

const NONCE_LEN: usize = 24;

/// The instance's encryption key. Every instance on one database needs the same one.
#[derive(Clone)]
pub struct EncryptionKey([u8; 32]);

#[derive(Debug, thiserror::Error)]
pub enum SecretBoxError {
    #[error("a sealed value could not be opened: wrong encryption key, or the row was altered")]
    Unsealable,
    #[error("the encryption key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("encryption key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
}

impl EncryptionKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self(key)
    }

    /// Parses the base64 form a key file or `LEASH_ENCRYPTION_KEY` holds.
    pub fn from_base64(raw: &str) -> Result<Self, SecretBoxError> {
        let bytes = STANDARD
            .decode(raw.trim())
            .map_err(|_| SecretBoxError::BadKey)?;
        Ok(Self(bytes.try_into().map_err(|_| SecretBoxError::BadKey)?))
    }

    /// Reads the key at `path`, or writes a fresh one there (readable by its owner only)
    /// if the file does not exist, so a first start needs no setup.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretBoxError> {
        let io = |source| SecretBoxError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(raw) => Self::from_base64(&raw),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                crate::private_file::create(path, &format!("{}\n", STANDARD.encode(key.0)))
                    .map_err(io)?;
                tracing::info!(path = %path.display(), "created a new encryption key");
                Ok(key)
            }
            Err(error) => Err(io(error)),
        }
    }

    /// The key rotated refresh and access tokens are derived with: HKDF-SHA256 of this
    /// key for that one purpose, so neither key reveals the other.
    pub fn rotation_key(&self) -> RotationKey {
        let mut okm = [0u8; 32];
        Hkdf::<Sha256>::new(None, &self.0)
            .expand(b"leash/v1/refresh-token-successors", &mut okm)
            .unwrap_or_else(|_| unreachable!("32 bytes is within HKDF-SHA256's output"));
        RotationKey::from_bytes(okm)
    }

    /// `nonce ‖ ciphertext ‖ tag` of `plaintext`, bound to `context` (the row it is for).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(&self.0.into());
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_else(|_| unreachable!("encryption fails only past 256 GiB"));
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// The plaintext of a value [`EncryptionKey::seal`] made for the same `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SecretBoxError> {
        if sealed.len() < NONCE_LEN {
            return Err(SecretBoxError::Unsealable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretBoxError::Unsealable)?;
        XChaCha20Poly1305::new(&self.0.into())
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretBoxError::Unsealable)
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_context() {
        let key = EncryptionKey::generate();
        let sealed = key.seal(b"whsec", "whe_1");
        assert!(!sealed.windows(5).any(|w| w == b"whsec"));
        assert_eq!(key.open(&sealed, "whe_1").unwrap(), b"whsec");
        assert!(key.open(&sealed, "whe_2").is_err());
        assert!(EncryptionKey::generate().open(&sealed, "whe_1").is_err());
        assert!(key.open(&sealed[..10], "whe_1").is_err());
    }

    #[test]
    fn a_key_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leash.key");
        let first = EncryptionKey::load_or_create(&path).unwrap();
        let again = EncryptionKey::load_or_create(&path).unwrap();
        assert_eq!(first.0, again.0);
        assert!(EncryptionKey::from_base64("c2hvcnQ=").is_err());
    }
}
