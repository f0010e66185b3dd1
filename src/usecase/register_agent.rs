//! Registering an agent with its ceiling; its client secret is shown once.

use crate::domain::actor::Actor;
use crate::domain::agent::{Agent, AgentStatus};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::AgentId;
use crate::domain::scope::ScopeSet;
use crate::domain::token::{SecretToken, TokenKind};
use crate::domain::user_session::Lifetime;
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::agents::checked_name;

/// An agent's own lifetime for its sessions; both `None` for the configured default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionLifetimeRequest {
    pub ttl_seconds: Option<i64>,
    pub idle_timeout_seconds: Option<i64>,
}

/// Registers an agent with a ceiling of scopes. The client secret is returned once;
/// only its hash is stored.
#[tracing::instrument(skip_all)]
pub async fn register_agent(
    app: &App,
    actor: &Actor,
    name: &str,
    scopes: &[String],
    lifetime: SessionLifetimeRequest,
) -> Result<(Agent, SecretToken), UsecaseError> {
    let name = checked_name(name)?;
    let scopes = ScopeSet::from_list(scopes)?;
    let session_lifetime = match lifetime {
        SessionLifetimeRequest {
            ttl_seconds: None,
            idle_timeout_seconds: None,
        } => None,
        SessionLifetimeRequest {
            ttl_seconds,
            idle_timeout_seconds,
        } => Some(Lifetime::requested(
            ttl_seconds,
            idle_timeout_seconds,
            app.settings.agent_session_lifetime,
        )?),
    };
    let now = app.clock.now();
    let secret = SecretToken::generate(TokenKind::ClientSecret);
    let agent = Agent {
        id: AgentId::generate(),
        name: name.to_owned(),
        scopes,
        status: AgentStatus::Active,
        session_lifetime,
        created_at: now,
        secret_rotated_at: now,
    };
    let mut tx = app.db.begin().await?;
    store::agents::insert(&mut tx, &agent, &secret.hash()).await?;
    store::audit::append(
        &mut tx,
        &AuditEntry::new(actor, AuditAction::AgentRegistered, agent.id.as_str(), now),
    )
    .await?;
    tx.commit().await?;
    Ok((agent, secret))
}
