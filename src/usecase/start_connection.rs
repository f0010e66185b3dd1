//! A person starts connecting an upstream provider: Leash records the attempt (its
//! `state` hashed, single use, bound to the user session that started it, ten minutes
//! to finish; the PKCE verifier sealed) and answers where to send the browser.
//! `finish_connection` takes it from there when the provider sends the person back.

use url::Url;

use crate::domain::connection::{AUTHORIZATION_TTL, PendingAuthorization};
use crate::domain::provider;
use crate::domain::scope::{Scope, ScopeRefused, ScopeSet};
use crate::domain::secret::Secret;
use crate::domain::token::{SecretToken, TokenHash, TokenKind};
use crate::store;
use crate::usecase::self_service;
use crate::usecase::{App, UsecaseError};

/// What the person asked for. No `Debug`: it carries the session token.
pub struct ConnectRequest<'a> {
    /// The user session's token, as Bearer or as the session cookie.
    pub session_token: &'a str,
    /// Whether it came as the cookie: then only that cookie can finish the attempt.
    pub via_cookie: bool,
    pub provider: &'a str,
    /// Upstream scopes, space-separated; the provider's defaults when absent.
    pub scopes: Option<&'a str>,
    pub return_to: Option<&'a str>,
}

/// The context the PKCE verifier of the attempt `hash` is sealed under.
pub(super) fn verifier_context(hash: &TokenHash) -> String {
    let hex: String = hash.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("oauth_state/{hex}/pkce_verifier")
}

/// Records the attempt; answers the provider's authorization URL.
#[tracing::instrument(skip_all, fields(provider = request.provider))]
pub async fn start_connection(app: &App, request: ConnectRequest<'_>) -> Result<Url, UsecaseError> {
    let client = app
        .settings
        .providers
        .find(request.provider)
        .ok_or(UsecaseError::ProviderNotFound)?;
    let person = self_service::person(app, request.session_token, None).await?;
    let scopes = match request.scopes {
        None => client.provider.scopes.clone(),
        Some(raw) => upstream_scopes(&client.provider, raw)?,
    };
    let return_to = request
        .return_to
        .map(|raw| allowed_return_to(app, raw))
        .transpose()?;
    let state = SecretToken::generate(TokenKind::OAuthState);
    let start = client.authorize(&Secret::new(state.expose().to_owned()), &scopes);
    let hash = state.hash();
    let sealed_verifier = start.pkce_verifier.map(|verifier| {
        app.settings
            .encryption_keys
            .seal(verifier.expose().as_bytes(), &verifier_context(&hash))
    });
    let now = app.clock.now();
    let pending = PendingAuthorization {
        user_id: person.user_id,
        user_session_id: person.user_session_id,
        provider: client.provider.id.clone(),
        requested_scopes: scopes,
        return_to,
        cookie_bound: request.via_cookie,
        expires_at: now + AUTHORIZATION_TTL,
    };
    let mut tx = app.db.begin().await?;
    store::oauth_states::insert(&mut tx, &hash, &pending, sealed_verifier.as_deref(), now).await?;
    tx.commit().await?;
    Ok(start.url)
}

/// Upstream scopes a caller asked for: scope tokens, as many as a scope set holds, each
/// short enough to be named in a grant as `{provider}:{scope}`.
fn upstream_scopes(provider: &provider::Provider, raw: &str) -> Result<Vec<String>, UsecaseError> {
    let scopes: Vec<String> = raw
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        return Err(ScopeRefused::NoScopes.into());
    }
    if scopes.len() > ScopeSet::MAX_LEN {
        return Err(ScopeRefused::TooMany.into());
    }
    for scope in &scopes {
        if !provider::is_scope_token(scope) || scope.contains(provider.scope_separator.as_str()) {
            return Err(ScopeRefused::InvalidCharacter(scope.clone()).into());
        }
        Scope::parse(&format!("{}:{scope}", provider.id))?;
    }
    Ok(scopes)
}

/// `raw` if it is an absolute http(s) URL on Leash's own origin or an allowed one.
fn allowed_return_to(app: &App, raw: &str) -> Result<String, UsecaseError> {
    let url = Url::parse(raw).map_err(|_| UsecaseError::ReturnToRefused)?;
    let origin = url.origin().ascii_serialization();
    let own = Url::parse(&app.settings.public_url)
        .map(|u| u.origin().ascii_serialization())
        .ok();
    let allowed = matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && (own.as_deref() == Some(origin.as_str())
            || app.settings.return_to_origins.contains(&origin));
    if !allowed {
        return Err(UsecaseError::ReturnToRefused);
    }
    Ok(url.to_string())
}
