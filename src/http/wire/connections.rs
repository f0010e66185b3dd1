use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::revocations::{PreviewBody, RevocationBody};
use crate::domain::connection::{
    Connection, ConnectionStatus, Receipt, ReceiptStatus, UpstreamToken,
};
use crate::domain::id::{ConnectionId, EventId, RevocationId, UserId};
use crate::domain::pagination::Page;
use crate::domain::provider;
use crate::domain::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatusBody {
    Connected,
    /// The provider refused its refresh token: the user must connect again.
    NeedsReauthorization,
    Disconnected,
}

impl From<ConnectionStatus> for ConnectionStatusBody {
    fn from(status: ConnectionStatus) -> Self {
        match status {
            ConnectionStatus::Connected => Self::Connected,
            ConnectionStatus::NeedsReauthorization => Self::NeedsReauthorization,
            ConnectionStatus::Disconnected => Self::Disconnected,
        }
    }
}

/// A user's connection to an upstream provider. Never a token.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnectionBody {
    pub id: ConnectionId,
    pub user_id: UserId,
    /// The configured provider's id.
    #[schemars(pattern(provider::ID_PATTERN))]
    pub provider: String,
    pub status: ConnectionStatusBody,
    /// The upstream scopes the provider granted (not those asked for).
    pub granted_scopes: Vec<String>,
    pub connected_at: DateTime<Utc>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    /// When the upstream access token Leash holds expires, if the provider said.
    pub token_expires_at: Option<DateTime<Utc>>,
    pub disconnected_at: Option<DateTime<Utc>>,
    /// After a disconnect: what became of asking the provider to revoke each token.
    /// Empty before.
    pub revocation_receipt: Vec<ReceiptBody>,
}

/// Which of a connection's tokens (its kind, never the token itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamTokenBody {
    AccessToken,
    RefreshToken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatusBody {
    /// Not yet answered; asked again at `next_attempt_at`.
    Pending,
    /// The provider revoked it.
    Revoked,
    /// The provider has no revocation endpoint, or cannot revoke this kind of token.
    NotSupported,
    /// The provider never answered usefully, through the last retry (`last_answer`).
    Failed,
}

/// One token of a disconnect's receipt.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReceiptBody {
    pub token: UpstreamTokenBody,
    pub status: ReceiptStatusBody,
    /// Times the provider was asked.
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The provider's last answer, or why none came.
    pub last_answer: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Receipt> for ReceiptBody {
    fn from(r: Receipt) -> Self {
        Self {
            token: match r.token {
                UpstreamToken::Access => UpstreamTokenBody::AccessToken,
                UpstreamToken::Refresh => UpstreamTokenBody::RefreshToken,
            },
            status: match r.status {
                ReceiptStatus::Pending => ReceiptStatusBody::Pending,
                ReceiptStatus::Revoked => ReceiptStatusBody::Revoked,
                ReceiptStatus::NotSupported => ReceiptStatusBody::NotSupported,
                ReceiptStatus::Failed => ReceiptStatusBody::Failed,
            },
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_answer: r.last_answer,
            finished_at: r.finished_at,
        }
    }
}

/// Disconnect, or with `dry_run=true` only show what a disconnect would revoke.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisconnectQuery {
    pub dry_run: Option<bool>,
}

/// What a disconnect did (or, on a dry run, would do).
#[derive(Debug, Serialize, JsonSchema)]
pub struct DisconnectAnswer {
    /// The connection after the act (as it is, on a dry run), with its receipt.
    pub connection: ConnectionBody,
    /// The act's revocation; absent on a dry run, and when the connection was already
    /// disconnected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation: Option<RevocationBody>,
    /// A dry run's answer: what the disconnect would revoke.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_revoke: Option<PreviewBody>,
}

impl From<Connection> for ConnectionBody {
    fn from(c: Connection) -> Self {
        Self {
            id: c.id,
            user_id: c.user_id,
            provider: c.provider.to_string(),
            status: c.status.into(),
            granted_scopes: c.granted_scopes,
            connected_at: c.connected_at,
            last_refreshed_at: c.last_refreshed_at,
            token_expires_at: c.token_expires_at,
            disconnected_at: c.disconnected_at,
            revocation_receipt: c.receipt.into_iter().map(Into::into).collect(),
        }
    }
}

/// One page of a user's connections, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnectionList {
    pub data: Vec<ConnectionBody>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl From<Page<Connection>> for ConnectionList {
    fn from(page: Page<Connection>) -> Self {
        Self {
            data: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}

/// Start connecting a provider.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeQuery {
    /// Upstream scopes to ask for, space-separated (the provider's defaults when absent).
    #[schemars(
        length(min = 1, max = 4096),
        pattern(r"^[!#-\[\]-~]+( [!#-\[\]-~]+)*$")
    )]
    pub scopes: Option<String>,
    /// Where to send the person afterwards: an absolute URL on Leash's origin or an
    /// allowed one (`return_to_origins`). Without it, Leash shows a page.
    #[schemars(length(max = 2048), url)]
    pub return_to: Option<String>,
}

/// What a provider sends the person's browser back with (RFC 6749 §4.1.2, RFC 9207).
/// Other parameters are ignored. The state and the code are secrets: they never print.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct CallbackQuery {
    #[schemars(length(max = 256))]
    pub state: Option<Secret>,
    #[schemars(length(max = 4096))]
    pub code: Option<Secret>,
    #[schemars(length(max = 2048))]
    pub iss: Option<String>,
    #[schemars(length(max = 256))]
    pub error: Option<String>,
    #[schemars(length(max = 2048))]
    pub error_description: Option<String>,
}

/// One token of a receipt, as the connection events carry it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLine {
    /// Which token (its kind, never the token).
    pub token: UpstreamTokenBody,
    pub status: ReceiptStatusBody,
    pub attempts: u32,
    pub last_answer: Option<String>,
}

/// `data` of a `connection.disconnected` event.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionDisconnectedData {
    pub connection_id: ConnectionId,
    pub user_id: UserId,
    pub provider: String,
    /// The act that revoked the sessions that could use the connection.
    pub revocation_id: RevocationId,
    /// Who disconnected it: an API key id (`key_…`) or `operator`.
    pub actor: String,
    /// The receipt as it starts (`pending` while the provider has yet to answer).
    pub revocation_receipt: Vec<ReceiptLine>,
}

/// A `connection.disconnected` event.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionDisconnectedEvent {
    pub id: EventId,
    /// Always `connection.disconnected`.
    pub r#type: String,
    pub created_at: DateTime<Utc>,
    pub data: ConnectionDisconnectedData,
}

/// `data` of a `connection.upstream_revoked` event: the final receipt.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionUpstreamRevokedData {
    pub connection_id: ConnectionId,
    pub user_id: UserId,
    pub provider: String,
    /// No line is `pending` any more.
    pub revocation_receipt: Vec<ReceiptLine>,
}

/// A `connection.upstream_revoked` event: every token of a disconnected connection was
/// revoked at the provider, or could not be.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionUpstreamRevokedEvent {
    pub id: EventId,
    /// Always `connection.upstream_revoked`.
    pub r#type: String,
    pub created_at: DateTime<Utc>,
    pub data: ConnectionUpstreamRevokedData,
}
