//! Whether this instance can serve: its database answers.

use crate::usecase::{App, UsecaseError};

/// Fails with [`UsecaseError::Unavailable`] when the database does not answer.
pub async fn check(app: &App) -> Result<(), UsecaseError> {
    app.db.ping().await?;
    Ok(())
}
