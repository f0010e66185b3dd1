//! Webhook endpoints: create (the signing secret is shown once), read, list, change,
//! disable and enable, delete, rotate the secret with an overlap, replay past events,
//! and list an endpoint's attempts. Every change writes its audit entry.

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::event::EventType;
use crate::domain::id::WebhookEndpointId;
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::domain::text;
use crate::domain::webhook::Attempt;
use crate::domain::webhook::{self, DESCRIPTION_MAX_LEN, Endpoint, EndpointStatus, SigningSecret};
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

#[tracing::instrument(skip_all)]
pub async fn create(
    app: &App,
    actor: &Actor,
    change: EndpointChange,
) -> Result<(Endpoint, SigningSecret), UsecaseError> {
    let now = app.clock.now();
    let mut endpoint = Endpoint {
        id: WebhookEndpointId::generate(),
        url: String::new(),
        description: None,
        event_types: Vec::new(),
        status: EndpointStatus::Active,
        consecutive_failures: 0,
        created_at: now,
        updated_at: now,
        disabled_at: None,
        previous_secret_expires_at: None,
    };
    if change.url.is_none() {
        return Err(UsecaseError::WebhookTargetRefused(
            webhook::TargetRefused::Malformed,
        ));
    }
    apply(app, &mut endpoint, change)?;
    let secret = SigningSecret::generate();
    let sealed = seal(app, &endpoint.id, &secret, "current");
    let mut tx = app.db.begin().await?;
    // Counted inside the transaction; two creations racing on PostgreSQL may both see
    // one below the limit, which overshoots it by a few, not without bound.
    if store::webhook_endpoints::count(&mut tx).await? >= webhook::MAX_ENDPOINTS {
        return Err(UsecaseError::TooManyWebhookEndpoints);
    }
    store::webhook_endpoints::insert(&mut tx, &endpoint, &sealed).await?;
    audit(
        &mut tx,
        actor,
        AuditAction::WebhookEndpointCreated,
        &endpoint.id,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((endpoint, secret))
}

/// Checks and applies a change to an endpoint in memory.
fn apply(app: &App, endpoint: &mut Endpoint, change: EndpointChange) -> Result<(), UsecaseError> {
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
fn seal_context(id: &WebhookEndpointId, which: &str) -> String {
    format!("{id}:{which}")
}

fn seal(app: &App, id: &WebhookEndpointId, secret: &SigningSecret, which: &str) -> Vec<u8> {
    app.settings
        .encryption_key
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
    let key = &app.settings.encryption_key;
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

async fn audit(
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
async fn locked(tx: &mut Tx, id: &WebhookEndpointId) -> Result<StoredEndpoint, UsecaseError> {
    store::webhook_endpoints::get(&mut *tx, id, Some(LockMode::Update))
        .await?
        .ok_or(UsecaseError::WebhookEndpointNotFound)
}

/// Changes the url, description or subscriptions.
#[tracing::instrument(skip_all, fields(webhook_endpoint_id = %id))]
pub async fn update(
    app: &App,
    actor: &Actor,
    id: &WebhookEndpointId,
    change: EndpointChange,
) -> Result<Endpoint, UsecaseError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let mut endpoint = locked(&mut tx, id).await?.endpoint;
    apply(app, &mut endpoint, change)?;
    endpoint.updated_at = now;
    store::webhook_endpoints::update(&mut tx, &endpoint).await?;
    audit(&mut tx, actor, AuditAction::WebhookEndpointUpdated, id, now).await?;
    tx.commit().await?;
    Ok(endpoint)
}

/// Disables (nothing more is sent; pending deliveries wait) or enables the endpoint.
/// Enabling clears its failure count; deliveries still pending go out again.
#[tracing::instrument(skip_all, fields(webhook_endpoint_id = %id))]
pub async fn set_enabled(
    app: &App,
    actor: &Actor,
    id: &WebhookEndpointId,
    enabled: bool,
) -> Result<Endpoint, UsecaseError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let mut endpoint = locked(&mut tx, id).await?.endpoint;
    let is_disabled = endpoint.status == EndpointStatus::Disabled;
    if enabled == is_disabled {
        endpoint.updated_at = now;
        endpoint.consecutive_failures = 0;
        (endpoint.status, endpoint.disabled_at) = if enabled {
            (EndpointStatus::Active, None)
        } else {
            (EndpointStatus::Disabled, Some(now))
        };
        store::webhook_endpoints::update(&mut tx, &endpoint).await?;
        if enabled {
            audit(&mut tx, actor, AuditAction::WebhookEndpointEnabled, id, now).await?;
        } else {
            announce_disabled(&mut tx, actor, id, DisabledBecause::Admin, now).await?;
        }
    }
    tx.commit().await?;
    Ok(endpoint)
}

/// Deletes the endpoint with its deliveries and attempts.
#[tracing::instrument(skip_all, fields(webhook_endpoint_id = %id))]
pub async fn delete(app: &App, actor: &Actor, id: &WebhookEndpointId) -> Result<(), UsecaseError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    if !store::webhook_endpoints::delete(&mut tx, id).await? {
        return Err(UsecaseError::WebhookEndpointNotFound);
    }
    audit(&mut tx, actor, AuditAction::WebhookEndpointDeleted, id, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the signing secret. The new one is returned once and signs from now on; the
/// old one signs beside it for `overlap` (default a day), so receivers can switch
/// without dropping a message.
#[tracing::instrument(skip_all, fields(webhook_endpoint_id = %id))]
pub async fn rotate_secret(
    app: &App,
    actor: &Actor,
    id: &WebhookEndpointId,
    overlap_seconds: Option<i64>,
) -> Result<(Endpoint, SigningSecret), UsecaseError> {
    let overlap = match overlap_seconds {
        None => DEFAULT_ROTATION_OVERLAP,
        Some(s) if (0..=MAX_ROTATION_OVERLAP.num_seconds()).contains(&s) => TimeDelta::seconds(s),
        Some(_) => {
            return Err(UsecaseError::OutOfRange {
                field: "overlap_seconds",
                detail: format!("must be 0 to {}", MAX_ROTATION_OVERLAP.num_seconds()),
            });
        }
    };
    let now = app.clock.now();
    let secret = SigningSecret::generate();
    let mut tx = app.db.begin().await?;
    let stored = locked(&mut tx, id).await?;
    let key = &app.settings.encryption_key;
    let old = key.open(&stored.secret_sealed, &seal_context(id, "current"))?;
    let previous_sealed = key.seal(&old, &seal_context(id, "previous"));
    let until = now + overlap;
    store::webhook_endpoints::set_secret(
        &mut tx,
        id,
        &seal(app, id, &secret, "current"),
        &previous_sealed,
        until,
        now,
    )
    .await?;
    audit(
        &mut tx,
        actor,
        AuditAction::WebhookEndpointSecretRotated,
        id,
        now,
    )
    .await?;
    tx.commit().await?;
    let mut endpoint = stored.endpoint;
    endpoint.previous_secret_expires_at = Some(until);
    endpoint.updated_at = now;
    Ok((endpoint, secret))
}

/// Sends the endpoint again every retained event it receives written at or after
/// `since`. Returns how many deliveries were queued.
#[tracing::instrument(skip_all, fields(webhook_endpoint_id = %id))]
pub async fn replay(
    app: &App,
    actor: &Actor,
    id: &WebhookEndpointId,
    since: DateTime<Utc>,
) -> Result<u64, UsecaseError> {
    let now = app.clock.now();
    if since > now {
        return Err(UsecaseError::OutOfRange {
            field: "since",
            detail: "must not be in the future".to_owned(),
        });
    }
    let mut tx = app.db.begin().await?;
    locked(&mut tx, id).await?;
    let queued = store::webhook_deliveries::replay(&mut tx, id, since, now).await?;
    audit(
        &mut tx,
        actor,
        AuditAction::WebhookEndpointReplayed,
        id,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(queued)
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
