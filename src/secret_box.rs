//! Encryption at rest for secrets Leash must be able to read back (webhook signing
//! secrets, upstream tokens and the copies a disconnect keeps, PKCE verifiers):
//! XChaCha20-Poly1305 with a random 24-byte nonce per value, and the row's identity as
//! associated data so a sealed value cannot be moved to another row. Keys live outside
//! the database (a file or the environment).
//!
//! An instance holds a key set ([`EncryptionKeys`]): the current key, which seals, and
//! previous ones, which only open, so the key can be rotated while the service runs.
//! Each sealed value names the key that sealed it: `lk2\0 ‖ key id (8 bytes) ‖ nonce ‖
//! ciphertext ‖ tag`; values sealed before key ids existed (`nonce ‖ ciphertext ‖ tag`)
//! still open with any key of the set.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand::RngCore as _;
use sha2::Sha256;

use crate::domain::csrf::CsrfKey;
use crate::domain::token::RotationKey;

const NONCE_LEN: usize = 24;
/// What starts a value sealed with a key id.
const MAGIC: &[u8; 4] = b"lk2\0";
const KEY_ID_LEN: usize = 8;

/// The instance's encryption key. Every instance on one database needs the same one.
#[derive(Clone)]
pub struct EncryptionKey {
    bytes: [u8; 32],
    /// Derived once: every value opened looks its key up by id.
    id: KeyId,
}

