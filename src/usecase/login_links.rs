//! One-time login links: a host application, for a person signed in with it, asks for a
//! link to the self-service page; the person's browser follows it once, within minutes,
//! and gets the session cookie of that user session.

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::{UserId, UserSessionId};
use crate::domain::token::{SecretToken, TokenHash, TokenKind};
use crate::domain::user_session::Liveness;
use crate::store;
use crate::usecase::{App, UsecaseError};

/// How long a link may wait to be followed.
pub const LINK_TTL: TimeDelta = TimeDelta::minutes(2);

/// The longest `return_to` path kept.
const RETURN_TO_MAX: usize = 200;

/// A link made, shown once.
#[derive(Debug)]
pub struct LoginLink {
    pub token: SecretToken,
    pub expires_at: DateTime<Utc>,
}

/// What following a link gives the browser: its cookie, and the page to open.
#[derive(Debug)]
pub struct Followed {
    pub cookie: SecretToken,
    pub user_session_id: UserSessionId,
    pub open: String,
}

/// A link that signs the browser in as `user_session_id` (the user's, and active), and
/// opens `return_to` (a path of the page, `/account…`) or `/account`.
pub async fn create(
    app: &App,
    actor: &Actor,
    user_id: &UserId,
    user_session_id: &UserSessionId,
    return_to: Option<&str>,
) -> Result<LoginLink, UsecaseError> {
    let return_to = return_to.map(page_path).transpose()?;
    let now = app.clock.now();
    let session = store::user_sessions::get(&app.db, user_session_id)
        .await?
        .filter(|s| &s.user_id == user_id)
        .ok_or(UsecaseError::UserSessionNotFound)?;
    if session.liveness(now) != Liveness::Active {
        return Err(UsecaseError::UserSessionInactive);
    }
    let token = SecretToken::generate(TokenKind::LoginLink);
    let expires_at = now + LINK_TTL;
    let mut tx = app.db.begin().await?;
    store::login_links::insert(
        &mut tx,
        &token.hash(),
        user_session_id,
        return_to.as_deref(),
        now,
        expires_at,
    )
    .await?;
    store::audit::append(
        &mut tx,
        &AuditEntry::new(
            actor,
            AuditAction::LoginLinkCreated,
            user_session_id.as_str(),
            now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(LoginLink { token, expires_at })
}

/// Follows the link whose token is `presented`: once, before it expires, while its
/// session is active. Anything else is [`UsecaseError::LoginLinkInvalid`].
pub async fn follow(
    app: &App,
    presented: &str,
    request_id: Option<String>,
) -> Result<Followed, UsecaseError> {
    if !presented.starts_with(TokenKind::LoginLink.prefix()) {
        return Err(UsecaseError::LoginLinkInvalid);
    }
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let (user_session_id, return_to) =
        store::login_links::take(&mut tx, &TokenHash::of(presented), now)
            .await?
            .ok_or(UsecaseError::LoginLinkInvalid)?;
    let (_, validity, last_seen) =
        store::user_sessions::find_validity_by_id(&mut tx, &user_session_id)
            .await?
            .ok_or(UsecaseError::LoginLinkInvalid)?;
    if validity.liveness(now, last_seen) != Liveness::Active {
        return Err(UsecaseError::LoginLinkInvalid);
    }
    let cookie = SecretToken::generate(TokenKind::SessionCookie);
    store::user_sessions::set_cookie_token(&mut tx, &user_session_id, &cookie.hash()).await?;
    let actor = Actor::user(validity.user_id.clone(), request_id);
    store::audit::append(
        &mut tx,
        &AuditEntry::new(
            &actor,
            AuditAction::LoginLinkUsed,
            user_session_id.as_str(),
            now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Followed {
        cookie,
        user_session_id,
        open: return_to.unwrap_or_else(|| "/account".to_owned()),
    })
}

/// A path of the self-service page: `/account`, or below it, of letters, digits, `/`,
/// `#`, `-` and `_` only (what the request's schema says), so nothing can lead
/// elsewhere.
fn page_path(raw: &str) -> Result<String, UsecaseError> {
    let below = raw == "/account" || raw.starts_with("/account/") || raw.starts_with("/account#");
    let plain = raw.len() <= RETURN_TO_MAX
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/#-_".contains(c));
    if below && plain {
        Ok(raw.to_owned())
    } else {
        Err(UsecaseError::ReturnToRefused)
    }
}

/// Forgets links expired before `before`.
pub(super) async fn prune(app: &App, before: DateTime<Utc>) -> Result<u64, UsecaseError> {
    let mut tx = app.db.begin().await?;
    let pruned = store::login_links::prune(&mut tx, before).await?;
    tx.commit().await?;
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_only_a_path_of_the_page() {
        for ok in ["/account", "/account#connections", "/account/confirm"] {
            assert_eq!(page_path(ok).unwrap(), ok);
        }
        for refused in [
            "https://evil.example/",
            "//evil.example/account",
            "/accountx",
            "/account/../admin",
            "/account?x=1",
            "/account\\evil",
            "",
        ] {
            assert!(page_path(refused).is_err(), "{refused}");
        }
    }
}
