//! Writes the buffered last uses of sessions (see `crate::cache::last_use`).

use crate::domain::session::UsedSession;
use crate::store;
use crate::store::last_use::SessionTable;
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Writes everything buffered so far; returns how many sessions it covered. On failure
/// the uses go back into the buffer for the next attempt.
pub async fn flush(app: &App) -> Result<usize, UsecaseError> {
    let uses = app.last_use.take();
    if uses.is_empty() {
        return Ok(0);
    }
    match write(app, &uses).await {
        Ok(()) => Ok(uses.len()),
        Err(error) => {
            app.last_use.restore(uses);
            Err(error.into())
        }
    }
}

async fn write(
    app: &App,
    uses: &[(UsedSession, chrono::DateTime<chrono::Utc>)],
) -> Result<(), store::StoreError> {
    let (mut users, mut agents) = (Vec::new(), Vec::new());
    for (session, at) in uses {
        match session {
            UsedSession::User(id) => users.push((id.as_str(), *at)),
            UsedSession::Agent(id) => agents.push((id.as_str(), *at)),
        }
    }
    store::last_use::record(&app.db, SessionTable::UserSessions, &users).await?;
    store::last_use::record(&app.db, SessionTable::AgentSessions, &agents).await
}
