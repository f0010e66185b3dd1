//! Replacing an agent's client secret; the old one stops working at once.

use crate::domain::actor::Actor;
use crate::domain::agent::Agent;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::AgentId;
use crate::domain::invalidation::Invalidation;
use crate::domain::token::{SecretToken, TokenKind};
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Replaces the agent's client secret: the new one is returned once, the old one stops
/// working when this commits.
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub async fn rotate_agent_secret(
    app: &App,
    actor: &Actor,
    id: &AgentId,
) -> Result<(Agent, SecretToken), UsecaseError> {
    let now = app.clock.now();
    let secret = SecretToken::generate(TokenKind::ClientSecret);
    let mut tx = app.db.begin().await?;
    let agent = match store::agents::set_secret(&mut tx, id, &secret.hash(), now).await {
        Err(store::StoreError::NotFound) => return Err(UsecaseError::AgentNotFound),
        other => other?,
    };
    store::audit::append(
        &mut tx,
        &AuditEntry::new(actor, AuditAction::AgentSecretRotated, id.as_str(), now),
    )
    .await?;
    // The old secret is refused from the commit on, wherever it was verified.
    store::invalidation::announce(&mut tx, &Invalidation::Agents).await?;
    tx.commit().await?;
    app.invalidate(&Invalidation::Agents);
    Ok((agent, secret))
}
