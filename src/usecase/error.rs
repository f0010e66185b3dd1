//! Use-case errors, named after the rule that was broken. No HTTP here: `crate::http`
//! maps each to a status and a stable code, once.

use crate::domain::agent_session::DelegationRefused;
use crate::domain::limits::LimitReached;
use crate::domain::pagination::{CursorInvalid, PageSizeInvalid};
use crate::domain::scope::{ScopeRefused, ScopeSet};
use crate::domain::text::TextRefused;
use crate::domain::user::UserFieldRefused;
use crate::domain::user_session::LifetimeRefused;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum UsecaseError {
    #[error("no such user")]
    UserNotFound,
    #[error("no such user session")]
    UserSessionNotFound,
    #[error("the user is disabled")]
    UserDisabled,
    #[error("no such agent")]
    AgentNotFound,
    #[error("no such grant")]
    GrantNotFound,
    #[error("the user already has an active grant for this agent; change its scopes instead")]
    GrantExists,
    #[error("no such agent session")]
    AgentSessionNotFound,
    #[error("the grant is revoked; create a new one")]
    GrantRevoked,
    #[error("the agent is disabled")]
    AgentDisabled,
    #[error("the client id or secret is not valid")]
    ClientAuthenticationFailed,
    #[error("the user has not consented to this agent")]
    ConsentRequired,
    #[error("the subject token is not active")]
    SubjectTokenInactive,
    #[error("the user session is not active")]
    UserSessionInactive,
    #[error("the refresh token is not valid")]
    RefreshTokenInvalid,
    #[error(transparent)]
    DelegationRefused(#[from] DelegationRefused),
    #[error(transparent)]
    ScopeRefused(#[from] ScopeRefused),
    #[error("the agent may never hold: {}", .0.to_space_separated())]
    ScopesBeyondCeiling(ScopeSet),
    #[error(transparent)]
    UserFieldRefused(#[from] UserFieldRefused),
    #[error(transparent)]
    LifetimeRefused(#[from] LifetimeRefused),
    #[error("{field} {reason}")]
    TextRefused {
        field: &'static str,
        reason: TextRefused,
    },
    #[error("no such webhook endpoint")]
    WebhookEndpointNotFound,
    #[error("no such provider is configured")]
    ProviderNotFound,
    #[error("no such connection")]
    ConnectionNotFound,
    #[error("an active user session is required (its token as Bearer, or the session cookie)")]
    UserSessionRequired,
    #[error("return_to must be an absolute URL on an allowed origin")]
    ReturnToRefused,
    #[error(transparent)]
    AuthorizationFailed(#[from] crate::domain::connection::AuthorizationFailure),
    #[error(transparent)]
    VendRefused(#[from] crate::domain::credential::VendRefused),
    #[error(transparent)]
    KeySetRefused(#[from] crate::usecase::rotate_encryption::KeySetRefused),
    /// The provider did not answer a refresh usefully (down, timed out, or refusing
    /// Leash's own client); the grant is not judged dead.
    #[error("the provider could not refresh the credential; retry later")]
    ProviderUnavailable { retry_after: std::time::Duration },
    #[error("no such API key")]
    ApiKeyNotFound,
    #[error("too many {}: the limit is {limit}", .what.describe())]
    TooManySessions {
        what: crate::domain::limits::Limited,
        limit: u32,
    },
    #[error("this agent is issuing sessions faster than allowed; retry later")]
    RateLimited { retry_after: std::time::Duration },
    #[error("this is the last active admin key; create another admin key before revoking it")]
    LastAdminKey,
    #[error(
        "there are as many webhook endpoints as allowed ({}); delete one first",
        crate::domain::webhook::MAX_ENDPOINTS
    )]
    TooManyWebhookEndpoints,
    #[error(transparent)]
    WebhookTargetRefused(#[from] crate::domain::webhook::TargetRefused),
    #[error("{field} {detail}")]
    OutOfRange { field: &'static str, detail: String },
    /// A sealed secret could not be opened (wrong encryption key); the cause is logged.
    #[error(transparent)]
    SecretBox(#[from] crate::secret_box::SecretBoxError),
    #[error(transparent)]
    SelectorRefused(#[from] crate::domain::risk_selector::SelectorRefused),
    #[error("this Idempotency-Key was used for another request; use a new key for a new request")]
    IdempotencyKeyReused,
    #[error("no such address block in force")]
    IpBlockNotFound,
    #[error("sign-ins and token exchanges from this address are blocked until {until}")]
    IpBlocked {
        until: chrono::DateTime<chrono::Utc>,
    },
    /// The pre-issuance hook denied the issuance, saying why when it did.
    #[error("the issuance policy refused this delegation{}", .reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    IssuanceDenied { reason: Option<String> },
    /// The pre-issuance hook gave no usable answer, and its failure policy refuses.
    #[error("the issuance policy could not be consulted; retry later")]
    IssuanceHookUnavailable,
    /// A form of the self-service page came without its session's token.
    #[error("this form is not from your page; reload the page and try again")]
    FormTokenRefused,
    /// A login link that is unknown, used, expired, or whose session ended.
    #[error(
        "this login link cannot be used: it was used already, has expired, or its session ended"
    )]
    LoginLinkInvalid,
    #[error("unknown event type {0:?}")]
    UnknownEventType(String),
    #[error(transparent)]
    CursorInvalid(#[from] CursorInvalid),
    #[error(transparent)]
    PageSizeInvalid(#[from] PageSizeInvalid),
    /// A batch of issuances failed in the database; the cause is logged.
    #[error("issuing failed: {0}")]
    IssuanceFailed(String),
    /// The database cannot be reached; retrying later may succeed.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Any other failure of the database (a bad row, a broken invariant).
    #[error(transparent)]
    Store(StoreError),
}

impl From<LimitReached> for UsecaseError {
    fn from(reached: LimitReached) -> Self {
        Self::TooManySessions {
            what: reached.what,
            limit: reached.limit,
        }
    }
}

impl From<StoreError> for UsecaseError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => Self::Unavailable(cause.to_string()),
            other => Self::Store(other),
        }
    }
}
