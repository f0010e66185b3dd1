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
    /// A connection to a provider was disconnected.
    ConnectionDisconnected,
    /// The provider was asked about every token of a disconnected connection: the
    /// receipt is final.
    ConnectionUpstreamRevoked,
    /// The provider refused the connection's grant: its sessions were revoked and the
    /// person must connect again.
    ConnectionNeedsReauthorization,
    /// A security system's risk signal was received and the risk policy applied.
    RiskSignalProcessed,
}

/// One event type's name, as the API declares it (`event_types` of a webhook endpoint).
pub const TYPE_PATTERN: &str = r"^(user_session\.revoked|agent_session\.revoked|webhook_endpoint\.disabled|connection\.disconnected|connection\.upstream_revoked|connection\.needs_reauthorization|risk_signal\.processed)$";
/// Event type names, comma-separated, as the events API's `types` takes them.
pub const TYPE_LIST_PATTERN: &str = r"^(user_session\.revoked|agent_session\.revoked|webhook_endpoint\.disabled|connection\.disconnected|connection\.upstream_revoked|connection\.needs_reauthorization|risk_signal\.processed)(,(user_session\.revoked|agent_session\.revoked|webhook_endpoint\.disabled|connection\.disconnected|connection\.upstream_revoked|connection\.needs_reauthorization|risk_signal\.processed))*$";

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::UserSessionRevoked,
        EventType::AgentSessionRevoked,
        EventType::WebhookEndpointDisabled,
        EventType::ConnectionDisconnected,
        EventType::ConnectionUpstreamRevoked,
        EventType::ConnectionNeedsReauthorization,
        EventType::RiskSignalProcessed,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserSessionRevoked => "user_session.revoked",
            EventType::AgentSessionRevoked => "agent_session.revoked",
            EventType::WebhookEndpointDisabled => "webhook_endpoint.disabled",
            EventType::ConnectionDisconnected => "connection.disconnected",
            EventType::ConnectionUpstreamRevoked => "connection.upstream_revoked",
            EventType::ConnectionNeedsReauthorization => "connection.needs_reauthorization",
            EventType::RiskSignalProcessed => "risk_signal.processed",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_patterns_name_every_type_and_no_other() {
        let names = EventType::ALL
            .map(|t| t.as_str().replace('.', r"\."))
            .join("|");
        assert_eq!(TYPE_PATTERN, format!("^({names})$"));
        assert_eq!(TYPE_LIST_PATTERN, format!("^({names})(,({names}))*$"));
    }
}
