//! The audit log as the audit API lists it.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::pagination::{self, Page, PageSize};
use crate::domain::text;
use crate::usecase::audit;
use crate::usecase::audit::ListedAuditEntry;

/// Which entries to list: after a cursor, each filter an exact match.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAuditQuery {
    /// An API key id (`key_…`), an agent id, `operator` or `system`.
    #[schemars(length(min = 1, max = audit::FILTER_MAX_LEN), pattern(text::REQUIRED_PATTERN))]
    pub actor: Option<String>,
    /// The id acted on (`usr_…`, `whe_…`, …).
    #[schemars(length(min = 1, max = audit::FILTER_MAX_LEN), pattern(text::REQUIRED_PATTERN))]
    pub target: Option<String>,
    /// `user.disabled`, `webhook_endpoint.created`, …
    #[schemars(length(min = 1, max = audit::FILTER_MAX_LEN), pattern(text::REQUIRED_PATTERN))]
    pub action: Option<String>,
    /// The `next_cursor` of the previous page; from the oldest entry when absent.
    #[schemars(pattern(pagination::SEQ_PATTERN))]
    pub after: Option<String>,
    /// 1 to 200; default 50.
    #[schemars(range(min = 1, max = PageSize::MAX))]
    pub limit: Option<u32>,
}

/// One security-relevant act. Never holds a secret.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditEntryBody {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub cause: Option<String>,
    pub revocation_id: Option<String>,
    pub request_id: Option<String>,
    /// Its place in the hash chain; absent until sealed (within about a second).
    pub chain_position: Option<i64>,
    /// Hex SHA-256 of the previous entry's hash and this entry; absent until sealed.
    pub hash: Option<String>,
}

/// Audit entries, oldest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditList {
    pub data: Vec<AuditEntryBody>,
    pub next_cursor: Option<String>,
}

impl From<Page<ListedAuditEntry>> for AuditList {
    fn from(page: Page<ListedAuditEntry>) -> Self {
        Self {
            data: page
                .items
                .into_iter()
                .map(|e| AuditEntryBody {
                    at: e.at,
                    hash: e.hash.as_deref().map(hex),
                    id: e.id,
                    actor: e.actor,
                    action: e.action,
                    target: e.target,
                    cause: e.cause,
                    revocation_id: e.revocation_id,
                    request_id: e.request_id,
                    chain_position: e.chain_position,
                })
                .collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
