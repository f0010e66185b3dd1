//! The provider sends the person back: Leash takes the attempt by its `state` (once),
//! checks who is finishing it and what the provider said, exchanges the code, and
//! stores the connection with its tokens sealed. Any failure stores no connection and
//! no token.
//!
//! The person's browser may carry no Leash credential at all (a host backend often
//! starts the attempt and redirects the browser): the state alone names the attempt,
//! and the connection goes to the user of the session that started it, only while that
//! session is active. Started with the session cookie, it must be finished with the
//! same cookie; a callback carrying any other user's session is refused.
//!
//! A reconnect whose provider now grants fewer scopes revokes, in the same
//! transaction, every agent session holding a lost one (cause `scope_reduced`).

use chrono::TimeDelta;

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::connection::{
    AuthorizationFailure, Connection, ConnectionStatus, UpstreamToken,
};
use crate::domain::id::ConnectionId;
use crate::domain::revocation::{Revocation, RevocationCause, Selector};
use crate::domain::secret::Secret;
use crate::domain::session::SessionValidity;
use crate::domain::token::TokenHash;
use crate::store::connections::SealedTokens;
use crate::store::{self, LockMode};
use crate::upstream::oauth_provider::{UpstreamError, UpstreamTokens};
use crate::usecase::introspect::if_active;
use crate::usecase::revoke_sessions::{Act, commit_maybe, revoke_in};
use crate::usecase::start_connection::verifier_context;
use crate::usecase::{App, UsecaseError};

/// The longest part of a provider's error that is repeated to the person.
const ERROR_ECHO_MAX: usize = 200;

/// What the callback request carried. No `Debug`: the state, the code and the session
/// tokens are secrets.
#[derive(Default)]
pub struct Callback<'a> {
    pub state: Option<&'a str>,
    pub code: Option<&'a str>,
    /// RFC 9207's issuer identifier.
    pub iss: Option<&'a str>,
    pub error: Option<&'a str>,
    pub error_description: Option<&'a str>,
    /// The user session token in the session cookie, if any.
    pub cookie_session: Option<&'a str>,
    /// The user session token sent as Bearer, if any.
    pub bearer_session: Option<&'a str>,
    pub request_id: Option<String>,
}

/// A finished connection, and where to send the person.
#[derive(Debug)]
pub struct Connected {
    pub connection: Connection,
    pub return_to: Option<String>,
    /// What a reconnect granting fewer scopes revoked.
    pub narrowed: Option<Revocation>,
}

