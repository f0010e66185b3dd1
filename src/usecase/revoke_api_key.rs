//! Revoking an API key, refused at once on every instance; never the last admin key.

use crate::domain::actor::Actor;
use crate::domain::api_key::{ApiKey, KeyStatus, Role};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::ApiKeyId;
use crate::domain::invalidation::Invalidation;
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Revokes the key: refused at once here, and on every other instance when the
/// notification arrives. Revoking a revoked key changes nothing; the last usable admin
/// key cannot be revoked (nobody could administer Leash any more).
#[tracing::instrument(skip_all, fields(api_key_id = %id))]
pub async fn revoke_api_key(
    app: &App,
    actor: &Actor,
    id: &ApiKeyId,
) -> Result<ApiKey, UsecaseError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let locked = store::api_keys::lock_with_admins(&mut tx, id, now).await?;
    let usable_admin = |k: &ApiKey| k.role == Role::Admin && k.status(now) == KeyStatus::Active;
    let usable_admins = locked.iter().filter(|k| usable_admin(k)).count();
    let mut key = locked
        .into_iter()
        .find(|k| &k.id == id)
        .ok_or(UsecaseError::ApiKeyNotFound)?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    if usable_admin(&key) && usable_admins <= 1 {
        return Err(UsecaseError::LastAdminKey);
    }
    store::api_keys::set_revoked(&mut tx, id, now).await?;
    store::audit::append(
        &mut tx,
        &AuditEntry::new(actor, AuditAction::ApiKeyRevoked, id.as_str(), now),
    )
    .await?;
    store::invalidation::announce(&mut tx, &Invalidation::ApiKeys).await?;
    tx.commit().await?;
    app.invalidate(&Invalidation::ApiKeys);
    key.revoked_at = Some(now);
    Ok(key)
}
