//! Use-case errors, named after the rule that was broken. No HTTP here: `crate::http`
//! maps each to a status and a stable code, once.

use crate::domain::pagination::{CursorInvalid, PageSizeInvalid};
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
    #[error(transparent)]
    UserFieldRefused(#[from] UserFieldRefused),
    #[error(transparent)]
    LifetimeRefused(#[from] LifetimeRefused),
    #[error("{field} {reason}")]
    TextRefused {
        field: &'static str,
        reason: TextRefused,
    },
    #[error(transparent)]
    CursorInvalid(#[from] CursorInvalid),
    #[error(transparent)]
    PageSizeInvalid(#[from] PageSizeInvalid),
    #[error(transparent)]
    Store(#[from] StoreError),
}
