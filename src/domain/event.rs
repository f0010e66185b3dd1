//! Outbox event types. Every state change a caller must hear of writes one event row in
//! the same transaction; delivery (webhooks, the events API) reads the outbox.

use chrono::{DateTime, Utc};

use super::id::EventId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    UserSessionRevoked,
    AgentSessionRevoked,
    /// A webhook endpoint was disabled because a delivery ran out of retries.
    WebhookEndpointDisabled,
}

impl EventType {
    pub const ALL: [EventType; 3] = [
        EventType::UserSessionRevoked,
        EventType::AgentSessionRevoked,
        EventType::WebhookEndpointDisabled,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserSessionRevoked => "user_session.revoked",
            EventType::AgentSessionRevoked => "agent_session.revoked",
            EventType::WebhookEndpointDisabled => "webhook_endpoint.disabled",
        }
    }
}

/// An event as the outbox holds it: its place in the feed (`seq`), and its data as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub seq: i64,
    pub id: EventId,
    pub event_type: String,
    pub created_at: DateTime<Utc>,
    pub data: serde_json::Value,
}
