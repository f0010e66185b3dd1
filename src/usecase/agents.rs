//! Reading agents and authenticating them (the acts on an agent live in
//! `register_agent`, `rotate_agent_secret`, `update_agent`, `disable_agent` and
//! `enable_agent`).

use crate::domain::agent::{self, Agent, AgentStatus};
use crate::domain::id::AgentId;
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::domain::token::TokenHash;
use crate::store::{self, LockMode, Tx};
use crate::usecase::App;
use crate::usecase::UsecaseError;

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

/// Checks an agent's client credentials (constant-time on the secret's hash). A
/// disabled agent is refused after its credentials check out. The agent and its
/// secret's hash are remembered (`crate::cache::verified`), so a busy agent's requests
/// cost one hash each, not a query; every change to an agent forgets them.
#[tracing::instrument(skip_all)]
pub async fn authenticate(
    app: &App,
    client_id: &str,
    client_secret: &str,
) -> Result<Agent, UsecaseError> {
    let id = AgentId::parse(client_id).ok_or(UsecaseError::ClientAuthenticationFailed)?;
    let (agent, stored) = match app.agents.get(&id) {
        Ok(verified) => verified,
        Err(generation) => {
            let read = store::agents::with_secret_hash(&app.db, &id)
                .await?
                .ok_or(UsecaseError::ClientAuthenticationFailed)?;
            app.agents.offer(generation, id, read.clone());
            read
        }
    };
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
