//! Connections to upstream providers: a person starts one with their user session, the
//! provider sends their browser back to the callback, and the host reads them and
//! disconnects them.

use aide::axum::ApiRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use schemars::JsonSchema;
use serde::Deserialize;

use super::users::UserPath;
use crate::domain::id::ConnectionId;
use crate::domain::secret::Secret;
use crate::http::answer::{CallbackAnswer, Found, HtmlPage};
use crate::http::auth::AdminKey;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::session_credentials::{self, SessionCredentials};
use crate::http::wire::connections::{
    AuthorizeQuery, CallbackQuery, ConnectionBody, ConnectionList, DisconnectAnswer,
    DisconnectQuery,
};
use crate::http::wire::pagination::PageQuery;
use crate::http::{AppState, OAUTH_CALLBACK_PATH, request_id};
use crate::usecase;
use crate::usecase::finish_connection::Callback;
use crate::usecase::start_connection::ConnectRequest;

pub fn router() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/connections/{provider}/authorize",
            get_with(authorize, |op| {
                op.summary("Start connecting a provider: redirects to its authorization page")
                    .description(
                        "Authenticated by the person's user session: its token as Bearer, \
                         or the session cookie (then only that cookie can finish it).",
                    )
                    .security_requirement(session_credentials::BEARER_SCHEME)
            }),
        )
        .api_route(
            OAUTH_CALLBACK_PATH,
            get_with(callback, |op| {
                op.summary("Where the provider sends the person back")
                    .description(
                        "Redirects to `return_to` with `connection_id` and `status` added, or \
                         answers a page saying what was connected. A failure answers \
                         problem+json to a caller that accepts JSON, a page otherwise.",
                    )
            }),
        )
        .api_route(
            "/v1/users/{user_id}/connections",
            get_with(list_connections, |op| {
                op.summary("List a user's connections, newest first (never a token)")
            }),
        )
        .api_route(
            "/v1/connections/{connection_id}",
            get_with(get_connection, |op| {
                op.summary("Get a connection (never a token)")
            }),
        )
        .api_route(
            "/v1/connections/{connection_id}/disconnect",
            post_with(disconnect, |op| {
                op.summary(
                    "Disconnect: revoke every agent session holding the provider's scopes, \
                     destroy the tokens, and revoke them at the provider",
                )
                .description(
                    "`dry_run=true` changes nothing and answers what would be revoked. \
                     Disconnecting a disconnected connection revokes nothing more.",
                )
            }),
        )
}

#[derive(Deserialize, JsonSchema)]
struct ProviderPath {
    /// A configured provider's id.
    #[schemars(pattern(crate::domain::provider::ID_PATTERN))]
    provider: String,
}

#[derive(Deserialize, JsonSchema)]
struct ConnectionPath {
    #[schemars(with = "ConnectionId")]
    connection_id: String,
}

impl ConnectionPath {
    fn id(&self) -> Result<ConnectionId, ApiError> {
        ConnectionId::parse(&self.connection_id).ok_or(ApiError::not_found("connection_not_found"))
    }
}

async fn authorize(
    State(state): State<AppState>,
    credentials: SessionCredentials,
    Path(path): Path<ProviderPath>,
    ApiQuery(query): ApiQuery<AuthorizeQuery>,
) -> Result<Found, ApiError> {
    let (token, via_cookie) = match (&credentials.bearer, &credentials.cookie) {
        (Some(bearer), _) => (bearer.expose(), false),
        (None, Some(cookie)) => (cookie.expose(), true),
        (None, None) => return Err(usecase::UsecaseError::UserSessionRequired.into()),
    };
    let url = usecase::start_connection::start_connection(
        &state.app,
        ConnectRequest {
            session_token: token,
            via_cookie,
            provider: &path.provider,
            scopes: query.scopes.as_deref(),
            return_to: query.return_to.as_deref(),
        },
    )
    .await?;
    Ok(Found(url.to_string()))
}

async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    credentials: SessionCredentials,
    ApiQuery(query): ApiQuery<CallbackQuery>,
) -> CallbackAnswer {
    let finished = usecase::finish_connection::finish_connection(
        &state.app,
        Callback {
            state: query.state.as_ref().map(Secret::expose),
            code: query.code.as_ref().map(Secret::expose),
            iss: query.iss.as_deref(),
            error: query.error.as_deref(),
            error_description: query.error_description.as_deref(),
            cookie_session: credentials.cookie.as_ref().map(Secret::expose),
            bearer_session: credentials.bearer.as_ref().map(Secret::expose),
            request_id: request_id::current(),
        },
    )
    .await;
    CallbackAnswer(match finished {
        Ok(connected) => match connected.return_to {
            Some(return_to) => {
                let mut url = match url::Url::parse(&return_to) {
                    Ok(url) => url,
                    Err(_) => {
                        return CallbackAnswer(
                            ApiError::internal("a stored return_to".to_owned()).into_response(),
                        );
                    }
                };
                url.query_pairs_mut()
                    .append_pair("connection_id", connected.connection.id.as_str())
                    .append_pair("status", "connected");
                Found(url.to_string()).into_response()
            }
            None => HtmlPage {
                status: StatusCode::OK,
                title: "Connected".to_owned(),
                message: format!(
                    "{} is connected. You can close this window.",
                    connected.connection.provider
                ),
            }
            .into_response(),
        },
        Err(error) => {
            let error = ApiError::from(error);
            if wants_json(&headers) {
                error.into_response()
            } else {
                error.into_page("Not connected")
            }
        }
    })
}

/// Whether the caller asked for JSON (a host backend) rather than a page (a browser).
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("json") && !accept.contains("text/html"))
}

async fn list_connections(
    State(state): State<AppState>,
    _: AdminKey,
    Path(path): Path<UserPath>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ConnectionList>, ApiError> {
    let page = usecase::connections::list(
        &state.app,
        &path.id()?,
        query.cursor.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(page.into()))
}

async fn disconnect(
    State(state): State<AppState>,
    AdminKey(actor): AdminKey,
    Path(path): Path<ConnectionPath>,
    ApiQuery(query): ApiQuery<DisconnectQuery>,
) -> Result<Json<DisconnectAnswer>, ApiError> {
    let id = path.id()?;
    if query.dry_run == Some(true) {
        let (connection, would_revoke) =
            usecase::disconnect_connection::preview(&state.app, &id).await?;
        return Ok(Json(DisconnectAnswer {
            connection: connection.into(),
            revocation: None,
            would_revoke: Some(would_revoke.into()),
        }));
    }
    let done =
        usecase::disconnect_connection::disconnect_connection(&state.app, &actor, &id).await?;
    Ok(Json(DisconnectAnswer {
        connection: done.connection.into(),
        revocation: done.revocation.map(Into::into),
        would_revoke: None,
    }))
}

async fn get_connection(
    State(state): State<AppState>,
    _: AdminKey,
    Path(path): Path<ConnectionPath>,
) -> Result<Json<ConnectionBody>, ApiError> {
    let id = ConnectionId::parse(&path.connection_id)
        .ok_or(ApiError::not_found("connection_not_found"))?;
    Ok(Json(
        usecase::connections::get(&state.app, &id).await?.into(),
    ))
}
