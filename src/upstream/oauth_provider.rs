//! Calls to upstream OAuth providers, through the `oauth2` crate and the guarded client:
//! the authorization URL (with PKCE), the code exchange, the refresh and RFC 7009
//! revocation. A provider's answers are read up to a size limit and sorted into what the
//! use cases act on: the grant is dead (`invalid_grant`), the provider refused for
//! another reason, or no usable answer came (try again later).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use oauth2::basic::{
    BasicClient, BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, RevocationErrorResponseType,
    RevocationUrl, StandardRevocableToken, TokenResponse as _, TokenUrl,
};
use url::Url;

use super::guarded_client::{self, Guard, GuardedClient};
use crate::domain::provider::{Pkce, Provider, ProviderId, TokenAuthMethod};
use crate::domain::secret::Secret;

/// The most of a provider's answer Leash reads.
const ANSWER_LIMIT: usize = 64 * 1024;
/// How long one call to a provider may take.
/// How long a call to a provider may take when the operator does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

type Client =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointSet>;

/// The configured providers, each with its client; cheap to clone.
#[derive(Clone, Default)]
pub struct Providers(Arc<BTreeMap<ProviderId, Arc<ProviderClient>>>);

impl fmt::Debug for Providers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Providers {
    /// Clients for `providers`, whose redirect URI is `redirect_uri`.
    /// A client for each provider; each call to one may take `timeout`.
    pub fn new(
        providers: &[Provider],
        redirect_uri: &str,
        timeout: Duration,
    ) -> Result<Self, ProviderSetupError> {
        let clients = providers
            .iter()
            .map(|p| {
                Ok((
                    p.id.clone(),
                    Arc::new(ProviderClient::new(p, redirect_uri, timeout)?),
                ))
            })
            .collect::<Result<_, ProviderSetupError>>()?;
        Ok(Self(Arc::new(clients)))
    }

    pub fn get(&self, id: &ProviderId) -> Option<&Arc<ProviderClient>> {
        self.0.get(id)
    }

    /// The provider named `raw`, if configured.
    pub fn find(&self, raw: &str) -> Option<&Arc<ProviderClient>> {
        ProviderId::parse(raw).and_then(|id| self.0.get(&id))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<ProviderClient>> {
        self.0.values()
    }
}

/// A provider could not be set up (its extra roots, or the TLS client).
#[derive(Debug, thiserror::Error)]
#[error("provider {provider}: {detail}")]
pub struct ProviderSetupError {
    provider: String,
    detail: String,
}

/// One provider and the client that calls it.
pub struct ProviderClient {
    pub provider: Provider,
    oauth: Client,
    http: GuardedClient,
}

impl fmt::Debug for ProviderClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderClient")
            .field("id", &self.provider.id)
            .finish_non_exhaustive()
    }
}

/// Where to send the person, and what the callback needs to finish. No `Debug`: the
/// URL carries the state.
pub struct AuthorizationStart {
    pub url: Url,
    /// The PKCE verifier (none when the provider is configured without PKCE).
    pub pkce_verifier: Option<Secret>,
}

/// What a provider answered for a code or a refresh.
#[derive(Debug)]
pub struct UpstreamTokens {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_in: Option<Duration>,
    /// The scopes the provider says it granted; `None` when it did not say.
    pub scopes: Option<Vec<String>>,
}

/// Which token a revocation is for (RFC 7009 `token_type_hint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamTokenKind {
    Access,
    Refresh,
}

/// What a provider said to a revocation it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// Revoked (or already dead: RFC 7009 answers 200 for an unknown token).
    Yes,
    /// The provider cannot revoke this kind of token (`unsupported_token_type`).
    Unsupported,
}

/// Why a call to a provider did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// The code or refresh token is dead: the grant is gone at the provider.
    #[error("the provider refused the grant: {0}")]
    InvalidGrant(String),
    /// The provider answered another OAuth error.
    #[error("the provider refused: {0}")]
    Refused(String),
    /// No usable answer: unreachable, timed out, an address not allowed, a server
    /// error, or an answer that is not OAuth.
    #[error("the provider could not be reached: {0}")]
    Unavailable(String),
}

