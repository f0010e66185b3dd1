//! Refreshing an agent session (`grant_type=refresh_token`): the presented refresh token
//! is retired and succeeded by a new pair; its old access token stops working.
//!
//! A retired refresh token presented again within the grace window, while its successor
//! is still unused, answers that same successor pair (a client retrying a refresh whose
//! answer it lost must not kill a healthy session). Any other use of a retired token is
//! reuse: someone holds a copy, and the whole family (the agent session, with its
//! descendants) is revoked. The successors are derived from the presented token with a
//! server-side key (`SecretToken::successors`), so no token is ever stored in plain
//! text and no holder of an old token can compute a new one.

use chrono::{DateTime, Utc};

use crate::domain::actor::Actor;
use crate::domain::agent::Agent;
use crate::domain::agent_session::{self, AgentSession};
use crate::domain::invalidation::Invalidation;
use crate::domain::revocation::{RevocationCause, Selector};
use crate::domain::scope::ScopeSet;
use crate::domain::session::UsedSession;
use crate::domain::token::{SecretToken, TokenHash, TokenKind};
use crate::domain::user::UserStatus;
use crate::domain::user_session::Liveness;
use crate::store::agent_sessions::AccessToken;
use crate::store::{self, LockMode, Tx};
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::delegate_to_agent::lock_agents;
use crate::usecase::revoke_sessions::{Act, Pending, commit_maybe, revoke_in};

/// A refreshed session and its new tokens, shown once.
#[derive(Debug)]
pub struct Refreshed {
    pub session: AgentSession,
    pub access_token: SecretToken,
    pub refresh_token: SecretToken,
    pub access_expires_at: DateTime<Utc>,
}

