//! Listing API keys and recognising them (`create_api_key` and `revoke_api_key` change
//! them).

use crate::domain::api_key::{ApiKey, KeyStatus};
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::domain::token::TokenHash;
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Every key, newest first, page by page; never a secret.
pub async fn list(
    app: &App,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<ApiKey>, UsecaseError> {
    let size = PageSize::new(limit)?;
    let after = cursor.map(Cursor::decode).transpose()?;
    let rows =
        store::api_keys::list(&app.db, after.as_ref().map(Cursor::key), size.get() + 1).await?;
    Ok(Page::from_overfetch(rows, size, |k| k.id.as_str()))
}

/// Whether any API key was ever created.
pub async fn any_exists(app: &App) -> Result<bool, UsecaseError> {
    let mut tx = app.db.begin().await?;
    Ok(store::api_keys::count(&mut tx).await? > 0)
}

/// The key a caller presented, if it is one of ours and usable now. Verified keys are
/// remembered (`crate::cache::verified`), so a resource server's key costs one hash per
/// request, not a query; the map holds keys only while this instance hears every
/// revocation.
#[tracing::instrument(skip_all)]
pub async fn authenticate(app: &App, presented: &str) -> Result<Option<ApiKey>, UsecaseError> {
    let hash = TokenHash::of(presented);
    let key = match app.api_keys.get(&hash) {
        Ok(key) => key,
        Err(generation) => {
            let Some((key, stored)) = store::api_keys::find_by_hash(&app.db, &hash).await? else {
                return Ok(None);
            };
            if !stored.matches(&hash) {
                return Ok(None);
            }
            app.api_keys.offer(generation, hash, key.clone());
            key
        }
    };
    let now = app.clock.now();
    if key.status(now) != KeyStatus::Active {
        return Ok(None);
    }
    if key.use_is_due(now) {
        store::api_keys::touch(&app.db, &key.id, now).await?;
        app.api_keys
            .amend(&hash, |key| key.last_used_at = Some(now));
    }
    Ok(Some(key))
}
