//! The token every form of the self-service page carries: an HMAC of the user session's
//! id under a server key (a sub-key of the instance's encryption key), so a page of
//! another site cannot know it, and another session's token does not fit this one.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use super::id::UserSessionId;

/// The server-side key form tokens are made with; never shown to anyone.
#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(<redacted>)")
    }
}

impl CsrfKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The token of `session`'s forms.
    pub fn token_for(&self, session: &UserSessionId) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(b"leash/v1/csrf/");
        mac.update(session.as_str().as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// Whether `presented` is `session`'s token under one of `keys` (the current key's, or
/// an earlier one's during a key rotation).
pub fn fits(keys: &[CsrfKey], session: &UserSessionId, presented: &str) -> bool {
    keys.iter().any(|key| {
        key.token_for(session)
            .as_bytes()
            .ct_eq(presented.as_bytes())
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_fits_its_session_under_its_key_only() {
        let key = CsrfKey::from_bytes([7; 32]);
        let (mine, theirs) = (UserSessionId::generate(), UserSessionId::generate());
        let token = key.token_for(&mine);
        assert!(fits(std::slice::from_ref(&key), &mine, &token));
        assert!(!fits(std::slice::from_ref(&key), &theirs, &token));
        assert!(!fits(&[CsrfKey::from_bytes([8; 32])], &mine, &token));
        assert!(fits(
            &[CsrfKey::from_bytes([8; 32]), key.clone()],
            &mine,
            &token
        ));
        assert!(!fits(&[key], &mine, ""));
    }
}
