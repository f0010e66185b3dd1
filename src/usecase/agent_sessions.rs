//! Reading agent sessions: one, or a user's, page by page.

use crate::domain::agent_session::AgentSession;
use crate::domain::id::{AgentSessionId, UserId};
use crate::domain::pagination::ListFilter;
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// An agent session with its agent's name, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedAgentSession {
    pub session: AgentSession,
    pub agent_name: String,
}

pub async fn get(app: &App, id: &AgentSessionId) -> Result<AgentSession, UsecaseError> {
    store::agent_sessions::get(&app.db, id)
        .await?
        .ok_or(UsecaseError::AgentSessionNotFound)
}

/// One page of the user's agent sessions, newest first.
pub async fn list(
    app: &App,
    user_id: &UserId,
    filter: ListFilter,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<ListedAgentSession>, UsecaseError> {
    let size = PageSize::new(limit)?;
    let after = cursor.map(Cursor::decode).transpose()?;
    store::users::get(&app.db, user_id)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    let rows = store::agent_sessions::list(
        &app.db,
        user_id,
        filter,
        app.clock.now(),
        after.as_ref().map(Cursor::key),
        size.get() + 1,
    )
    .await?
    .into_iter()
    .map(|(session, agent_name)| ListedAgentSession {
        session,
        agent_name,
    })
    .collect();
    Ok(Page::from_overfetch(rows, size, |s| s.session.id.as_str()))
}
