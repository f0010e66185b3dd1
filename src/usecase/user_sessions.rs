//! A user's sessions: one, or a page of them (`sign_in` creates them).

use crate::domain::id::{UserId, UserSessionId};
use crate::domain::pagination::ListFilter;
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::domain::user_session::UserSession;
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// One page of the user's sessions, newest first.
pub async fn list(
    app: &App,
    user_id: &UserId,
    filter: ListFilter,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<UserSession>, UsecaseError> {
    let size = PageSize::new(limit)?;
    let after = cursor.map(Cursor::decode).transpose()?;
    store::users::get(&app.db, user_id)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    let rows = store::user_sessions::list(
        &app.db,
        user_id,
        filter,
        app.clock.now(),
        after.as_ref().map(Cursor::key),
        size.get() + 1,
    )
    .await?;
    Ok(Page::from_overfetch(rows, size, |s| s.id.as_str()))
}

pub async fn get(app: &App, id: &UserSessionId) -> Result<UserSession, UsecaseError> {
    store::user_sessions::get(&app.db, id)
        .await?
        .ok_or(UsecaseError::UserSessionNotFound)
}
