//! Webhook endpoints: reading one, listing them and their attempts, the signing secrets
//! a delivery signs with, and what the acts on them share (checking a change, sealing
//! a secret, the audit entry, announcing a disabled endpoint). The acts live in
//! `create_webhook_endpoint`, `update_webhook_endpoint`, `delete_webhook_endpoint`,
//! `rotate_webhook_secret` and `replay_webhook_events`; every one writes its audit
//! entry.

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::event::EventType;
use crate::domain::id::WebhookEndpointId;
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::domain::text;
use crate::domain::webhook::Attempt;
use crate::domain::webhook::{self, DESCRIPTION_MAX_LEN, Endpoint, SigningSecret};
use crate::store::webhook_endpoints::StoredEndpoint;
use crate::store::{self, LockMode, Tx};
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// The longest a rotated-out secret may keep signing.
pub const MAX_ROTATION_OVERLAP: TimeDelta = TimeDelta::days(7);
/// How long a rotated-out secret keeps signing when the caller does not say.
pub const DEFAULT_ROTATION_OVERLAP: TimeDelta = TimeDelta::hours(24);

/// What a caller asks an endpoint to be; `None` leaves a field as it is on update.
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    /// `Some(empty)` subscribes to every type.
    pub event_types: Option<Vec<String>>,
}

/// Checks and applies a change to an endpoint in memory.
pub(super) fn apply(
    app: &App,
    endpoint: &mut Endpoint,
    change: EndpointChange,
) -> Result<(), UsecaseError> {
    if let Some(url) = change.url {
        webhook::target(&url, app.settings.webhooks.allow_private_targets)?;
        endpoint.url = url;
    }
    if let Some(description) = change.description {
        if let Some(text) = &description {
            text::optional(text, DESCRIPTION_MAX_LEN).map_err(|reason| {
                UsecaseError::TextRefused {
                    field: "description",
                    reason,
                }
            })?;
        }
        endpoint.description = description;
    }
    if let Some(types) = change.event_types {
        let mut parsed = types
            .iter()
            .map(|raw| {
                EventType::parse(raw).ok_or_else(|| UsecaseError::UnknownEventType(raw.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        parsed.sort_by_key(|t| t.as_str());
        parsed.dedup();
        endpoint.event_types = parsed;
    }
    Ok(())
}

/// The context a sealed secret is bound to: its endpoint and which of its two secrets.
pub(super) fn seal_context(id: &WebhookEndpointId, which: &str) -> String {
    format!("{id}:{which}")
}

pub(super) fn seal(
    app: &App,
    id: &WebhookEndpointId,
    secret: &SigningSecret,
    which: &str,
) -> Vec<u8> {
    app.settings
        .encryption_keys
        .seal(secret.as_bytes(), &seal_context(id, which))
}

/// The secrets that sign for an endpoint at `now`: its current one, and the previous
/// one while its overlap lasts.
pub fn signing_secrets(
    app: &App,
    id: &WebhookEndpointId,
    current: &[u8],
    previous: Option<&[u8]>,
    previous_expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Vec<SigningSecret>, UsecaseError> {
    let key = &app.settings.encryption_keys;
    let mut secrets = vec![SigningSecret::from_bytes(
        key.open(current, &seal_context(id, "current"))?,
    )];
    if let (Some(previous), Some(until)) = (previous, previous_expires_at)
        && now < until
    {
        secrets.push(SigningSecret::from_bytes(
            key.open(previous, &seal_context(id, "previous"))?,
        ));
    }
    Ok(secrets)
}

/// Why an endpoint was disabled, as its `webhook_endpoint.disabled` event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisabledBecause {
    /// An admin disabled it.
    Admin,
    /// A delivery's last retry failed.
    RetriesExhausted,
}

impl DisabledBecause {
    fn as_str(self) -> &'static str {
        match self {
            DisabledBecause::Admin => "admin",
            DisabledBecause::RetriesExhausted => "retries_exhausted",
        }
    }
}

/// Writes the `webhook_endpoint.disabled` event and the audit entry of a disabled
/// endpoint, in the transaction that disabled it.
pub(super) async fn announce_disabled(
    tx: &mut Tx,
    actor: &Actor,
    id: &WebhookEndpointId,
    reason: DisabledBecause,
    now: DateTime<Utc>,
) -> Result<(), UsecaseError> {
    let data = serde_json::json!({
        "endpoint_id": id,
        "reason": reason.as_str(),
        "actor": actor.label(),
    });
    store::events::insert(tx, EventType::WebhookEndpointDisabled, &data, now).await?;
    audit(tx, actor, AuditAction::WebhookEndpointDisabled, id, now).await
}

pub(super) async fn audit(
    tx: &mut Tx,
    actor: &Actor,
    action: AuditAction,
    id: &WebhookEndpointId,
    now: DateTime<Utc>,
) -> Result<(), UsecaseError> {
    store::audit::append(tx, &AuditEntry::new(actor, action, id.as_str(), now)).await?;
    Ok(())
}

pub async fn get(app: &App, id: &WebhookEndpointId) -> Result<Endpoint, UsecaseError> {
    Ok(store::webhook_endpoints::get(&app.db, id, None)
        .await?
        .ok_or(UsecaseError::WebhookEndpointNotFound)?
        .endpoint)
}

/// One page of endpoints, newest first.
pub async fn list(
    app: &App,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Endpoint>, UsecaseError> {
    let size = PageSize::new(limit)?;
    let after = cursor.map(Cursor::decode).transpose()?;
    let rows =
        store::webhook_endpoints::list(&app.db, after.as_ref().map(Cursor::key), size.get() + 1)
            .await?;
    Ok(Page::from_overfetch(rows, size, |e| e.id.as_str()))
}

/// Reads the endpoint locked for a change in `tx`.
pub(super) async fn locked(
    tx: &mut Tx,
    id: &WebhookEndpointId,
) -> Result<StoredEndpoint, UsecaseError> {
    store::webhook_endpoints::get(&mut *tx, id, Some(LockMode::Update))
        .await?
        .ok_or(UsecaseError::WebhookEndpointNotFound)
}

/// One page of the endpoint's attempts, newest first.
pub async fn list_attempts(
    app: &App,
    id: &WebhookEndpointId,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Attempt>, UsecaseError> {
    let size = PageSize::new(limit)?;
    let after = cursor.map(Cursor::decode).transpose()?;
    get(app, id).await?;
    let rows = store::webhook_deliveries::list_attempts(
        &app.db,
        id,
        after.as_ref().map(Cursor::key),
        size.get() + 1,
    )
    .await?;
    Ok(Page::from_overfetch(rows, size, |a| a.id.as_str()))
}
