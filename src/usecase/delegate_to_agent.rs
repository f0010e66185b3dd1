//! Issuing agent sessions: by token exchange (RFC 8693) from a user session token or,
//! for a sub-delegation, from another agent's access token; or minted by the host
//! application for a signed-in user. All three follow the same rules
//! (`crate::domain::agent_session::delegate`) in one transaction that holds the user's
//! and the agents' row locks in share mode, so no revocation or narrowing of what the
//! new session hangs from can interleave with its issuance.

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::domain::actor::Actor;
use crate::domain::agent::{Agent, AgentStatus};
use crate::domain::agent_session::{
    self, AgentSession, Consent, DelegationRules, ParentSession, Upstream,
};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::{AgentId, UserId, UserSessionId};
use crate::domain::scope::ScopeSet;
use crate::domain::token::{SecretToken, TokenKind};
use crate::domain::user::UserStatus;
use crate::domain::user_session::Liveness;
use crate::store::agent_sessions::{AccessToken, NewAgentSession};
use crate::store::{self, LockMode, Tx};
use crate::token_cache::SessionValidity;
use crate::usecase::UsecaseError;
use crate::usecase::introspect::active_subject;

/// A new agent session and its tokens, shown once.
#[derive(Debug)]
pub struct IssuedAgentSession {
    pub session: AgentSession,
    pub access_token: SecretToken,
    pub refresh_token: SecretToken,
    pub access_expires_at: DateTime<Utc>,
}

/// Token exchange: `client` (authenticated; `actor` says so) delegates from
/// `subject_token`, asking for `scope` (space-separated; all it may hold when absent).
#[tracing::instrument(skip_all, fields(client_id = %client.id))]
pub async fn exchange(
    app: &App,
    client: &Agent,
    actor: &Actor,
    subject_token: &str,
    scope: Option<&str>,
) -> Result<IssuedAgentSession, UsecaseError> {
    let requested = scope.map(ScopeSet::from_space_separated).transpose()?;
    // A first look, without locks, to learn whose token it is and which agents to lock.
    let Some(seen) = active_subject(app, &app.db, subject_token).await? else {
        return Err(UsecaseError::SubjectTokenInactive);
    };
    let mut agents = vec![client.id.clone()];
    if let SessionValidity::Agent(parent) = &seen {
        agents.extend(parent.agent_chain.iter().cloned());
    }
    let mut tx = app.db.begin().await?;
    store::users::lock(&mut tx, seen.user_id(), LockMode::Share).await?;
    let agent = lock_agents(&mut tx, &client.id, &agents).await?;
    // Judged again under the locks: anything revoked before them is seen now.
    let Some(subject) = active_subject(app, &mut tx, subject_token).await? else {
        return Err(UsecaseError::SubjectTokenInactive);
    };
    let upstream = match subject {
        SessionValidity::User(v) => Upstream {
            user_id: v.user_id,
            user_session_id: v.session_id,
            parent: None,
            expires_at: v.expires_at,
            idle_timeout: v.idle_timeout,
        },
        SessionValidity::Agent(v) => Upstream {
            user_id: v.user_id,
            user_session_id: v.user_session_id,
            parent: Some(ParentSession {
                id: v.session_id,
                scopes: v.scopes,
                agent_chain: v.agent_chain,
                ancestor_ids: v.ancestor_ids,
            }),
            expires_at: v.expires_at,
            idle_timeout: v.idle_timeout,
        },
    };
    let issued = issue_in(&mut tx, app, actor, &upstream, &agent, requested.as_ref()).await?;
    tx.commit().await?;
    Ok(issued)
}

/// The host application mints a session for `agent_id` from the user's signed-in
/// `user_session_id`, without the agent ever holding the user's token.
pub async fn mint_for_user(
    app: &App,
    actor: &Actor,
    user_id: &UserId,
    agent_id: &AgentId,
    scopes: &[String],
    user_session_id: &UserSessionId,
) -> Result<IssuedAgentSession, UsecaseError> {
    let requested = ScopeSet::from_list(scopes)?;
    let mut tx = app.db.begin().await?;
    let user = store::users::lock(&mut tx, user_id, LockMode::Share)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    let agent = lock_agents(&mut tx, agent_id, std::slice::from_ref(agent_id)).await?;
    let session = store::user_sessions::get(&mut tx, user_session_id)
        .await?
        .filter(|s| &s.user_id == user_id)
        .ok_or(UsecaseError::UserSessionNotFound)?;
    if user.status == UserStatus::Disabled || session.liveness(app.clock.now()) != Liveness::Active
    {
        return Err(UsecaseError::UserSessionInactive);
    }
    let upstream = Upstream {
        user_id: user_id.clone(),
        user_session_id: session.id,
        parent: None,
        expires_at: session.expires_at,
        idle_timeout: session.idle_timeout,
    };
    let issued = issue_in(&mut tx, app, actor, &upstream, &agent, Some(&requested)).await?;
    tx.commit().await?;
    Ok(issued)
}

/// Locks the agents of a new session's chain (share mode) and answers the issuing one,
/// which must be active.
async fn lock_agents(
    tx: &mut Tx,
    issuing: &AgentId,
    chain: &[AgentId],
) -> Result<Agent, UsecaseError> {
    let mut ids = chain.to_vec();
    ids.sort();
    ids.dedup();
    let agent = store::agents::lock(tx, &ids, LockMode::Share)
        .await?
        .into_iter()
        .find(|a| &a.id == issuing)
        .ok_or(UsecaseError::AgentNotFound)?;
    if agent.status == AgentStatus::Disabled {
        return Err(UsecaseError::AgentDisabled);
    }
    Ok(agent)
}

async fn issue_in(
    tx: &mut Tx,
    app: &App,
    actor: &Actor,
    upstream: &Upstream,
    agent: &Agent,
    requested: Option<&ScopeSet>,
) -> Result<IssuedAgentSession, UsecaseError> {
    let now = app.clock.now();
    let grant = store::grants::active_for(tx, &upstream.user_id, &agent.id)
        .await?
        .ok_or(UsecaseError::ConsentRequired)?;
    let settings = &app.settings;
    let rules = DelegationRules {
        lifetime: agent
            .session_lifetime
            .unwrap_or(settings.agent_session_lifetime),
        access_token_ttl: settings.access_token_ttl,
        max_depth: settings.delegation_depth_limit,
    };
    let consent = Consent {
        agent_id: &agent.id,
        grant_id: &grant.id,
        granted: &grant.scopes,
        ceiling: &agent.scopes,
    };
    let session = agent_session::delegate(upstream, consent, requested, &rules, now)?;
    let access_token = SecretToken::generate(TokenKind::AccessToken);
    let refresh_token = SecretToken::generate(TokenKind::RefreshToken);
    let access_expires_at =
        agent_session::access_expiry(now, settings.access_token_ttl, session.expires_at);
    let new = NewAgentSession {
        session,
        access: AccessToken {
            hash: access_token.hash(),
            issued_at: now,
            expires_at: access_expires_at,
        },
    };
    store::agent_sessions::insert(tx, std::slice::from_ref(&new)).await?;
    let session = new.session;
    store::refresh_tokens::insert(tx, &refresh_token.hash(), &session.id, now).await?;
    store::audit::append(
        tx,
        &AuditEntry::new(
            actor,
            AuditAction::AgentSessionCreated,
            session.id.as_str(),
            now,
        ),
    )
    .await?;
    Ok(IssuedAgentSession {
        session,
        access_token,
        refresh_token,
        access_expires_at,
    })
}
