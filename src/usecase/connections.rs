//! Reading users' connections (`start_connection` and `finish_connection` make them);
//! never a token. And the events that tell of them.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::domain::connection::{Connection, ConnectionStatus, Receipt};
use crate::domain::event::EventType;
use crate::domain::id::{ConnectionId, UserId};
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::store::{self, Tx};
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
    with_receipts(app, &mut page.items).await?;
    Ok(page)
}

pub async fn get(app: &App, id: &ConnectionId) -> Result<Connection, UsecaseError> {
    let mut connection = store::connections::get(&app.db, id)
        .await?
        .ok_or(UsecaseError::ConnectionNotFound)?;
    with_receipts(app, std::slice::from_mut(&mut connection)).await?;
    Ok(connection)
}

/// Fills in the receipts of the disconnected ones, in one read.
async fn with_receipts(app: &App, connections: &mut [Connection]) -> Result<(), UsecaseError> {
    let disconnected: Vec<ConnectionId> = connections
        .iter()
        .filter(|c| c.status == ConnectionStatus::Disconnected)
        .map(|c| c.id.clone())
        .collect();
    let mut receipts = store::upstream_revocations::receipts(&app.db, &disconnected).await?;
    for connection in connections {
        connection.receipt = receipts.remove(&connection.id).unwrap_or_default();
    }
    Ok(())
}

/// Writes a connection event (`connection.disconnected`, `connection.upstream_revoked`)
/// in the act's transaction: the connection, its receipt as it stands, and `extra`.
pub(super) async fn announce(
    tx: &mut Tx,
    event_type: EventType,
    connection: &Connection,
    receipt: &[Receipt],
    extra: Value,
    now: DateTime<Utc>,
) -> Result<(), UsecaseError> {
    let mut data = json!({
        "connection_id": connection.id,
        "user_id": connection.user_id,
        "provider": connection.provider.as_str(),
        "revocation_receipt": receipt.iter().map(|r| json!({
            "token": r.token.as_str(),
            "status": r.status.as_str(),
            "attempts": r.attempts,
            "last_answer": r.last_answer,
        })).collect::<Vec<_>>(),
    });
    if let (Value::Object(data), Value::Object(extra)) = (&mut data, extra) {
        data.extend(extra);
    }
    store::events::insert(tx, event_type, &data, now).await?;
    Ok(())
}
