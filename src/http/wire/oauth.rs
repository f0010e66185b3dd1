use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::secret::Secret;

/// RFC 8693 token type of every token Leash exchanges and issues.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const REFRESH_TOKEN_GRANT: &str = "refresh_token";

/// A token request (form-encoded): RFC 8693 token exchange or RFC 6749 refresh. The
/// client authenticates with HTTP Basic or with `client_id` and `client_secret` here.
/// Parameters without a value count as absent; unknown parameters are ignored.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(transform = form_parameters)]
pub struct TokenRequest {
    #[schemars(required, extend("enum" = [TOKEN_EXCHANGE_GRANT, REFRESH_TOKEN_GRANT]))]
    pub grant_type: Option<String>,
    /// Token exchange: a user session token (`leash_ust_…`) to delegate from the user,
    /// or an agent access token (`leash_at_…`) to sub-delegate.
    pub subject_token: Option<Secret>,
    /// Token exchange: `urn:ietf:params:oauth:token-type:access_token`.
    pub subject_token_type: Option<String>,
    /// Token exchange: only `urn:ietf:params:oauth:token-type:access_token`.
    pub requested_token_type: Option<String>,
    /// Not supported: the authenticated client is the actor.
    pub actor_token: Option<Secret>,
    pub actor_token_type: Option<String>,
    /// Space-separated scopes; all the client may hold when absent.
    pub scope: Option<String>,
    /// Refresh: the refresh token (`leash_rt_…`).
    pub refresh_token: Option<Secret>,
    /// `client_secret_post`: the agent's id, with `client_secret`, instead of HTTP Basic.
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
}

/// A form parameter is text or absent, never `null`: the schema of a form says so, where
/// schemars would have an absent `Option` be a nullable string.
pub fn form_parameters(schema: &mut schemars::Schema) {
    let properties = schema
        .get_mut("properties")
        .and_then(serde_json::Value::as_object_mut);
    for property in properties.into_iter().flat_map(|p| p.values_mut()) {
        if let Some(property) = property.as_object_mut() {
            property.insert("type".to_owned(), "string".into());
        }
    }
}

/// RFC 6749 §5.1 / RFC 8693 §2.2.1 successful token response.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TokenResponse {
    /// `leash_at_…`.
    pub access_token: Secret,
    /// Present for a token exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<String>,
    pub token_type: String,
    pub expires_in: i64,
    pub scope: String,
    /// `leash_rt_…`; rotated on every refresh.
    pub refresh_token: Secret,
}

/// RFC 7009 §2.2: the answer to a revocation request, whatever the token was (an
/// unknown, dead or foreign token revokes nothing and is no error).
#[derive(Debug, Serialize, JsonSchema)]
pub struct TokenRevoked {}

/// RFC 7009 revocation request (form-encoded).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(transform = form_parameters)]
pub struct TokenRevocationRequest {
    /// An access or refresh token of the authenticated agent.
    #[schemars(required, length(min = 1))]
    pub token: Option<Secret>,
    /// Ignored: Leash tells its tokens apart by their prefix.
    pub token_type_hint: Option<String>,
    /// `client_secret_post`: the agent's id, with `client_secret`, instead of HTTP Basic.
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
}

/// RFC 6749 §5.2 error response.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `invalid_scope`,
    /// `unsupported_grant_type`, `consent_required`, `server_error` or
    /// `temporarily_unavailable`.
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}
