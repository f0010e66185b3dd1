//! One-time login links to the self-service page.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::id::UserSessionId;
use crate::domain::secret::Secret;

/// A link for a person signed in with the host application.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLoginLinkRequest {
    /// The person's user session the page signs in as (theirs, and active).
    #[schemars(with = "UserSessionId")]
    pub user_session_id: String,
    /// A path of the page to open (`/account` or below, e.g. `/account#connections`).
    #[schemars(length(max = 200), pattern(r"^/account([/#][A-Za-z0-9/#_-]*)?$"))]
    pub return_to: Option<String>,
}

/// The link: hand it to the person's browser (a redirect); it works once, until
/// `expires_at`. Shown once.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LoginLinkBody {
    pub url: Secret,
    pub expires_at: DateTime<Utc>,
}
