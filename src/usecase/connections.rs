//! Reading users' connections (`start_connection` and `finish_connection` make them);
//! never a token.

use crate::domain::connection::{Connection, ConnectionStatus};
use crate::domain::id::{ConnectionId, UserId};
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::store;
use crate::usecase::{App, UsecaseError};

/// A user's connections, newest first, page by page.
pub async fn list(
    app: &App,
    user_id: &UserId,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Connection>, UsecaseError> {
    let size = PageSize::new(limit)?;
    let after = cursor.map(Cursor::decode).transpose()?;
    store::users::get(&app.db, user_id)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    let rows = store::connections::list(
        &app.db,
        user_id,
        after.as_ref().map(Cursor::key),
        size.get() + 1,
    )
    .await?;
    let mut page = Page::from_overfetch(rows, size, |c| c.id.as_str());
    for connection in &mut page.items {
        with_receipt(app, connection).await?;
    }
    Ok(page)
}

pub async fn get(app: &App, id: &ConnectionId) -> Result<Connection, UsecaseError> {
    let mut connection = store::connections::get(&app.db, id)
        .await?
        .ok_or(UsecaseError::ConnectionNotFound)?;
    with_receipt(app, &mut connection).await?;
    Ok(connection)
}

/// Fills in a disconnected connection's receipt.
async fn with_receipt(app: &App, connection: &mut Connection) -> Result<(), UsecaseError> {
    if connection.status == ConnectionStatus::Disconnected {
        connection.receipt = store::upstream_revocations::receipt(&app.db, &connection.id).await?;
    }
    Ok(())
}