/// A call that got no HTTP answer (or one too large to read).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CallFailed(String);

impl ProviderClient {
    fn new(
        provider: &Provider,
        redirect_uri: &str,
        timeout: Duration,
    ) -> Result<Self, ProviderSetupError> {
        let setup = |detail: String| ProviderSetupError {
            provider: provider.id.to_string(),
            detail,
        };
        let http = GuardedClient::new(&Guard {
            allow_private: provider.allow_private_network,
            timeout,
            user_agent: concat!("Leash/", env!("CARGO_PKG_VERSION")),
            extra_roots_pem: provider.extra_roots_pem.clone(),
        })
        .map_err(|e| setup(e.to_string()))?;
        let oauth = BasicClient::new(ClientId::new(provider.client_id.clone()))
            .set_client_secret(ClientSecret::new(
                provider.client_secret.expose().to_owned(),
            ))
            .set_auth_uri(AuthUrl::from_url(provider.authorization_url.clone()))
            .set_token_uri(TokenUrl::from_url(provider.token_url.clone()))
            .set_revocation_url_option(provider.revocation_url.clone().map(RevocationUrl::from_url))
            .set_redirect_uri(
                RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| setup(e.to_string()))?,
            )
            .set_auth_type(match provider.token_auth_method {
                TokenAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
                TokenAuthMethod::ClientSecretPost => AuthType::RequestBody,
            });
        Ok(Self {
            provider: provider.clone(),
            oauth,
            http,
        })
    }

    /// The URL that asks the person to grant `scopes`, carrying `state`.
    pub fn authorize(&self, state: &Secret, scopes: &[String]) -> AuthorizationStart {
        let state = state.expose().to_owned();
        let mut request = self.oauth.authorize_url(|| CsrfToken::new(state));
        if !scopes.is_empty() {
            request = request.add_extra_param("scope", scopes.join(&self.provider.scope_separator));
        }
        let pkce_verifier = match self.provider.pkce {
            Pkce::S256 => {
                let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
                request = request.set_pkce_challenge(challenge);
                Some(Secret::new(verifier.secret().clone()))
            }
            Pkce::None => None,
        };
        let (url, _state) = request.url();
        AuthorizationStart { url, pkce_verifier }
    }

    /// Exchanges an authorization code for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: Option<&Secret>,
    ) -> Result<UpstreamTokens, UpstreamError> {
        let mut request = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_owned()));
        if let Some(verifier) = pkce_verifier {
            request =
                request.set_pkce_verifier(PkceCodeVerifier::new(verifier.expose().to_owned()));
        }
        let answer = request
            .request_async(&Http(&self.http))
            .await
            .map_err(token_error)?;
        Ok(self.tokens_of(&answer))
    }

    /// A fresh access token (and perhaps a rotated refresh token) for `refresh_token`.
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<UpstreamTokens, UpstreamError> {
        let token = RefreshToken::new(refresh_token.expose().to_owned());
        let answer = self
            .oauth
            .exchange_refresh_token(&token)
            .request_async(&Http(&self.http))
            .await
            .map_err(token_error)?;
        Ok(self.tokens_of(&answer))
    }

    /// Whether the provider has a revocation endpoint at all.
    pub fn can_revoke(&self) -> bool {
        self.provider.revocation_url.is_some()
    }

    /// Asks the provider to revoke `token` (RFC 7009, with its type as the hint).
    pub async fn revoke(
        &self,
        token: &Secret,
        kind: UpstreamTokenKind,
    ) -> Result<Revoked, UpstreamError> {
        let token = match kind {
            UpstreamTokenKind::Access => StandardRevocableToken::AccessToken(
                oauth2::AccessToken::new(token.expose().to_owned()),
            ),
            UpstreamTokenKind::Refresh => {
                StandardRevocableToken::RefreshToken(RefreshToken::new(token.expose().to_owned()))
            }
        };
        let request = self
            .oauth
            .revoke_token(token)
            .map_err(|e| UpstreamError::Refused(e.to_string()))?;
        match request.request_async(&Http(&self.http)).await {
            Ok(()) => Ok(Revoked::Yes),
            Err(RequestTokenError::ServerResponse(answer))
                if *answer.error() == RevocationErrorResponseType::UnsupportedTokenType =>
            {
                Ok(Revoked::Unsupported)
            }
            Err(error) => Err(revocation_error(error)),
        }
    }

    fn tokens_of(&self, answer: &oauth2::basic::BasicTokenResponse) -> UpstreamTokens {
        let separator = self.provider.scope_separator.as_str();
        UpstreamTokens {
            access_token: Secret::new(answer.access_token().secret().clone()),
            refresh_token: answer
                .refresh_token()
                .map(|t| Secret::new(t.secret().clone())),
            expires_in: answer.expires_in(),
            // oauth2 splits `scope` on spaces; a provider that joins with commas needs
            // a second split.
            scopes: answer.scopes().map(|scopes| {
                scopes
                    .iter()
                    .flat_map(|s| s.split(separator).map(str::to_owned).collect::<Vec<_>>())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
        }
    }
}

/// `oauth2`'s HTTP client: every exchange goes through the guarded client.
struct Http<'a>(&'a GuardedClient);

