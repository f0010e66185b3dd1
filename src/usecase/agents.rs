//! Registering agents, reading them, authenticating them and rotating their client
//! secret (`update_agent` changes their ceiling, `disable_agent` and `enable_agent` their
//! status).

use crate::domain::actor::Actor;
use crate::domain::agent::{self, Agent, AgentStatus};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::AgentId;
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::domain::scope::ScopeSet;
use crate::domain::token::{SecretToken, TokenHash, TokenKind};
use crate::domain::user_session::Lifetime;
use crate::store::{self, LockMode, Tx};
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Registers an agent with a ceiling of scopes. The client secret is returned once;
/// only its hash is stored.
#[tracing::instrument(skip_all)]
pub async fn register(
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

/// An agent's own lifetime for its sessions; both `None` for the configured default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionLifetimeRequest {
    pub ttl_seconds: Option<i64>,
    pub idle_timeout_seconds: Option<i64>,
}

pub(super) fn checked_name(name: &str) -> Result<&str, UsecaseError> {
    agent::name(name).map_err(|reason| UsecaseError::TextRefused {
        field: "name",
        reason,
    })
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

/// Checks an agent's client credentials (constant-time on the secret's hash). A
/// disabled agent is refused after its credentials check out.
#[tracing::instrument(skip_all)]
pub async fn authenticate(
    app: &App,
    client_id: &str,
    client_secret: &str,
) -> Result<Agent, UsecaseError> {
    let id = AgentId::parse(client_id).ok_or(UsecaseError::ClientAuthenticationFailed)?;
    let (agent, stored) = store::agents::with_secret_hash(&app.db, &id)
        .await?
        .ok_or(UsecaseError::ClientAuthenticationFailed)?;
    if !stored.matches(&TokenHash::of(client_secret)) {
        return Err(UsecaseError::ClientAuthenticationFailed);
    }
    if agent.status == AgentStatus::Disabled {
        return Err(UsecaseError::AgentDisabled);
    }
    Ok(agent)
}

/// Locks one agent for a change: waits for every issuance under it.
pub(super) async fn lock_one(tx: &mut Tx, id: &AgentId) -> Result<Agent, UsecaseError> {
    store::agents::lock(tx, std::slice::from_ref(id), LockMode::Update)
        .await?
        .into_iter()
        .next()
        .ok_or(UsecaseError::AgentNotFound)
}
