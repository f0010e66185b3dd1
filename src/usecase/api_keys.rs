//! Creating API keys and recognising them.

use std::sync::PoisonError;

use crate::app::App;
use crate::domain::actor::Actor;
use crate::domain::api_key::{ApiKey, Role};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::ApiKeyId;
use crate::domain::token::{SecretToken, TokenHash, TokenKind};
use crate::store::{self, Tx};
use crate::usecase::UsecaseError;

/// Creates a key with `role`; the secret is returned once and only its hash is kept.
#[tracing::instrument(skip_all, fields(role = role.as_str()))]
pub async fn create(
    app: &App,
    actor: &Actor,
    role: Role,
) -> Result<(ApiKey, SecretToken), UsecaseError> {
    let mut tx = app.db.begin().await?;
    let created = insert(&mut tx, app, actor, role).await?;
    tx.commit().await?;
    Ok(created)
}

/// On a database with no key at all, creates an admin key (first start). Returns it, or
/// `None` if keys exist.
/// Whether any API key was ever created.
pub async fn any_exists(app: &App) -> Result<bool, UsecaseError> {
    let mut tx = app.db.begin().await?;
    Ok(store::api_keys::count(&mut tx).await? > 0)
}

pub async fn create_first_admin_key(
    app: &App,
) -> Result<Option<(ApiKey, SecretToken)>, UsecaseError> {
    let mut tx = app.db.begin().await?;
    if store::api_keys::count(&mut tx).await? > 0 {
        return Ok(None);
    }
    let created = insert(&mut tx, app, &Actor::operator(), Role::Admin).await?;
    tx.commit().await?;
    Ok(Some(created))
}

async fn insert(
    tx: &mut Tx,
    app: &App,
    actor: &Actor,
    role: Role,
) -> Result<(ApiKey, SecretToken), UsecaseError> {
    let now = app.clock.now();
    let secret = SecretToken::generate(TokenKind::ApiKey);
    let key = ApiKey {
        id: ApiKeyId::generate(),
        role,
        created_at: now,
    };
    store::api_keys::insert(tx, &key, &secret.hash()).await?;
    store::audit::append(
        tx,
        &AuditEntry::new(actor, AuditAction::ApiKeyCreated, key.id.as_str(), now),
    )
    .await?;
    Ok((key, secret))
}

/// The key a caller presented, if it is one of ours. Verified keys are remembered, so
/// a resource server's key costs one hash per request, not a query.
#[tracing::instrument(skip_all)]
pub async fn authenticate(app: &App, presented: &str) -> Result<Option<ApiKey>, UsecaseError> {
    let hash = TokenHash::of(presented);
    if let Some(key) = app
        .api_keys
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&hash)
    {
        return Ok(Some(key.clone()));
    }
    let Some((key, stored)) = store::api_keys::find_by_hash(&app.db, &hash).await? else {
        return Ok(None);
    };
    if !stored.matches(&hash) {
        return Ok(None);
    }
    app.api_keys
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(hash, key.clone());
    Ok(Some(key))
}