impl<'c> AsyncHttpClient<'c> for Http<'_> {
    type Error = CallFailed;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, CallFailed>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(self.0, request))
    }
}

/// One HTTP exchange, its answer read up to [`ANSWER_LIMIT`].
async fn send(http: &GuardedClient, request: HttpRequest) -> Result<HttpResponse, CallFailed> {
    let failed = |e: &dyn fmt::Display| CallFailed(e.to_string());
    let url = Url::parse(&request.uri().to_string()).map_err(|e| failed(&e))?;
    let (parts, body) = request.into_parts();
    let mut builder = http.request(parts.method, &url).map_err(|e| failed(&e))?;
    for (name, value) in &parts.headers {
        builder = builder.header(name, value);
    }
    let answer = builder
        .body(body)
        .send()
        .await
        .map_err(|e| CallFailed(with_causes(&e)))?;
    let mut response = oauth2::http::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        response = response.header(name, value);
    }
    let body = guarded_client::read_limited(answer, ANSWER_LIMIT)
        .await
        .ok_or_else(|| CallFailed("the answer is too large".to_owned()))?;
    response.body(body).map_err(|e| failed(&e))
}

/// An error with its causes (`error sending request: connection reset`): the outer
/// message alone rarely says what went wrong.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut said = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        said.push_str(": ");
        said.push_str(&inner.to_string());
        cause = inner.source();
    }
    said
}

/// Sorts a failed code exchange or refresh.
fn token_error(error: RequestTokenError<CallFailed, BasicErrorResponse>) -> UpstreamError {
    match error {
        RequestTokenError::ServerResponse(answer) => match answer.error() {
            BasicErrorResponseType::InvalidGrant => UpstreamError::InvalidGrant(answer.to_string()),
            BasicErrorResponseType::Extension(code)
                if code == "server_error" || code == "temporarily_unavailable" =>
            {
                UpstreamError::Unavailable(answer.to_string())
            }
            _ => UpstreamError::Refused(answer.to_string()),
        },
        RequestTokenError::Request(failed) => UpstreamError::Unavailable(failed.to_string()),
        RequestTokenError::Parse(error, _) => {
            UpstreamError::Unavailable(format!("an answer that is not OAuth: {error}"))
        }
        RequestTokenError::Other(detail) => UpstreamError::Unavailable(detail),
    }
}

/// Sorts a failed revocation: every failure is worth another try except an OAuth error
/// the provider will answer again.
fn revocation_error(
    error: RequestTokenError<CallFailed, BasicRevocationErrorResponse>,
) -> UpstreamError {
    match error {
        RequestTokenError::ServerResponse(answer) => UpstreamError::Refused(answer.to_string()),
        RequestTokenError::Request(failed) => UpstreamError::Unavailable(failed.to_string()),
        RequestTokenError::Parse(error, _) => {
            UpstreamError::Unavailable(format!("an answer that is not OAuth: {error}"))
        }
        RequestTokenError::Other(detail) => UpstreamError::Unavailable(detail),
    }
}
