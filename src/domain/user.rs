//! A human, keyed by the host application's `external_id`.

use chrono::{DateTime, Utc};

use super::id::UserId;
use super::text::{self, TextRefused};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    /// Offboarded or deactivated: every session was revoked and no new one is created
    /// until the user is enabled again.
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [UserStatus::Active, UserStatus::Disabled]
            .into_iter()
            .find(|status| status.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub external_id: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A user the host application asked for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub external_id: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
}

/// Which field of a new user was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct UserFieldRefused {
    pub field: &'static str,
    pub reason: TextRefused,
}

impl NewUser {
    pub const MAX_EXTERNAL_ID: usize = 255;
    pub const MAX_EMAIL: usize = 320;
    pub const MAX_DISPLAY_NAME: usize = 200;

    pub fn new(
        external_id: &str,
        email: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<Self, UserFieldRefused> {
        let refuse = |field| move |reason| UserFieldRefused { field, reason };
        let external_id =
            text::required(external_id, Self::MAX_EXTERNAL_ID).map_err(refuse("external_id"))?;
        let email = email
            .map(|email| text::required(email, Self::MAX_EMAIL).map_err(refuse("email")))
            .transpose()?;
        let display_name = display_name
            .map(|name| {
                text::optional(name, Self::MAX_DISPLAY_NAME).map_err(refuse("display_name"))
            })
            .transpose()?;
        Ok(Self {
            external_id: external_id.to_owned(),
            email: email.map(str::to_owned),
            display_name: display_name.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_user_needs_a_sensible_external_id() {
        assert!(NewUser::new("alice", Some("alice@example.com"), None).is_ok());
        let refused = NewUser::new("", None, None).unwrap_err();
        assert_eq!(refused.field, "external_id");
        let refused = NewUser::new("bob", None, Some("Bob\u{7}")).unwrap_err();
        assert_eq!(refused.field, "display_name");
    }
}
