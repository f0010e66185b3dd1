//! Deleting a webhook endpoint with its deliveries and attempts.

use crate::domain::actor::Actor;
use crate::domain::audit::AuditAction;
use crate::domain::id::WebhookEndpointId;
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::webhook_endpoints::audit;

/// Deletes the endpoint with its deliveries and attempts.
#[tracing::instrument(skip_all, fields(webhook_endpoint_id = %id))]
pub async fn delete_webhook_endpoint(
    app: &App,
    actor: &Actor,
    id: &WebhookEndpointId,
) -> Result<(), UsecaseError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    if !store::webhook_endpoints::delete(&mut tx, id).await? {
        return Err(UsecaseError::WebhookEndpointNotFound);
    }
    audit(&mut tx, actor, AuditAction::WebhookEndpointDeleted, id, now).await?;
    tx.commit().await?;
    Ok(())
}
