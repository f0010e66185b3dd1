//! An upstream OAuth provider as the operator configured it (`[[providers]]` in the
//! configuration file): where its endpoints are, how Leash authenticates to it, and
//! what it asks for by default. Its id qualifies the scopes grants name for it
//! (`github:repo` is the upstream scope `repo` of the provider `github`).

use std::fmt;

use url::Url;

use super::scope::Scope;
use super::secret::Secret;

/// A provider's id: lowercase ASCII letters, digits, `-` and `_`, starting with a
/// letter, at most 32 characters (it prefixes scopes, so never a `:`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderId(String);

/// A provider id as a JSON Schema pattern.
pub const ID_PATTERN: &str = "^[a-z][a-z0-9_-]{0,31}$";

impl ProviderId {
    pub fn parse(raw: &str) -> Option<Self> {
        let mut bytes = raw.bytes();
        let first_is_letter = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
        let rest_allowed =
            bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        (first_is_letter && rest_allowed && raw.len() <= 32).then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The scope grants name for this provider's upstream scope `upstream`
    /// (`github:repo`), or `None` when the upstream name cannot be one.
    pub fn scope(&self, upstream: &str) -> Option<Scope> {
        Scope::parse(&format!("{}:{upstream}", self.0)).ok()
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How Leash proves itself at the provider's token and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAuthMethod {
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1, the default).
    ClientSecretBasic,
    /// The client id and secret as form parameters.
    ClientSecretPost,
}

impl TokenAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }
}

/// Whether an authorization carries a PKCE challenge (RFC 7636).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkce {
    /// `S256`, the default: every provider that knows PKCE knows it.
    S256,
    /// No challenge, for a provider that refuses one.
    None,
}

impl Pkce {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::None => "none",
        }
    }
}

/// One configured provider.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: ProviderId,
    pub authorization_url: Url,
    pub token_url: Url,
    /// RFC 7009 revocation; without it a disconnect destroys the tokens Leash holds and
    /// records that the provider could not be asked to revoke them.
    pub revocation_url: Option<Url>,
    /// The provider's issuer identifier: when set, an authorization response must carry
    /// it as `iss` (RFC 9207, against mix-up attacks).
    pub issuer: Option<String>,
    pub client_id: String,
    pub client_secret: Secret,
    /// The upstream scopes asked for when a connect names none.
    pub scopes: Vec<String>,
    /// What joins scopes in the provider's `scope` parameter (a space, per RFC 6749;
    /// some providers use a comma).
    pub scope_separator: String,
    pub pkce: Pkce,
    pub token_auth_method: TokenAuthMethod,
    /// Whether the provider may be on a loopback or private address (an operator's own
    /// provider); off by default.
    pub allow_private_network: bool,
    /// Certificates (PEM) trusted for this provider besides the system's roots.
    pub extra_roots_pem: Option<Vec<u8>>,
}

/// Upstream scope tokens as RFC 6749 §3.3 defines them: printable ASCII without space,
/// `"` or `\`.
pub fn is_scope_token(raw: &str) -> bool {
    !raw.is_empty()
        && raw
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_ids_are_short_lowercase_names_that_cannot_hold_a_colon() {
        for good in ["github", "google", "acme-2", "a", "x_y"] {
            assert!(ProviderId::parse(good).is_some(), "{good}");
        }
        for bad in [
            "",
            "GitHub",
            "2fa",
            "git:hub",
            "git hub",
            "-x",
            &"a".repeat(33),
        ] {
            assert!(ProviderId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn scope_tokens_are_rfc_6749s() {
        assert!(is_scope_token("repo"));
        assert!(is_scope_token(
            "https://www.googleapis.com/auth/calendar.readonly"
        ));
        assert!(!is_scope_token(""));
        assert!(!is_scope_token("a b"));
        assert!(!is_scope_token("a\"b"));
    }
}
