//! Is this token still good? Asked by resource servers on every request, so the answer
//! comes from the token cache when it can (see `crate::token_cache` for why that keeps
//! the revocation promise) and from one indexed read when it cannot. It never writes:
//! last use goes to `crate::last_use_buffer`.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::domain::id::{UserId, UserSessionId};
use crate::domain::token::{TokenHash, TokenKind};
use crate::domain::user_session::Liveness;
use crate::store;
use crate::token_cache::{CachedUserSession, Lookup};
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
    Inactive,
}

#[tracing::instrument(skip_all)]
pub async fn introspect(app: &App, presented: &str) -> Result<Introspection, UsecaseError> {
    if !presented.starts_with(TokenKind::UserSession.prefix()) {
        return Ok(Introspection::Inactive);
    }
    let hash = TokenHash::of(presented);
    let session = match app.tokens.get(&hash) {
        Lookup::Hit(session) => session,
        Lookup::Miss { generation } => {
            let Some((validity, last_seen_at)) =
                store::user_sessions::find_validity(&app.db, &hash).await?
            else {
                return Ok(Introspection::Inactive);
            };
            let session = Arc::new(CachedUserSession::new(validity, last_seen_at));
            app.tokens.offer(generation, hash, Arc::clone(&session));
            session
        }
    };
    let now = app.clock.now();
    if session.validity.liveness(now, session.last_seen_at()) != Liveness::Active {
        return Ok(Introspection::Inactive);
    }
    if session.record_use(now) {
        app.last_use.record(&session.validity.session_id, now);
    }
    let v = &session.validity;
    Ok(Introspection::ActiveUserSession {
        session_id: v.session_id.clone(),
        user_id: v.user_id.clone(),
        issued_at: v.created_at,
        expires_at: v.expires_at,
    })
}
