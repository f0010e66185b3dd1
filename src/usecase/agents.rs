//! Registering agents, reading them, and rotating their client secret.

use crate::app::App;
use crate::domain::actor::Actor;
use crate::domain::agent::{self, Agent, AgentStatus};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::AgentId;
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::domain::scope::ScopeSet;
use crate::domain::token::{SecretToken, TokenKind};
use crate::store;
use crate::usecase::UsecaseError;

/// Registers an agent with a ceiling of scopes. The client secret is returned once;
/// only its hash is stored.
#[tracing::instrument(skip_all)]
pub async fn register(
    app: &App,
    actor: &Actor,
    name: &str,
    scopes: &[String],
) -> Result<(Agent, SecretToken), UsecaseError> {
    let name = agent::name(name).map_err(|reason| UsecaseError::TextRefused {
        field: "name",
        reason,
    })?;
    let scopes = ScopeSet::from_list(scopes)?;
    let now = app.clock.now();
    let secret = SecretToken::generate(TokenKind::ClientSecret);
    let agent = Agent {
        id: AgentId::generate(),
        name: name.to_owned(),
        scopes,
        status: AgentStatus::Active,
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

pub async fn get(app: &App, id: &AgentId) -> Result<Agent, UsecaseError> {
    store::agents::get(&app.db, id)
        .await?
        .ok_or(UsecaseError::AgentNotFound)
}

/// One page of agents, newest first.
pub async fn list(
    app: &App,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Agent>, UsecaseError> {
    let size = PageSize::new(limit)?;
    let after = cursor.map(Cursor::decode).transpose()?;
    let rows =
        store::agents::list(&app.db, after.as_ref().map(Cursor::key), size.get() + 1).await?;
    Ok(Page::from_overfetch(rows, size, |a| a.id.as_str()))
}

/// Replaces the agent's client secret: the new one is returned once, the old one stops
/// working when this commits.
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub async fn rotate_secret(
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
    tx.commit().await?;
    Ok((agent, secret))
}
