//! The OAuth endpoints of agent runtimes: the token endpoint (RFC 8693 token exchange
//! and RFC 6749 refresh) and token revocation (RFC 7009).

use aide::axum::ApiRouter;
use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;

use chrono::TimeDelta;

use crate::domain::issuance_hook::RequestOrigin;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::Secret;
use crate::domain::token::SecretToken;
use crate::http::AppState;
use crate::http::extract::ClientIp;
use crate::http::oauth::{NoStore, OAuthError, OAuthForm, authenticate_client};
use crate::http::wire::oauth::{
    ACCESS_TOKEN_TYPE, REFRESH_TOKEN_GRANT, TOKEN_EXCHANGE_GRANT, TokenRequest, TokenResponse,
    TokenRevocationRequest, TokenRevoked,
};
use crate::usecase;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/oauth2/token",
            post_with(token, |op| {
                op.summary(
                    "Token exchange (RFC 8693: delegate from a user session token, or \
                     sub-delegate from an agent access token) or refresh (rotating)",
                )
                .description(
                    "An exchange from a blocked address is 403 `access_denied`. When a \
                     pre-issuance hook is configured, it is asked before the session is \
                     issued: its denial is 403 `access_denied` with its reason, and no \
                     usable answer under `fail_closed` is 503 `temporarily_unavailable` \
                     with `Retry-After`.",
                )
            }),
        )
        .api_route(
            "/oauth2/revoke",
            post_with(revoke, |op| {
                op.summary(
                    "Revoke one of the agent's tokens, its session and descendants (RFC 7009)",
                )
            }),
        )
}

impl TokenResponse {
    fn new(
        access_token: SecretToken,
        refresh_token: SecretToken,
        expires_in: TimeDelta,
        scopes: &ScopeSet,
        issued_token_type: Option<&str>,
    ) -> NoStore<Self> {
        NoStore(Json(Self {
            access_token: access_token.into_exposed().into(),
            issued_token_type: issued_token_type.map(str::to_owned),
            token_type: "Bearer".to_owned(),
            expires_in: expires_in.num_seconds(),
            scope: scopes.to_space_separated(),
            refresh_token: refresh_token.into_exposed().into(),
        }))
    }
}

fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, OAuthError> {
    value.ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
}

async fn token(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    OAuthForm(form): OAuthForm<TokenRequest>,
) -> Result<NoStore<TokenResponse>, OAuthError> {
    let grant_type = required(form.grant_type.as_deref(), "grant_type")?;
    if grant_type != TOKEN_EXCHANGE_GRANT && grant_type != REFRESH_TOKEN_GRANT {
        return Err(OAuthError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("grant_type must be {TOKEN_EXCHANGE_GRANT} or {REFRESH_TOKEN_GRANT}"),
        ));
    }
    let (client, actor) = authenticate_client(
        &state,
        &headers,
        form.client_id.as_deref(),
        form.client_secret.as_ref().map(Secret::expose),
    )
    .await?;
    let now = state.app.clock.now();
    if grant_type == REFRESH_TOKEN_GRANT {
        let presented = required(
            form.refresh_token.as_ref().map(Secret::expose),
            "refresh_token",
        )?;
        let refreshed = usecase::refresh_agent_session::refresh(
            &state.app,
            &client,
            &actor,
            presented,
            form.scope.as_deref(),
        )
        .await?;
        return Ok(TokenResponse::new(
            refreshed.access_token,
            refreshed.refresh_token,
            refreshed.access_expires_at - now,
            &refreshed.session.scopes,
            None,
        ));
    }
    let subject_token = required(
        form.subject_token.as_ref().map(Secret::expose),
        "subject_token",
    )?;
    if required(form.subject_token_type.as_deref(), "subject_token_type")? != ACCESS_TOKEN_TYPE {
        return Err(OAuthError::invalid_request(format!(
            "subject_token_type must be {ACCESS_TOKEN_TYPE}"
        )));
    }
    if form
        .requested_token_type
        .as_deref()
        .is_some_and(|t| t != ACCESS_TOKEN_TYPE)
    {
        return Err(OAuthError::invalid_request(format!(
            "requested_token_type may only be {ACCESS_TOKEN_TYPE}"
        )));
    }
    if form.actor_token.is_some() || form.actor_token_type.is_some() {
        return Err(OAuthError::invalid_request(
            "actor_token is not supported: the authenticated client is the actor",
        ));
    }
    let origin = RequestOrigin {
        ip: client_ip,
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|ua| ua.to_str().ok())
            .map(str::to_owned),
    };
    let issued = usecase::delegate_to_agent::exchange(
        &state.app,
        &client,
        &actor,
        subject_token,
        form.scope.as_deref(),
        origin,
    )
    .await?;
    Ok(TokenResponse::new(
        issued.access_token,
        issued.refresh_token,
        issued.access_expires_at - now,
        &issued.session.scopes,
        Some(ACCESS_TOKEN_TYPE),
    ))
}

async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    OAuthForm(form): OAuthForm<TokenRevocationRequest>,
) -> Result<NoStore<TokenRevoked>, OAuthError> {
    let (client, actor) = authenticate_client(
        &state,
        &headers,
        form.client_id.as_deref(),
        form.client_secret.as_ref().map(Secret::expose),
    )
    .await?;
    let presented = required(form.token.as_ref().map(Secret::expose), "token")?;
    usecase::revoke_agent_session::revoke_token(&state.app, &client, &actor, presented).await?;
    Ok(NoStore(Json(TokenRevoked {})))
}
