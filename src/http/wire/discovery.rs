//! RFC 8414 authorization server metadata.

use schemars::JsonSchema;
use serde::Serialize;

use super::oauth::{REFRESH_TOKEN_GRANT, TOKEN_EXCHANGE_GRANT};
use crate::domain::secret::Secret;

/// Client authentication at the token and revocation endpoints: HTTP Basic, or the
/// client's id and secret in the form.
const CLIENT_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// RFC 8414 §2 authorization server metadata. Leash issues tokens by exchange and
/// refresh only: it has no authorization endpoint, so it supports no response type.
/// Introspection takes an API key (role `introspect` or `admin`) as a bearer token, for
/// which RFC 8414 registers no client authentication method, so it is not listed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuthorizationServerMetadata {
    /// Leash's externally visible base URL (`public_url`).
    pub issuer: String,
    /// Where agents exchange and refresh tokens.
    // A `Secret` only so that no field named for tokens ever prints: `Debug` redacts
    // it; it serialises as the URL.
    pub token_endpoint: Secret,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub grant_types_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
}

impl AuthorizationServerMetadata {
    /// The metadata of a Leash reached at `public_url` (no trailing slash).
    pub fn at(public_url: &str) -> Self {
        let endpoint = |path: &str| format!("{public_url}{path}");
        Self {
            issuer: public_url.to_owned(),
            token_endpoint: Secret::new(endpoint("/oauth2/token")),
            introspection_endpoint: endpoint("/oauth2/introspect"),
            revocation_endpoint: endpoint("/oauth2/revoke"),
            grant_types_supported: vec![TOKEN_EXCHANGE_GRANT, REFRESH_TOKEN_GRANT],
            response_types_supported: Vec::new(),
            token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
            revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_prints_no_token_field() {
        let metadata = AuthorizationServerMetadata::at("https://leash.example.com");
        assert!(!format!("{metadata:?}").contains("/oauth2/token"));
        assert_eq!(
            serde_json::to_value(&metadata).unwrap()["token_endpoint"],
            "https://leash.example.com/oauth2/token"
        );
    }
}
