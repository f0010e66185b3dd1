//! Revoking one agent session and its descendants: by the host application (by id), or
//! by the agent itself presenting one of its tokens (RFC 7009).

use crate::domain::actor::Actor;
use crate::domain::agent::Agent;
use crate::domain::agent_session::AgentSession;
use crate::domain::id::AgentSessionId;
use crate::domain::revocation::{Revocation, RevocationCause, Selector};
use crate::domain::token::{TokenHash, TokenKind};
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::revoke_sessions::{Act, checked_reason, revoke_in};

/// Revokes the session and its descendants; revoking it again revokes nothing and
/// answers a revocation that hit zero sessions.
pub async fn revoke_agent_session(
    app: &App,
    actor: &Actor,
    id: &AgentSessionId,
    reason: Option<&str>,
) -> Result<Revocation, UsecaseError> {
    let reason = checked_reason(reason)?;
    let session = store::agent_sessions::get(&app.db, id)
        .await?
        .ok_or(UsecaseError::AgentSessionNotFound)?;
    revoke(app, actor, &session, reason).await
}

/// RFC 7009: the agent revokes one of its own access or refresh tokens, and with it its
/// session and the session's descendants. A token that is unknown, already dead or
/// another agent's revokes nothing and is not an error (§2.2), so the answer reveals
/// nothing about tokens the caller does not hold.
#[tracing::instrument(skip_all, fields(client_id = %client.id))]
pub async fn revoke_token(
    app: &App,
    client: &Agent,
    actor: &Actor,
    presented: &str,
) -> Result<Option<Revocation>, UsecaseError> {
    let hash = TokenHash::of(presented);
    let session = if presented.starts_with(TokenKind::AccessToken.prefix()) {
        store::agent_sessions::by_access_hash(&app.db, &hash).await?
    } else if presented.starts_with(TokenKind::RefreshToken.prefix()) {
        match store::refresh_tokens::find(&app.db, &hash).await? {
            Some(token) => store::agent_sessions::get(&app.db, &token.agent_session_id).await?,
            None => None,
        }
    } else {
        None
    };
    match session {
        Some(session) if session.agent_id == client.id && session.revoked.is_none() => {
            revoke(app, actor, &session, None).await.map(Some)
        }
        _ => Ok(None),
    }
}

async fn revoke(
    app: &App,
    actor: &Actor,
    session: &AgentSession,
    reason: Option<String>,
) -> Result<Revocation, UsecaseError> {
    let mut tx = app.db.begin().await?;
    let act = Act {
        actor,
        cause: RevocationCause::AgentSessionRevoked,
        selector: Selector::AgentSessions(vec![session.id.clone()]),
        reason,
    };
    revoke_in(&mut tx, app, act).await?.commit(tx, app).await
}
