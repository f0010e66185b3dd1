//! Webhook endpoints, their attempts, and the `webhook_endpoint.disabled` event.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::event;
use crate::domain::id::{EventId, WebhookEndpointId};
use crate::domain::pagination::Page;
use crate::domain::secret::Secret;
use crate::domain::text;
use crate::domain::webhook;
use crate::domain::webhook::Attempt;
use crate::domain::webhook::{Endpoint, EndpointStatus};
use crate::usecase::webhook_endpoints::MAX_ROTATION_OVERLAP;

/// A URL to receive signed events.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpointRequest {
    /// An http(s) URL. Loopback, private and link-local targets are refused unless the
    /// instance allows them (`--webhook-allow-private-targets`).
    #[schemars(length(max = webhook::URL_MAX_LEN), pattern(webhook::URL_PATTERN))]
    pub url: String,
    /// The event types to receive (`user_session.revoked`, …); absent or empty for all.
    #[schemars(inner(pattern(event::TYPE_PATTERN)))]
    pub event_types: Option<Vec<String>>,
    /// Up to 500 characters, for people.
    #[schemars(length(max = webhook::DESCRIPTION_MAX_LEN), pattern(text::PATTERN))]
    pub description: Option<String>,
}

/// Changes to an endpoint; absent fields stay as they are.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookEndpointRequest {
    #[schemars(length(max = webhook::URL_MAX_LEN), pattern(webhook::URL_PATTERN))]
    pub url: Option<String>,
    /// The event types to receive; empty for all.
    #[schemars(inner(pattern(event::TYPE_PATTERN)))]
    pub event_types: Option<Vec<String>>,
    /// An empty string clears it.
    #[schemars(length(max = webhook::DESCRIPTION_MAX_LEN), pattern(text::PATTERN))]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookEndpointStatusBody {
    /// Deliveries go out.
    Active,
    /// Deliveries go out, but the last five or more attempts failed.
    Failing,
    /// Nothing is sent: disabled by an admin, or a delivery ran out of retries.
    Disabled,
}

/// A webhook endpoint. Its signing secret is shown only when created or rotated.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookEndpointBody {
    pub id: WebhookEndpointId,
    pub url: String,
    pub description: Option<String>,
    /// The event types it receives; empty for all.
    pub event_types: Vec<String>,
    pub status: WebhookEndpointStatusBody,
    /// Failed attempts since the last success.
    pub consecutive_failures: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs beside the new one.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

impl From<Endpoint> for WebhookEndpointBody {
    fn from(e: Endpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            description: e.description,
            event_types: e
                .event_types
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            status: match e.status {
                EndpointStatus::Active => WebhookEndpointStatusBody::Active,
                EndpointStatus::Failing => WebhookEndpointStatusBody::Failing,
                EndpointStatus::Disabled => WebhookEndpointStatusBody::Disabled,
            },
            consecutive_failures: e.consecutive_failures,
            created_at: e.created_at,
            updated_at: e.updated_at,
            disabled_at: e.disabled_at,
            previous_secret_expires_at: e.previous_secret_expires_at,
        }
    }
}

/// An endpoint with its signing secret (`whsec_…`), shown this once. Verify each
/// message's `webhook-signature` with it (Standard Webhooks).
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookEndpointWithSecret {
    pub endpoint: WebhookEndpointBody,
    pub secret: Secret,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookEndpointList {
    pub data: Vec<WebhookEndpointBody>,
    pub next_cursor: Option<String>,
}

impl From<Page<Endpoint>> for WebhookEndpointList {
    fn from(page: Page<Endpoint>) -> Self {
        Self {
            data: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}

/// Replace the signing secret.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateWebhookSecretRequest {
    /// How long the old secret keeps signing beside the new one: 0 to 604800 seconds
    /// (default 86400).
    #[schemars(range(min = 0, max = MAX_ROTATION_OVERLAP.num_seconds()))]
    pub overlap_seconds: Option<i64>,
}

/// Send again every retained event since a time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Events written at or after this time (RFC 3339) are sent again; none, if it is
    /// still ahead.
    #[schemars(pattern(text::DATE_TIME_PATTERN))]
    pub since: DateTime<Utc>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ReplayQueued {
    /// New deliveries, due now.
    pub deliveries_queued: u64,
}

/// One HTTP request of a delivery.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookAttemptBody {
    pub id: String,
    pub delivery_id: String,
    /// The event sent; also its `webhook-id` header.
    pub event_id: EventId,
    /// 1 for the first attempt of the delivery.
    pub attempt: i64,
    pub attempted_at: DateTime<Utc>,
    /// The answer's status, absent when none came (refused, timed out).
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub error: Option<String>,
}

/// An endpoint's attempts, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookAttemptList {
    pub data: Vec<WebhookAttemptBody>,
    pub next_cursor: Option<String>,
}

impl From<Page<Attempt>> for WebhookAttemptList {
    fn from(page: Page<Attempt>) -> Self {
        Self {
            data: page
                .items
                .into_iter()
                .map(|a| WebhookAttemptBody {
                    attempted_at: a.attempted_at,
                    id: a.id,
                    delivery_id: a.delivery_id,
                    event_id: a.event_id,
                    attempt: a.attempt,
                    status_code: a.status_code,
                    duration_ms: a.duration_ms,
                    error: a.error,
                })
                .collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}

/// `data` of a `webhook_endpoint.disabled` event.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointDisabledData {
    pub endpoint_id: WebhookEndpointId,
    /// `retries_exhausted` (a delivery's last retry failed) or `admin`.
    pub reason: String,
    /// Who disabled it: an API key id (`key_…`), `operator` or `system`.
    pub actor: String,
}

/// A `webhook_endpoint.disabled` event.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointDisabledEvent {
    pub id: EventId,
    /// Always `webhook_endpoint.disabled`.
    pub r#type: String,
    pub created_at: DateTime<Utc>,
    pub data: WebhookEndpointDisabledData,
}
