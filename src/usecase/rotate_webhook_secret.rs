//! Replacing a webhook endpoint's signing secret; the old one signs beside it during the
//! overlap.

use crate::domain::actor::Actor;
use crate::domain::audit::AuditAction;
use crate::domain::id::WebhookEndpointId;
use crate::domain::webhook::{Endpoint, SigningSecret};
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::webhook_endpoints::{
    DEFAULT_ROTATION_OVERLAP, MAX_ROTATION_OVERLAP, audit, locked, seal, seal_context,
};
use chrono::TimeDelta;

/// Replaces the signing secret. The new one is returned once and signs from now on; the
/// old one signs beside it for `overlap` (default a day), so receivers can switch
/// without dropping a message.
#[tracing::instrument(skip_all, fields(webhook_endpoint_id = %id))]
pub async fn rotate_webhook_secret(
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
    let key = &app.settings.encryption_keys;
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