#[tracing::instrument(skip_all, fields(client_id = %client.id))]
pub async fn refresh(
    app: &App,
    client: &Agent,
    actor: &Actor,
    presented: &str,
    scope: Option<&str>,
) -> Result<Refreshed, UsecaseError> {
    let restated = scope.map(ScopeSet::from_space_separated).transpose()?;
    if !presented.starts_with(TokenKind::RefreshToken.prefix()) {
        return Err(UsecaseError::RefreshTokenInvalid);
    }
    let hash = TokenHash::of(presented);
    let mut tx = app.db.begin().await?;
    let Some(first_look) = store::refresh_tokens::find(&mut tx, &hash).await? else {
        return Err(UsecaseError::RefreshTokenInvalid);
    };
    let owner = store::agent_sessions::get(&mut tx, &first_look.agent_session_id)
        .await?
        .ok_or(UsecaseError::RefreshTokenInvalid)?;
    if owner.agent_id != client.id {
        return Err(UsecaseError::RefreshTokenInvalid);
    }
    // Refreshes and revocations of one user are serialised by the user's row lock; read
    // again under it.
    let user = store::users::lock(&mut tx, &owner.user_id, LockMode::Update)
        .await?
        .ok_or(UsecaseError::RefreshTokenInvalid)?;
    let token = store::refresh_tokens::find(&mut tx, &hash)
        .await?
        .ok_or(UsecaseError::RefreshTokenInvalid)?;
    let mut session = store::agent_sessions::get(&mut tx, &token.agent_session_id)
        .await?
        .ok_or(UsecaseError::RefreshTokenInvalid)?;
    if let Some(restated) = &restated {
        let missing = restated.missing_from(&session.scopes);
        if !missing.is_empty() {
            return Err(agent_session::DelegationRefused::ScopesNotHeld(missing).into());
        }
    }
    // Like an issuance, a refresh holds its chain's agents in share mode, so disabling
    // or narrowing one of them waits for it, and judges the whole chain.
    let agent_active = match lock_agents(&mut tx, &session.agent_id, &session.agent_chain).await {
        Ok(_) => true,
        Err(UsecaseError::AgentDisabled | UsecaseError::AgentNotFound) => false,
        Err(other) => return Err(other),
    };
    let chain_active = store::agent_sessions::chain_active(&mut tx, &session.id).await?;
    let now = app.clock.now();
    let live = user.status == UserStatus::Active
        && agent_active
        && chain_active
        && session.liveness(now) == Liveness::Active;
    let (access_token, refresh_token) =
        SecretToken::successors(&app.settings.encryption_keys.rotation_key(), presented);
    let stale = Invalidation::User(session.user_id.clone());
    match token.rotated_at {
        None if live => {
            let access_expires_at = agent_session::access_expiry(
                now,
                app.settings.access_token_ttl,
                session.expires_at,
            );
            let access = AccessToken {
                hash: access_token.hash(),
                issued_at: now,
                expires_at: access_expires_at,
            };
            store::agent_sessions::rotate_access(&mut tx, &session.id, &access).await?;
            let narrowed = match restated.filter(|r| *r != session.scopes) {
                Some(narrower) => Some(narrow(&mut tx, app, actor, &mut session, narrower).await?),
                None => None,
            };
            store::refresh_tokens::retire(&mut tx, &hash, now).await?;
            store::refresh_tokens::insert(&mut tx, &refresh_token.hash(), &session.id, now).await?;
            // The old access token is cached as active elsewhere: drop it everywhere.
            store::invalidation::announce(&mut tx, &stale).await?;
            commit_maybe(tx, app, narrowed).await?;
            app.invalidate(&stale);
            record_use(app, &session, now);
            Ok(Refreshed {
                session,
                access_token,
                refresh_token,
                access_expires_at,
            })
        }
        None => Err(UsecaseError::RefreshTokenInvalid),
        Some(rotated_at) => {
            // The first attempt derived its successors with the key current then: a
            // key rotation in between must not make a retry look like reuse.
            let mut retried = None;
            for key in app.settings.encryption_keys.rotation_keys() {
                let (access, refresh) = SecretToken::successors(&key, presented);
                if let Some(successor) =
                    store::refresh_tokens::find(&mut tx, &refresh.hash()).await?
                {
                    retried = Some((access, refresh, successor));
                    break;
                }
            }
            let retry = live
                && now - rotated_at <= app.settings.refresh_grace
                && retried
                    .as_ref()
                    .is_some_and(|(_, _, s)| s.rotated_at.is_none());
            if let (true, Some((access_token, refresh_token, _))) = (retry, retried) {
                let access_expires_at =
                    store::agent_sessions::access_expiry_in(&mut tx, &session.id).await?;
                return Ok(Refreshed {
                    session,
                    access_token,
                    refresh_token,
                    access_expires_at,
                });
            }
            if session.revoked.is_none() {
                let act = Act {
                    actor,
                    cause: RevocationCause::RefreshTokenReused,
                    selector: Selector::AgentSessions(vec![session.id.clone()]),
                    reason: None,
                };
                revoke_in(&mut tx, app, act).await?.commit(tx, app).await?;
                tracing::warn!(agent_session_id = %session.id, "refresh token reused; family revoked");
            }
            Err(UsecaseError::RefreshTokenInvalid)
        }
    }
}

/// RFC 6749 §6: a refresh may ask for fewer scopes. The session keeps only those from
/// now on, and its sub-delegations that hold more go, with their descendants
/// (invariant 1: a child holds no more than its parent).
async fn narrow(
    tx: &mut Tx,
    app: &App,
    actor: &Actor,
    session: &mut AgentSession,
    narrower: ScopeSet,
) -> Result<Pending, UsecaseError> {
    store::agent_sessions::narrow(tx, &session.id, &narrower).await?;
    let act = Act {
        actor,
        cause: RevocationCause::ScopeReduced,
        selector: Selector::SessionNarrowed {
            agent_session_id: session.id.clone(),
            allowed: narrower.clone(),
        },
        reason: None,
    };
    let pending = revoke_in(tx, app, act).await?;
    session.scopes = narrower;
    Ok(pending)
}

/// A refresh is a use of the session and of everything it hangs from.
fn record_use(app: &App, session: &AgentSession, now: DateTime<Utc>) {
    for ancestor in &session.ancestor_ids {
        app.last_use
            .record(&UsedSession::Agent(ancestor.clone()), now);
    }
    app.last_use
        .record(&UsedSession::User(session.user_session_id.clone()), now);
}