/// A key's public name: derived from the key, so two keys never share one and the id
/// reveals nothing of the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    /// Its hex form, as stored and printed.
    pub fn parse(hex: &str) -> Option<Self> {
        if hex.len() != 2 * KEY_ID_LEN {
            return None;
        }
        let mut bytes = [0u8; KEY_ID_LEN];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(bytes))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretBoxError {
    #[error("a sealed value could not be opened: wrong encryption key, or the row was altered")]
    Unsealable,
    #[error(
        "a sealed value names encryption key {0}, which this instance does not hold: give it \
         that key (--previous-encryption-key-files) or the key set the other instances have"
    )]
    UnknownKey(KeyId),
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
        Self::from_bytes(key)
    }

    fn from_bytes(bytes: [u8; 32]) -> Self {
        let mut id = [0u8; KEY_ID_LEN];
        Hkdf::<Sha256>::new(None, &bytes)
            .expand(b"leash/v1/key-id", &mut id)
            .unwrap_or_else(|_| unreachable!("8 bytes is within HKDF-SHA256's output"));
        Self {
            bytes,
            id: KeyId(id),
        }
    }

    /// Parses the base64 form a key file or `LEASH_ENCRYPTION_KEY` holds.
    pub fn from_base64(raw: &str) -> Result<Self, SecretBoxError> {
        let bytes = STANDARD
            .decode(raw.trim())
            .map_err(|_| SecretBoxError::BadKey)?;
        Ok(Self::from_bytes(
            bytes.try_into().map_err(|_| SecretBoxError::BadKey)?,
        ))
    }

    /// Reads the key at `path`, which must exist.
    pub fn load(path: &Path) -> Result<Self, SecretBoxError> {
        let raw = std::fs::read_to_string(path).map_err(|source| SecretBoxError::KeyFile {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_base64(&raw)
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
                crate::private_file::create(path, &format!("{}\n", STANDARD.encode(key.bytes)))
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
        Hkdf::<Sha256>::new(None, &self.bytes)
            .expand(b"leash/v1/refresh-token-successors", &mut okm)
            .unwrap_or_else(|_| unreachable!("32 bytes is within HKDF-SHA256's output"));
        RotationKey::from_bytes(okm)
    }

    /// The key the self-service page's form tokens are made with: HKDF-SHA256 of this
    /// key for that one purpose.
    pub fn csrf_key(&self) -> CsrfKey {
        let mut okm = [0u8; 32];
        Hkdf::<Sha256>::new(None, &self.bytes)
            .expand(b"leash/v1/csrf", &mut okm)
            .unwrap_or_else(|_| unreachable!("32 bytes is within HKDF-SHA256's output"));
        CsrfKey::from_bytes(okm)
    }

    /// The key's id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// `nonce ‖ ciphertext ‖ tag` of `plaintext`, bound to `context` (the row it is for).
    fn seal_raw(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(&self.bytes.into());
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

    /// The plaintext of a value [`EncryptionKey::seal_raw`] made for the same `context`.
    fn open_raw(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SecretBoxError> {
        if sealed.len() < NONCE_LEN {
            return Err(SecretBoxError::Unsealable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretBoxError::Unsealable)?;
        XChaCha20Poly1305::new(&self.bytes.into())
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

/// The keys an instance holds: the current one seals, every one opens.
#[derive(Clone)]
pub struct EncryptionKeys {
    current: EncryptionKey,
    previous: Vec<EncryptionKey>,
}

impl EncryptionKeys {
    /// `current` seals; `previous` (older keys, during a rotation) only open.
    pub fn new(current: EncryptionKey, previous: Vec<EncryptionKey>) -> Self {
        let id = current.id();
        let mut previous = previous;
        previous.retain(|key| key.id() != id);
        Self { current, previous }
    }

    pub fn generate() -> Self {
        Self::new(EncryptionKey::generate(), Vec::new())
    }

    pub fn current_id(&self) -> KeyId {
        self.current.id()
    }

    /// Every key's id, the current one first.
    pub fn ids(&self) -> Vec<KeyId> {
        self.keys().map(EncryptionKey::id).collect()
    }

    fn keys(&self) -> impl Iterator<Item = &EncryptionKey> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// `plaintext` sealed with the current key, bound to `context` (the row it is for),
    /// naming the key.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&self.current.id().0);
        out.extend(self.current.seal_raw(plaintext, context));
        out
    }

    /// The plaintext of a value sealed for the same `context` with any key of the set.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SecretBoxError> {
        let named = Self::key_of(sealed);
        if let Some((id, body)) = named
            && let Some(key) = self.keys().find(|key| key.id() == id)
            && let Ok(plain) = key.open_raw(body, context)
        {
            return Ok(plain);
        }
        // Sealed before key ids existed (or, rarely, a nonce that starts like a name).
        if let Some(plain) = self
            .keys()
            .find_map(|key| key.open_raw(sealed, context).ok())
        {
            return Ok(plain);
        }
        match named {
            Some((id, _)) if !self.ids().contains(&id) => Err(SecretBoxError::UnknownKey(id)),
            _ => Err(SecretBoxError::Unsealable),
        }
    }

    /// Whether `sealed` was sealed with the current key (nothing to re-seal).
    pub fn is_current(&self, sealed: &[u8]) -> bool {
        Self::key_of(sealed).is_some_and(|(id, _)| id == self.current.id())
    }

    /// The key a value names, and the rest of it.
    fn key_of(sealed: &[u8]) -> Option<(KeyId, &[u8])> {
        let rest = sealed.strip_prefix(MAGIC.as_slice())?;
        let (id, body) = rest.split_at_checked(KEY_ID_LEN)?;
        Some((KeyId(id.try_into().ok()?), body))
    }

    /// The key refresh-token successors are derived with: the current key's.
    pub fn rotation_key(&self) -> RotationKey {
        self.current.rotation_key()
    }

    /// The key the self-service page's form tokens are made with: the current key's.
    pub fn csrf_key(&self) -> CsrfKey {
        self.current.csrf_key()
    }

    /// Every key's form-token key, the current one first: a page loaded before a key
    /// rotation still posts.
    pub fn csrf_keys(&self) -> Vec<CsrfKey> {
        self.keys().map(EncryptionKey::csrf_key).collect()
    }

    /// Every key's, the current one first: a refresh retried across a key rotation
    /// finds the successors its first attempt stored.
    pub fn rotation_keys(&self) -> Vec<RotationKey> {
        self.keys().map(EncryptionKey::rotation_key).collect()
    }
}

impl fmt::Debug for EncryptionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptionKeys({:?})", self.ids())
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
        let keys = EncryptionKeys::generate();
        let sealed = keys.seal(b"whsec", "whe_1");
        assert!(!sealed.windows(5).any(|w| w == b"whsec"));
        assert_eq!(keys.open(&sealed, "whe_1").unwrap(), b"whsec");
        assert!(keys.open(&sealed, "whe_2").is_err());
        assert!(matches!(
            EncryptionKeys::generate().open(&sealed, "whe_1"),
            Err(SecretBoxError::UnknownKey(id)) if id == keys.current_id()
        ));
        assert!(keys.open(&sealed[..10], "whe_1").is_err());
        assert!(keys.is_current(&sealed));
    }

    #[test]
    fn a_rotated_set_opens_what_its_previous_key_sealed_and_seals_with_the_new_one() {
        let old = EncryptionKey::generate();
        let before = EncryptionKeys::new(old.clone(), Vec::new());
        let sealed = before.seal(b"token", "con_1/access_token");
        let legacy = old.seal_raw(b"token", "con_1/access_token");
        let rotated = EncryptionKeys::new(EncryptionKey::generate(), vec![old]);
        assert_eq!(
            rotated.open(&sealed, "con_1/access_token").unwrap(),
            b"token"
        );
        assert_eq!(
            rotated.open(&legacy, "con_1/access_token").unwrap(),
            b"token"
        );
        assert!(!rotated.is_current(&sealed));
        let resealed = rotated.seal(b"token", "con_1/access_token");
        assert!(rotated.is_current(&resealed));
        assert!(before.open(&resealed, "con_1/access_token").is_err());
        assert_eq!(
            KeyId::parse(&rotated.current_id().to_string()),
            Some(rotated.current_id())
        );
    }

    #[test]
    fn a_key_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leash.key");
        let first = EncryptionKey::load_or_create(&path).unwrap();
        let again = EncryptionKey::load_or_create(&path).unwrap();
        assert_eq!(first.bytes, again.bytes);
        assert!(EncryptionKey::from_base64("c2hvcnQ=").is_err());
    }
}
