//! Writes the buffered last uses of user sessions (see `crate::last_use_buffer`).

use crate::app::App;
use crate::store;
use crate::usecase::UsecaseError;

/// Writes everything buffered so far; returns how many sessions it covered. On failure
/// the uses go back into the buffer for the next attempt.
pub async fn flush(app: &App) -> Result<usize, UsecaseError> {
    let uses = app.last_use.take();
    if uses.is_empty() {
        return Ok(0);
    }
    match store::user_sessions::record_uses(&app.db, &uses).await {
        Ok(()) => Ok(uses.len()),
        Err(error) => {
            app.last_use.restore(uses);
            Err(error.into())
        }
    }
}