#[tracing::instrument(skip_all)]
pub async fn finish_connection(
    app: &App,
    callback: Callback<'_>,
) -> Result<Connected, UsecaseError> {
    use AuthorizationFailure as F;
    let state = callback
        .state
        .filter(|s| !s.is_empty())
        .ok_or(F::StateMissing)?;
    let hash = TokenHash::of(state);
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let taken = store::oauth_states::take(&mut tx, &hash, now).await?;
    tx.commit().await?;
    let (pending, sealed_verifier) = taken.ok_or(F::StateInvalid)?;

    // Whoever's browser this is must not be another user, and must be the very session
    // when the attempt was started with its cookie.
    let cookie_session = match callback.cookie_session {
        Some(token) => session_of(app, token).await?,
        None => None,
    };
    let bearer_session = match callback.bearer_session {
        Some(token) => session_of(app, token).await?,
        None => None,
    };
    for carried in [&cookie_session, &bearer_session].into_iter().flatten() {
        if carried.user_id != pending.user_id {
            return Err(F::SessionMismatch.into());
        }
    }
    if pending.cookie_bound
        && cookie_session.as_ref().map(|s| &s.session_id) != Some(&pending.user_session_id)
    {
        return Err(F::SessionMismatch.into());
    }

    if let Some(error) = callback.error {
        let said = match callback.error_description {
            Some(description) => format!("{error}: {description}"),
            None => error.to_owned(),
        };
        return Err(F::Denied(said.chars().take(ERROR_ECHO_MAX).collect()).into());
    }
    let client = app
        .settings
        .providers
        .get(&pending.provider)
        .ok_or(UsecaseError::ProviderNotFound)?;
    if let Some(issuer) = &client.provider.issuer
        && callback.iss != Some(issuer.as_str())
    {
        return Err(F::IssuerMismatch.into());
    }
    let code = callback
        .code
        .filter(|c| !c.is_empty())
        .ok_or(F::CodeMissing)?;
    let verifier = sealed_verifier
        .map(|sealed| {
            app.settings
                .encryption_keys
                .open(&sealed, &verifier_context(&hash))
                .map(|plain| Secret::new(String::from_utf8_lossy(&plain).into_owned()))
        })
        .transpose()?;
    let tokens = client
        .exchange_code(code, verifier.as_ref())
        .await
        .map_err(|error| match error {
            UpstreamError::Unavailable(why) => F::ProviderUnavailable(why),
            UpstreamError::InvalidGrant(why) | UpstreamError::Refused(why) => {
                F::ProviderRefused(why)
            }
        })?;
    let granted = tokens
        .scopes
        .clone()
        .unwrap_or_else(|| pending.requested_scopes.clone());

    let now = app.clock.now();
    let actor = Actor::user(pending.user_id.clone(), callback.request_id);
    let mut tx = app.db.begin().await?;
    // Under the user's lock: a revoke of the session either happened before (seen now)
    // or waits for this commit. Taken for update, as a revoke takes it: a reconnect that
    // grants less revokes in this transaction.
    store::users::lock(&mut tx, &pending.user_id, LockMode::Update).await?;
    let session_active =
        match store::user_sessions::find_validity_by_id(&mut tx, &pending.user_session_id).await? {
            Some((hash, validity, last_seen)) => {
                if_active(app, &hash, SessionValidity::User(validity), last_seen, now).is_some()
            }
            None => false,
        };
    if !session_active {
        return Err(F::SessionInactive.into());
    }
    let existing =
        store::connections::lock_live(&mut tx, &pending.user_id, &pending.provider).await?;
    let id = existing
        .as_ref()
        .map_or_else(ConnectionId::generate, |c| c.id.clone());
    let sealed = seal(app, &id, &tokens, now);
    let mut narrowed = None;
    match &existing {
        Some(before) => {
            store::connections::reconnect(&mut tx, &id, &granted, &sealed, now).await?;
            if before.granted_scopes.iter().any(|s| !granted.contains(s)) {
                // The provider grants less than before: what held the lost scopes goes.
                let act = Act {
                    actor: &actor,
                    cause: RevocationCause::ScopeReduced,
                    selector: Selector::ConnectionNarrowed {
                        connection_id: id.clone(),
                        user_id: pending.user_id.clone(),
                        provider: pending.provider.clone(),
                        allowed: granted.clone(),
                    },
                    reason: None,
                };
                narrowed = Some(revoke_in(&mut tx, app, act).await?);
            }
        }
        None => {
            let connection = Connection {
                id: id.clone(),
                user_id: pending.user_id.clone(),
                provider: pending.provider.clone(),
                status: ConnectionStatus::Connected,
                granted_scopes: granted.clone(),
                token_expires_at: sealed.expires_at,
                connected_at: now,
                last_refreshed_at: None,
                disconnected_at: None,
                receipt: Vec::new(),
            };
            store::connections::insert(&mut tx, &connection, &sealed).await?;
        }
    }
    store::audit::append(
        &mut tx,
        &AuditEntry::new(&actor, AuditAction::ConnectionConnected, id.as_str(), now),
    )
    .await?;
    let connection = store::connections::get(&mut tx, &id)
        .await?
        .ok_or(UsecaseError::ConnectionNotFound)?;
    let narrowed = commit_maybe(tx, app, narrowed).await?;
    Ok(Connected {
        connection,
        return_to: pending.return_to,
        narrowed,
    })
}

/// The user session a carried token belongs to (active or not): who is at the browser.
async fn session_of(
    app: &App,
    token: &str,
) -> Result<Option<crate::domain::user_session::Validity>, UsecaseError> {
    // The self-service page's cookie names its session by a token of its own.
    if token.starts_with(crate::domain::token::TokenKind::SessionCookie.prefix()) {
        let Some(id) = store::user_sessions::id_by_cookie(&app.db, &TokenHash::of(token)).await?
        else {
            return Ok(None);
        };
        return Ok(store::user_sessions::find_validity_by_id(&app.db, &id)
            .await?
            .map(|(_, validity, _)| validity));
    }
    Ok(
        store::user_sessions::find_validity(&app.db, &TokenHash::of(token))
            .await?
            .map(|(validity, _)| validity),
    )
}

/// The context a connection's token of `kind` is sealed under: bound to its row.
pub fn token_context(id: &ConnectionId, kind: &str) -> String {
    format!("connection/{id}/{kind}")
}

pub(super) fn seal(
    app: &App,
    id: &ConnectionId,
    tokens: &UpstreamTokens,
    now: chrono::DateTime<chrono::Utc>,
) -> SealedTokens {
    let key = &app.settings.encryption_keys;
    SealedTokens {
        access_token: key.seal(
            tokens.access_token.expose().as_bytes(),
            &token_context(id, UpstreamToken::Access.as_str()),
        ),
        refresh_token: tokens.refresh_token.as_ref().map(|refresh| {
            key.seal(
                refresh.expose().as_bytes(),
                &token_context(id, UpstreamToken::Refresh.as_str()),
            )
        }),
        expires_at: tokens
            .expires_in
            .and_then(|d| TimeDelta::from_std(d).ok())
            .map(|d| now + d),
    }
}
