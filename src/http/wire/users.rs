use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::id::UserId;
use crate::domain::text;
use crate::domain::user::{NewUser, User, UserStatus};

/// The host application tells Leash about a human.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// The host application's own id for this human (1–255 characters).
    #[schemars(length(min = 1, max = NewUser::MAX_EXTERNAL_ID), pattern(text::REQUIRED_PATTERN))]
    pub external_id: String,
    #[schemars(length(min = 1, max = NewUser::MAX_EMAIL), pattern(text::REQUIRED_PATTERN))]
    pub email: Option<String>,
    #[schemars(length(max = NewUser::MAX_DISPLAY_NAME), pattern(text::PATTERN))]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatusBody {
    Active,
    Disabled,
}

/// A human, as Leash knows them.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UserBody {
    pub id: UserId,
    pub external_id: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub status: UserStatusBody,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<User> for UserBody {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            external_id: user.external_id,
            email: user.email,
            display_name: user.display_name,
            status: match user.status {
                UserStatus::Active => UserStatusBody::Active,
                UserStatus::Disabled => UserStatusBody::Disabled,
            },
            created_at: user.created_at,
            disabled_at: user.disabled_at,
        }
    }
}
