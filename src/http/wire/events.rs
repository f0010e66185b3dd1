//! Outbox events as the events API answers them (and webhooks will deliver them), and
//! the payload of each event type.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::revocations::RevocationCauseBody;
use crate::domain::event::{self, RecordedEvent};
use crate::domain::id::{AgentId, EventId, RevocationId, UserId, UserSessionId};
use crate::domain::pagination::{self, PageSize};
use crate::usecase::events::FeedPage;

/// Which session an event is about.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SessionRef {
    /// `user_session` or `agent_session`.
    pub kind: String,
    pub id: String,
}

/// `data` of a `user_session.revoked` event.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSessionRevokedData {
    pub session: SessionRef,
    pub user_id: UserId,
    pub revocation_id: RevocationId,
    pub cause: RevocationCauseBody,
    /// Who revoked it: an API key id (`key_…`), an agent (`agt_…`) or `operator`.
    pub actor: String,
}

/// A `user_session.revoked` event: one per revoked user session.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSessionRevokedEvent {
    pub id: EventId,
    /// Always `user_session.revoked`.
    pub r#type: String,
    pub created_at: DateTime<Utc>,
    pub data: UserSessionRevokedData,
}

/// `data` of an `agent_session.revoked` event.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSessionRevokedData {
    pub session: SessionRef,
    pub user_id: UserId,
    pub agent_id: AgentId,
    /// The user session at the root of its delegation tree.
    pub user_session_id: UserSessionId,
    /// The agents of the delegation chain, nearest first (`agent_id` first).
    pub chain: Vec<AgentId>,
    pub revocation_id: RevocationId,
    pub cause: RevocationCauseBody,
    /// Who revoked it: an API key id (`key_…`), an agent (`agt_…`) or `operator`.
    pub actor: String,
}

/// An `agent_session.revoked` event: one per revoked agent session, cascades included.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSessionRevokedEvent {
    pub id: EventId,
    /// Always `agent_session.revoked`.
    pub r#type: String,
    pub created_at: DateTime<Utc>,
    pub data: AgentSessionRevokedData,
}

/// Which events to list: after a cursor, of some types.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListEventsQuery {
    /// The `next_cursor` of the previous page; from the oldest event when absent.
    #[schemars(pattern(pagination::SEQ_PATTERN))]
    pub after: Option<String>,
    /// Comma-separated event types (`user_session.revoked,agent_session.revoked`).
    #[schemars(pattern(event::TYPE_LIST_PATTERN))]
    pub types: Option<String>,
    /// 1 to 200; default 50.
    #[schemars(range(min = 1, max = PageSize::MAX))]
    pub limit: Option<u32>,
}

/// An outbox event. `data` is the payload its type's schema describes
/// (`UserSessionRevokedEvent`, `AgentSessionRevokedEvent`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventBody {
    pub id: EventId,
    pub r#type: String,
    pub created_at: DateTime<Utc>,
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub data: serde_json::Value,
}

impl From<RecordedEvent> for EventBody {
    fn from(e: RecordedEvent) -> Self {
        Self {
            id: e.id,
            r#type: e.event_type,
            created_at: e.created_at,
            data: e.data,
        }
    }
}

/// Where a live stream starts and what it carries.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamEventsQuery {
    /// A cursor (an events page's `next_cursor`, or a streamed event's `id`); from the
    /// oldest event when absent. A `Last-Event-ID` header, as a reconnecting
    /// `EventSource` sends, takes precedence.
    #[schemars(pattern(pagination::SEQ_PATTERN))]
    pub after: Option<String>,
    /// Comma-separated event types; all when absent.
    #[schemars(pattern(event::TYPE_LIST_PATTERN))]
    pub types: Option<String>,
}

/// One page of events, oldest first, in the order they were written.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventList {
    pub data: Vec<EventBody>,
    /// After the last event of this page, whether or not more follow: keep it and ask
    /// again with `after` for what is written later. Null when the page is empty (ask
    /// again with the same `after`).
    pub next_cursor: Option<String>,
    /// Whether more events were already waiting after this page.
    pub has_more: bool,
}

impl From<FeedPage> for EventList {
    fn from(page: FeedPage) -> Self {
        Self {
            data: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next.map(|c| c.encode()),
            has_more: page.has_more,
        }
    }
}
