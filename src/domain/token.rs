//! Bearer secrets Leash hands out (user session tokens, API keys, client secrets, agent
//! access and refresh tokens) and the hashes it keeps of them. A secret is shown once, when it is created; only its SHA-256 is stored. The
//! secrets are 256 random bits, so a fast hash is enough: there is nothing to brute-force.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// What a secret is for; its prefix makes leaked ones findable by secret scanners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    UserSession,
    ApiKey,
    /// An agent's client secret.
    ClientSecret,
    /// An agent session's short-lived access token.
    AccessToken,
    /// An agent session's refresh token; each use rotates it.
    RefreshToken,
    /// The `state` of an authorization at an upstream provider.
    OAuthState,
    /// A one-time login link to the self-service page.
    LoginLink,
    /// The session cookie a login link sets: the person's browser, as their user
    /// session, on the self-service page.
    SessionCookie,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::UserSession => "leash_ust_",
            TokenKind::ApiKey => "leash_ak_",
            TokenKind::ClientSecret => "leash_cs_",
            TokenKind::AccessToken => "leash_at_",
            TokenKind::RefreshToken => "leash_rt_",
            TokenKind::OAuthState => "leash_os_",
            TokenKind::LoginLink => "leash_ll_",
            TokenKind::SessionCookie => "leash_usc_",
        }
    }
}

/// A secret in plain text. It does not print: `Debug` shows only its kind.
pub struct SecretToken {
    kind: TokenKind,
    value: String,
}

impl SecretToken {
    /// A fresh secret of `kind`: its prefix and 32 random bytes, base64url.
    pub fn generate(kind: TokenKind) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self {
            kind,
            value: format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes)),
        }
    }

    /// The access and refresh tokens that succeed `refresh_token` when it is rotated:
    /// HMAC-SHA256 of the old refresh token keyed by the server's [`RotationKey`]. A retry
    /// of the same refresh within the grace window gets the same pair back without Leash
    /// ever storing a token in plain text, and nobody without the server's key, however
    /// many tokens of the family they once held, can compute a successor.
    pub fn successors(key: &RotationKey, refresh_token: &str) -> (Self, Self) {
        let derive = |kind: TokenKind| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&key.0)
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
            mac.update(kind.prefix().as_bytes());
            mac.update(refresh_token.as_bytes());
            Self {
                kind,
                value: format!(
                    "{}{}",
                    kind.prefix(),
                    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
                ),
            }
        };
        (
            derive(TokenKind::AccessToken),
            derive(TokenKind::RefreshToken),
        )
    }

    /// The secret itself, to hand to its owner once.
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.value)
    }

    pub fn into_exposed(self) -> String {
        self.value
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretToken({:?}, <redacted>)", self.kind)
    }
}

/// The server-side key that rotated tokens are derived with: a sub-key of the instance's
/// encryption key (the same on every instance of one database), never shown to anyone.
#[derive(Clone)]
pub struct RotationKey([u8; 32]);

impl RotationKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for RotationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RotationKey(<redacted>)")
    }
}

/// SHA-256 of a secret: what the database stores and what lookups use.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time comparison, for checking a presented secret against a stored hash.
    pub fn matches(&self, other: &TokenHash) -> bool {
        use subtle::ConstantTimeEq as _;
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_carries_its_prefix_and_never_prints() {
        let token = SecretToken::generate(TokenKind::UserSession);
        assert!(token.expose().starts_with("leash_ust_"));
        assert!(!format!("{token:?}").contains(token.expose()));
        assert!(token.hash().matches(&TokenHash::of(token.expose())));
        assert!(!token.hash().matches(&TokenHash::of("leash_ust_other")));
    }

    #[test]
    fn successors_are_fixed_by_the_refresh_token_and_differ_between_tokens() {
        let key = RotationKey([7; 32]);
        assert_eq!(format!("{key:?}"), "RotationKey(<redacted>)");
        let refresh = SecretToken::generate(TokenKind::RefreshToken);
        let (access, next) = SecretToken::successors(&key, refresh.expose());
        let (again_access, again_next) = SecretToken::successors(&key, refresh.expose());
        assert_eq!(access.expose(), again_access.expose());
        assert_eq!(next.expose(), again_next.expose());
        assert!(access.expose().starts_with("leash_at_"));
        assert!(next.expose().starts_with("leash_rt_"));
        assert_ne!(next.expose(), refresh.expose());
        let other = SecretToken::generate(TokenKind::RefreshToken);
        assert_ne!(
            SecretToken::successors(&key, other.expose()).1.expose(),
            next.expose()
        );
    }

    /// The defect this guards against: successors keyed by the old refresh token alone
    /// let whoever held one token of a family compute every later one offline.
    #[test]
    fn successors_cannot_be_computed_without_the_server_key() {
        let refresh = SecretToken::generate(TokenKind::RefreshToken);
        let (_, next) = SecretToken::successors(&RotationKey([7; 32]), refresh.expose());
        let (_, guessed) = SecretToken::successors(&RotationKey([8; 32]), refresh.expose());
        assert_ne!(next.expose(), guessed.expose());
        let mut mac = Hmac::<Sha256>::new_from_slice(refresh.expose().as_bytes()).unwrap();
        mac.update(TokenKind::RefreshToken.prefix().as_bytes());
        let offline = format!(
            "{}{}",
            TokenKind::RefreshToken.prefix(),
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        );
        assert_ne!(next.expose(), offline);
        assert!(!format!("{:?}", RotationKey([7; 32])).contains('7'));
    }
}
