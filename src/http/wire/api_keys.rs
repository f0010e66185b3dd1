use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::api_key::{ApiKey, KeyStatus};
use crate::domain::id::ApiKeyId;
use crate::domain::pagination::Page;
use crate::domain::secret::Secret;
use crate::domain::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleBody {
    /// Everything administrative.
    Admin,
    /// Risk signals and selector revocations.
    Risk,
    /// Token introspection only.
    Introspect,
}

impl From<RoleBody> for crate::domain::api_key::Role {
    fn from(role: RoleBody) -> Self {
        use crate::domain::api_key::Role;
        match role {
            RoleBody::Admin => Role::Admin,
            RoleBody::Risk => Role::Risk,
            RoleBody::Introspect => Role::Introspect,
        }
    }
}

impl From<crate::domain::api_key::Role> for RoleBody {
    fn from(role: crate::domain::api_key::Role) -> Self {
        use crate::domain::api_key::Role;
        match role {
            Role::Admin => RoleBody::Admin,
            Role::Risk => RoleBody::Risk,
            Role::Introspect => RoleBody::Introspect,
        }
    }
}

/// Create an API key.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    pub role: RoleBody,
    /// When the key stops working (RFC 3339); in the future, within ten years. Never, when
    /// absent.
    #[schemars(pattern(text::DATE_TIME_PATTERN))]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyStatusBody {
    Active,
    Expired,
    Revoked,
}

/// An API key; never its secret.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ApiKeyBody {
    pub id: ApiKeyId,
    pub role: RoleBody,
    pub status: ApiKeyStatusBody,
    pub created_at: DateTime<Utc>,
    /// When it was last used, to within a minute; absent if never.
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyBody {
    pub fn new(key: ApiKey, now: DateTime<Utc>) -> Self {
        Self {
            status: match key.status(now) {
                KeyStatus::Active => ApiKeyStatusBody::Active,
                KeyStatus::Expired => ApiKeyStatusBody::Expired,
                KeyStatus::Revoked => ApiKeyStatusBody::Revoked,
            },
            id: key.id,
            role: key.role.into(),
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            expires_at: key.expires_at,
            revoked_at: key.revoked_at,
        }
    }
}

/// A new key and its secret (`leash_ak_…`), shown this once.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ApiKeyWithSecret {
    pub api_key: ApiKeyBody,
    pub secret: Secret,
}

/// One page of API keys, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ApiKeyList {
    pub data: Vec<ApiKeyBody>,
    pub next_cursor: Option<String>,
}

impl ApiKeyList {
    pub fn new(page: Page<ApiKey>, now: DateTime<Utc>) -> Self {
        Self {
            data: page
                .items
                .into_iter()
                .map(|k| ApiKeyBody::new(k, now))
                .collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}
