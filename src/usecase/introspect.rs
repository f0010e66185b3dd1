//! Is this token still good? Asked by resource servers on every request, so the answer
//! comes from the token cache when it can (see `crate::cache::tokens` for why that keeps
//! the revocation promise) and from one indexed read when it cannot. It never writes:
//! last use goes to `crate::cache::last_use`, for an agent session together with its
//! ancestors and the user session at its root (a tree in use stays alive as a whole).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::cache::tokens::{CachedSession, Lookup};
use crate::domain::id::{AgentId, AgentSessionId, UserId, UserSessionId};
use crate::domain::scope::ScopeSet;
use crate::domain::session::SessionValidity;
use crate::domain::token::{TokenHash, TokenKind};
use crate::domain::user_session::Liveness;
use crate::store::{self, Reader};
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// What introspection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Introspection {
    ActiveUserSession {
        session_id: UserSessionId,
        user_id: UserId,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
    ActiveAgentSession {
        session_id: AgentSessionId,
        user_id: UserId,
        agent_id: AgentId,
        scopes: ScopeSet,
        /// The agents of the chain, nearest first (`agent_id` first).
        chain: Vec<AgentId>,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
    Inactive,
}

#[tracing::instrument(skip_all)]
pub async fn introspect(app: &App, presented: &str) -> Result<Introspection, UsecaseError> {
    let Some(kind) = kind_of(presented) else {
        return Ok(Introspection::Inactive);
    };
    let hash = TokenHash::of(presented);
    let cached = match app.tokens.get(&hash) {
        Lookup::Hit(session) => session,
        Lookup::Miss { generation } => {
            let Some(session) = load(&app.db, kind, &hash).await? else {
                return Ok(Introspection::Inactive);
            };
            let session = Arc::new(session);
            app.tokens.offer(generation, hash, Arc::clone(&session));
            session
        }
    };
    let now = app.clock.now();
    let validity = match cached.validity.liveness(now, cached.last_seen_at()) {
        Liveness::Active => cached.validity.clone(),
        // Another instance, or another session of the tree, may have used it since it
        // was cached: the database has the last word on idleness.
        Liveness::IdleTimedOut => match fresh_active(app, &app.db, kind, &hash, now).await? {
            Some(validity) => validity,
            None => return Ok(Introspection::Inactive),
        },
        _ => return Ok(Introspection::Inactive),
    };
    if cached.record_use(now) {
        record_use(app, &validity, now);
    }
    Ok(answer(validity))
}

/// The validity of a subject token about to be delegated from, read from the database
/// through `reader` (never from the cache: the caller holds the locks that make the
/// read current), if it is active. Records the use.
pub(super) async fn active_subject(
    app: &App,
    reader: impl Into<Reader<'_>>,
    presented: &str,
) -> Result<Option<SessionValidity>, UsecaseError> {
    let Some(kind) = kind_of(presented) else {
        return Ok(None);
    };
    let hash = TokenHash::of(presented);
    let now = app.clock.now();
    let validity = fresh_active(app, reader, kind, &hash, now).await?;
    if let Some(validity) = &validity {
        record_use(app, validity, now);
    }
    Ok(validity)
}

/// Which kind of session token `presented` claims to be, by its prefix.
pub(super) fn kind_of(presented: &str) -> Option<TokenKind> {
    [TokenKind::UserSession, TokenKind::AccessToken]
        .into_iter()
        .find(|kind| presented.starts_with(kind.prefix()))
}

async fn load(
    reader: impl Into<Reader<'_>>,
    kind: TokenKind,
    hash: &TokenHash,
) -> Result<Option<CachedSession>, UsecaseError> {
    Ok(match kind {
        TokenKind::AccessToken => store::agent_sessions::find_validity(reader, hash)
            .await?
            .map(|(v, last_used)| {
                CachedSession::new(SessionValidity::Agent(Box::new(v)), last_used)
            }),
        _ => store::user_sessions::find_validity(reader, hash)
            .await?
            .map(|(v, last_seen)| CachedSession::new(SessionValidity::User(v), last_seen)),
    })
}

/// Reads the token from the database and judges it, taking the latest use this
/// instance knows of (its cache may hold a use not yet written).
async fn fresh_active(
    app: &App,
    reader: impl Into<Reader<'_>>,
    kind: TokenKind,
    hash: &TokenHash,
    now: DateTime<Utc>,
) -> Result<Option<SessionValidity>, UsecaseError> {
    let Some(fresh) = load(reader, kind, hash).await? else {
        return Ok(None);
    };
    let last_seen = fresh.last_seen_at();
    Ok(if_active(app, hash, fresh.validity, last_seen, now))
}

/// The validity of a token read fresh from the database, if it is active at `now`,
/// taking the latest use this instance knows of (its cache, or the write-behind buffer,
/// may hold a use not yet written).
pub(super) fn if_active(
    app: &App,
    hash: &TokenHash,
    validity: SessionValidity,
    last_seen_in_db: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<SessionValidity> {
    let mut last_seen = last_seen_in_db;
    if let Lookup::Hit(cached) = app.tokens.get(hash) {
        last_seen = last_seen.max(cached.last_seen_at());
    }
    if let Some(pending) = app.last_use.pending(&validity.own_session()) {
        last_seen = last_seen.max(pending);
    }
    (validity.liveness(now, last_seen) == Liveness::Active).then_some(validity)
}

/// Queues the use of a session, and of everything it hangs from.
pub(super) fn record_use(app: &App, validity: &SessionValidity, now: DateTime<Utc>) {
    for session in validity.used_sessions() {
        app.last_use.record(&session, now);
    }
}

fn answer(validity: SessionValidity) -> Introspection {
    match validity {
        SessionValidity::User(v) => Introspection::ActiveUserSession {
            session_id: v.session_id,
            user_id: v.user_id,
            issued_at: v.created_at,
            expires_at: v.expires_at,
        },
        SessionValidity::Agent(v) => Introspection::ActiveAgentSession {
            session_id: v.session_id,
            user_id: v.user_id,
            agent_id: v.agent_id,
            scopes: v.scopes,
            chain: v.agent_chain,
            issued_at: v.access_issued_at,
            expires_at: v.access_expires_at.min(v.expires_at),
        },
    }
}
