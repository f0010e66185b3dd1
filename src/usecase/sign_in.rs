//! A sign-in: creating a user session, within the limit of sessions per user, unless it
//! comes from a blocked address.

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::{UserId, UserSessionId};
use crate::domain::limits::{self, Limited};
use crate::domain::text;
use crate::domain::token::{SecretToken, TokenKind};
use crate::domain::user::UserStatus;
use crate::domain::user_session::{Lifetime, UserSession};
use crate::store;
use crate::store::LockMode;
use crate::store::user_sessions::NewUserSession;
use crate::usecase::UsecaseError;
use crate::usecase::{App, ip_blocks};
use std::num::NonZeroU32;

/// What the host application tells Leash about a sign-in.
#[derive(Debug, Clone, Default)]
pub struct SignIn {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub ttl_seconds: Option<i64>,
    pub idle_timeout_seconds: Option<i64>,
}

pub const MAX_IP_ADDRESS: usize = 64;
pub const MAX_USER_AGENT: usize = 512;

/// Creates a session for an active user. The token is returned once; only its hash is
/// stored.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn sign_in(
    app: &App,
    actor: &Actor,
    user_id: &UserId,
    sign_in: SignIn,
) -> Result<(UserSession, SecretToken), UsecaseError> {
    let lifetime = Lifetime::requested(
        sign_in.ttl_seconds,
        sign_in.idle_timeout_seconds,
        app.settings.user_session_lifetime,
    )?;
    let check = |field: &'static str, value: Option<String>, max: usize| {
        value
            .map(|v| {
                text::optional(&v, max)
                    .map(|_| v.clone())
                    .map_err(|reason| UsecaseError::TextRefused { field, reason })
            })
            .transpose()
    };
    let ip_address = check("ip_address", sign_in.ip_address, MAX_IP_ADDRESS)?;
    let user_agent = check("user_agent", sign_in.user_agent, MAX_USER_AGENT)?;

    let now = app.clock.now();
    let from = ip_address
        .as_deref()
        .and_then(|raw| raw.trim().parse().ok());
    ip_blocks::refuse_if_blocked((&app.db).into(), from, now).await?;
    let mut tx = app.db.begin().await?;
    // The row lock orders this sign-in against a concurrent disable or sign-out.
    let user = store::users::lock(&mut tx, user_id, LockMode::Update)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    if user.status == UserStatus::Disabled {
        return Err(UsecaseError::UserDisabled);
    }
    // Under the user's row lock, so concurrent sign-ins count each other.
    // A limit of 0 is none: nothing to count.
    if let Some(limit) = NonZeroU32::new(app.settings.limits.user_sessions_per_user) {
        let limit = limit.get();
        let active = store::user_sessions::count_active(&mut tx, user_id, now, limit).await?;
        if !limits::one_more_fits(limit, active) {
            return Err(UsecaseError::TooManySessions {
                what: Limited::UserSessionsPerUser,
                limit,
            });
        }
    }
    let token = SecretToken::generate(TokenKind::UserSession);
    let session = UserSession {
        id: UserSessionId::generate(),
        user_id: user_id.clone(),
        ip_address,
        user_agent,
        created_at: now,
        last_seen_at: now,
        expires_at: now + lifetime.ttl,
        idle_timeout: lifetime.idle_timeout,
        revoked: None,
    };
    store::user_sessions::insert(
        &mut tx,
        &[NewUserSession {
            session: session.clone(),
            token_hash: token.hash(),
        }],
    )
    .await?;
    store::audit::append(
        &mut tx,
        &AuditEntry::new(
            actor,
            AuditAction::UserSessionCreated,
            session.id.as_str(),
            now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((session, token))
}
