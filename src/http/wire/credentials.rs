use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::credential::Credential;
use crate::domain::id::{ConnectionId, RevocationId, UserId};
use crate::domain::provider::ID_PATTERN;
use crate::domain::secret::Secret;

use super::connections::ReceiptLine;

/// An agent asks for the upstream credential of a provider.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VendRequest {
    /// A configured provider's id.
    #[schemars(pattern(ID_PATTERN))]
    pub provider: String,
}

/// The person's upstream access token, for an agent session holding the provider's
/// scopes. Use it against the provider's API as it is; never store it beyond
/// `expires_at`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CredentialBody {
    pub access_token: Secret,
    /// Always `Bearer`.
    pub token_type: String,
    /// When the provider said it expires; absent when it did not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The upstream scopes (as the provider names them) this session may use it for:
    /// those the connection grants that the session holds as `provider:scope`.
    pub scopes: Vec<String>,
}

impl From<Credential> for CredentialBody {
    fn from(credential: Credential) -> Self {
        Self {
            access_token: credential.access_token,
            token_type: "Bearer".to_owned(),
            expires_at: credential.expires_at,
            scopes: credential.scopes,
        }
    }
}

/// `data` of a `connection.needs_reauthorization` event.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionNeedsReauthorizationData {
    pub connection_id: ConnectionId,
    pub user_id: UserId,
    pub provider: String,
    /// The act that revoked the sessions that could use the connection.
    pub revocation_id: RevocationId,
    /// Empty: the provider already refused the grant, nothing is owed to it.
    pub revocation_receipt: Vec<ReceiptLine>,
}

/// A `connection.needs_reauthorization` event: the provider refused the connection's
/// grant (`invalid_grant` on refresh); its sessions were revoked, its tokens destroyed,
/// and the person must connect again.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionNeedsReauthorizationEvent {
    pub id: crate::domain::id::EventId,
    /// Always `connection.needs_reauthorization`.
    pub r#type: String,
    pub created_at: DateTime<Utc>,
    pub data: ConnectionNeedsReauthorizationData,
}
