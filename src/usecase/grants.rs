//! Reading a user's consents for agents (`create_grant` records one, `update_grant`
//! changes its scopes, `revoke_grant` withdraws it).

use crate::domain::grant::Grant;
use crate::domain::id::{GrantId, UserId};
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::store::{self, LockMode, Tx};
use crate::usecase::App;
use crate::usecase::UsecaseError;

pub async fn get(app: &App, id: &GrantId) -> Result<Grant, UsecaseError> {
    store::grants::get(&app.db, id)
        .await?
        .ok_or(UsecaseError::GrantNotFound)
}

/// One page of the user's grants, newest first.
pub async fn list_for_user(
    app: &App,
    user_id: &UserId,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Grant>, UsecaseError> {
    let size = PageSize::new(limit)?;
    let after = cursor.map(Cursor::decode).transpose()?;
    store::users::get(&app.db, user_id)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    let rows = store::grants::list_for_user(
        &app.db,
        user_id,
        after.as_ref().map(Cursor::key),
        size.get() + 1,
    )
    .await?;
    Ok(Page::from_overfetch(rows, size, |g| g.id.as_str()))
}

/// Locks the grant's user for a change (waiting for every issuance under them), then
/// reads the grant under that lock.
pub(super) async fn locked(
    tx: &mut Tx,
    user_id: &UserId,
    id: &GrantId,
) -> Result<Grant, UsecaseError> {
    store::users::lock(tx, user_id, LockMode::Update).await?;
    store::grants::get(tx, id)
        .await?
        .ok_or(UsecaseError::GrantNotFound)
}
