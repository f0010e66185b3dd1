//! Creating a webhook endpoint; its signing secret is shown once and stored sealed.

use crate::domain::actor::Actor;
use crate::domain::audit::AuditAction;
use crate::domain::id::WebhookEndpointId;
use crate::domain::webhook::{self, Endpoint, EndpointStatus, SigningSecret};
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::webhook_endpoints::{EndpointChange, apply, audit, seal};

#[tracing::instrument(skip_all)]
pub async fn create_webhook_endpoint(
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
