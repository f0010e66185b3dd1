//! Changing a webhook endpoint: its url, event types and description, or whether it is
//! enabled.

use crate::domain::actor::Actor;
use crate::domain::audit::AuditAction;
use crate::domain::id::WebhookEndpointId;
use crate::domain::webhook::{Endpoint, EndpointStatus};
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::webhook_endpoints::{
    DisabledBecause, EndpointChange, announce_disabled, apply, audit, locked,
};

/// Changes the url, description or subscriptions.
#[tracing::instrument(skip_all, fields(webhook_endpoint_id = %id))]
pub async fn update_webhook_endpoint(
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
pub async fn set_webhook_endpoint_enabled(
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
