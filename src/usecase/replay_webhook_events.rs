//! Sending an endpoint every retained event since a time again.

use crate::domain::actor::Actor;
use crate::domain::audit::AuditAction;
use crate::domain::id::WebhookEndpointId;
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::webhook_endpoints::{audit, locked};
use chrono::{DateTime, Utc};

/// Sends the endpoint again every retained event it receives written at or after
/// `since` (none, if `since` is still ahead). Returns how many deliveries were queued.
#[tracing::instrument(skip_all, fields(webhook_endpoint_id = %id))]
pub async fn replay_webhook_events(
    app: &App,
    actor: &Actor,
    id: &WebhookEndpointId,
    since: DateTime<Utc>,
) -> Result<u64, UsecaseError> {
    let now = app.clock.now();
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
