//! Outbox event types. Every state change a caller must hear of writes one event row in
//! the same transaction; delivery (webhooks, the events API) reads the outbox.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    UserSessionRevoked,
    AgentSessionRevoked,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserSessionRevoked => "user_session.revoked",
            EventType::AgentSessionRevoked => "agent_session.revoked",
        }
    }
}
