//! Reading users (`create_user` creates them).

use crate::domain::id::UserId;
use crate::domain::user::User;
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;

pub async fn get(app: &App, id: &UserId) -> Result<User, UsecaseError> {
    store::users::get(&app.db, id)
        .await?
        .ok_or(UsecaseError::UserNotFound)
}
