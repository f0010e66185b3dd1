//! Creating API keys: by an admin, or the first admin key on a first start.

use chrono::{DateTime, Utc};

use crate::domain::actor::Actor;
use crate::domain::api_key::{self, ApiKey, Role};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::ApiKeyId;
use crate::domain::token::{SecretToken, TokenKind};
use crate::store::{self, Tx};
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Creates a key with `role`, usable until `expires_at` if given; the secret is
/// returned once and only its hash is kept.
#[tracing::instrument(skip_all, fields(role = role.as_str()))]
pub async fn create_api_key(
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
