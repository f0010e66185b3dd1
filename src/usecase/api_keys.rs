//! Creating, listing and revoking API keys, and recognising them.

use chrono::{DateTime, Utc};

use crate::domain::actor::Actor;
use crate::domain::api_key::{self, ApiKey, KeyStatus, Role};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::ApiKeyId;
use crate::domain::invalidation::Invalidation;
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::domain::token::{SecretToken, TokenHash, TokenKind};
use crate::store::{self, Tx};
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Creates a key with `role`, usable until `expires_at` if given; the secret is
/// returned once and only its hash is kept.
#[tracing::instrument(skip_all, fields(role = role.as_str()))]
pub async fn create(
    app: &App,
    actor: &Actor,
    role: Role,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(ApiKey, SecretToken), UsecaseError> {
    let now = app.clock.now();
    if let Some(at) = expires_at
        && !(at > now && at - now <= api_key::MAX_LIFETIME)
    {
        return Err(UsecaseError::OutOfRange {
            field: "expires_at",
            detail: "must be in the future, within ten years".to_owned(),
        });
    }
    let mut tx = app.db.begin().await?;
    let created = insert(&mut tx, app, actor, role, expires_at).await?;
    tx.commit().await?;
    Ok(created)
}

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

/// Revokes the key: refused at once here, and on every other instance when the
/// notification arrives. Revoking a revoked key changes nothing; the last usable admin
/// key cannot be revoked (nobody could administer Leash any more).
#[tracing::instrument(skip_all, fields(api_key_id = %id))]
pub async fn revoke(app: &App, actor: &Actor, id: &ApiKeyId) -> Result<ApiKey, UsecaseError> {
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

/// Whether any API key was ever created.
pub async fn any_exists(app: &App) -> Result<bool, UsecaseError> {
    let mut tx = app.db.begin().await?;
    Ok(store::api_keys::count(&mut tx).await? > 0)
}

/// On a database with no key at all, creates an admin key (first start). Returns it, or
/// `None` if keys exist.
pub async fn create_first_admin_key(
    app: &App,
) -> Result<Option<(ApiKey, SecretToken)>, UsecaseError> {
    let mut tx = app.db.begin().await?;
    if store::api_keys::count(&mut tx).await? > 0 {
        return Ok(None);
    }
    let created = insert(&mut tx, app, &Actor::operator(), Role::Admin, None).await?;
    tx.commit().await?;
    Ok(Some(created))
}

async fn insert(
    tx: &mut Tx,
    app: &App,
    actor: &Actor,
    role: Role,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(ApiKey, SecretToken), UsecaseError> {
    let now = app.clock.now();
    let secret = SecretToken::generate(TokenKind::ApiKey);
    let key = ApiKey {
        id: ApiKeyId::generate(),
        role,
        created_at: now,
        expires_at,
        revoked_at: None,
        last_used_at: None,
    };
    store::api_keys::insert(tx, &key, &secret.hash()).await?;
    store::audit::append(
        tx,
        &AuditEntry::new(actor, AuditAction::ApiKeyCreated, key.id.as_str(), now),
    )
    .await?;
    Ok((key, secret))
}

/// The key a caller presented, if it is one of ours and usable now. Verified keys are
/// remembered (`crate::cache::api_keys`), so a resource server's key costs one hash per
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
        app.api_keys.mark_used(&hash, now);
    }
    Ok(Some(key))
}
