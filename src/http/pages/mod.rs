//! The self-service page at `/account`: server-rendered HTML (askama templates in
//! `templates/`, checked at compile time), one stylesheet served from here, no script.
//! The person is their user session, carried by the cookie a login link set. Every
//! destructive button leads to a confirmation that lists what it would end (the
//! revocation core's preview), whose form posts with the session's form token; the act
//! goes through the same use cases as the API, with the person as the actor. Errors
//! are HTML pages, and every answer carries a strict Content-Security-Policy, no
//! framing, no referrer and no caching.

pub(super) mod words;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, RawQuery, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::domain::connection::ConnectionStatus;
use crate::domain::device;
use crate::domain::id::{AgentSessionId, ConnectionId, GrantId, RevocationId, UserSessionId};
use crate::http::AppState;
use crate::http::request_id;
use crate::http::session_credentials::{PLAIN_COOKIE, SECURE_COOKIE, SessionCredentials};
use crate::usecase::UsecaseError;
use crate::usecase::login_links;
use crate::usecase::self_service::{self, Account, Act, Person};
use words::{Ended, Names};

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(show))
        .route("/account/login", get(login))
        .route("/account/signed-out", get(signed_out))
        .route("/account/account.css", get(stylesheet))
        .route("/account/confirm", get(confirm))
        .route("/account/act", post(act))
        .method_not_allowed_fallback(|| async {
            html(
                StatusCode::METHOD_NOT_ALLOWED,
                &Message {
                    heading: "Not here",
                    text: "This page does not take that kind of request.".to_owned(),
                    back: Some("/account"),
                },
            )
        })
        .layer(middleware::from_fn(page_headers))
}

/// The headers every page carries.
async fn page_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (CONTENT_SECURITY_POLICY, CSP),
        (X_FRAME_OPTIONS, "DENY"),
        (REFERRER_POLICY, "no-referrer"),
        (CACHE_CONTROL, "no-store"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// A page, or an HTML page saying what went wrong.
struct Page(Response);

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        self.0
    }
}

fn html(status: StatusCode, template: &impl Template) -> Page {
    match template.render() {
        Ok(body) => {
            Page((status, [(CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response())
        }
        Err(error) => {
            tracing::error!(%error, "rendering a page failed");
            Page(StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct Message<'a> {
    heading: &'a str,
    text: String,
    back: Option<&'a str>,
}

impl From<UsecaseError> for Page {
    fn from(error: UsecaseError) -> Self {
        use UsecaseError as E;
        let (status, heading, back) = match &error {
            E::UserSessionRequired => {
                (StatusCode::UNAUTHORIZED, "You are not signed in here", None)
            }
            E::LoginLinkInvalid => (StatusCode::GONE, "This link cannot be used", None),
            E::FormTokenRefused => (
                StatusCode::FORBIDDEN,
                "This form is not from your page",
                Some("/account"),
            ),
            E::UserSessionNotFound
            | E::AgentSessionNotFound
            | E::GrantNotFound
            | E::ConnectionNotFound => (StatusCode::NOT_FOUND, "Not found", Some("/account")),
            E::ScopeRefused(_) | E::ScopesBeyondCeiling(_) | E::GrantRevoked => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "That cannot be done",
                Some("/account"),
            ),
            E::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Leash is unavailable",
                Some("/account"),
            ),
            _ => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                Some("/account"),
            ),
        };
        let text = match &error {
            E::UserSessionRequired => {
                "Open your account from the application you use: it will sign you in here."
                    .to_owned()
            }
            E::Store(_) | E::IssuanceFailed(_) | E::SecretBox(_) | E::KeySetRefused(_) => {
                tracing::error!(%error, request_id = request_id::current().as_deref(), "page failed");
                "Try again in a moment.".to_owned()
            }
            E::Unavailable(_) => "Try again in a moment.".to_owned(),
            other => other.to_string(),
        };
        html(
            status,
            &Message {
                heading,
                text,
                back,
            },
        )
    }
}

/// The person the cookie signs in, if it does.
async fn person(state: &AppState, credentials: &SessionCredentials) -> Result<Person, Page> {
    let Some(cookie) = &credentials.cookie else {
        return Err(UsecaseError::UserSessionRequired.into());
    };
    Ok(self_service::person(&state.app, cookie.expose(), request_id::current()).await?)
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response()
}

fn secure(state: &AppState) -> bool {
    state.app.settings.public_url.starts_with("https://")
}

#[derive(Deserialize)]
struct LoginQuery {
    token: Option<String>,
}

/// Follows a login link: sets the cookie, opens the page.
async fn login(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Result<Response, Page> {
    let token = query.token.unwrap_or_default();
    let followed = login_links::follow(&state.app, &token, request_id::current()).await?;
    let cookie = if secure(&state) {
        format!(
            "{SECURE_COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Lax",
            followed.cookie.expose()
        )
    } else {
        format!(
            "{PLAIN_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax",
            followed.cookie.expose()
        )
    };
    let mut response = see_other(&followed.open);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

async fn signed_out(State(state): State<AppState>) -> Response {
    let name = if secure(&state) {
        SECURE_COOKIE
    } else {
        PLAIN_COOKIE
    };
    let mut response = html(
        StatusCode::OK,
        &Message {
            heading: "You are signed out of this device",
            text: "Agents that acted for you from it were stopped too.".to_owned(),
            back: None,
        },
    )
    .0;
    let secure_attr = if secure(&state) { "; Secure" } else { "" };
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{name}=; Path=/; HttpOnly; Max-Age=0{secure_attr}"
    )) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

async fn stylesheet() -> Response {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("account.css"),
    )
        .into_response()
}

struct DeviceView {
    id: String,
    name: String,
    ip: String,
    created: String,
    last_active: String,
    current: bool,
}

struct AgentView {
    id: String,
    name: String,
    parent_name: String,
    depth: u32,
    scopes: String,
    integrations: String,
    created: String,
    last_used: String,
    expires: String,
}

struct GrantView {
    id: String,
    agent: String,
    scopes: Vec<String>,
}

struct ConnectionView {
    id: String,
    provider: String,
    status: &'static str,
    scopes: String,
    connected: String,
    receipt: Option<String>,
    live: bool,
    connect_url: String,
}

struct ProviderView {
    name: String,
    url: String,
}

struct ActivityView {
    iso: String,
    when: String,
    text: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    name: String,
    notice: Option<String>,
    devices: Vec<DeviceView>,
    agents: Vec<AgentView>,
    grants: Vec<GrantView>,
    connections: Vec<ConnectionView>,
    connectable: Vec<ProviderView>,
    activity: Vec<ActivityView>,
}

#[derive(Deserialize)]
struct ShowQuery {
    receipt: Option<String>,
    done: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    credentials: SessionCredentials,
    Query(query): Query<ShowQuery>,
) -> Result<Page, Page> {
    let person = person(&state, &credentials).await?;
    let app = &state.app;
    let account = self_service::account(app, &person).await?;
    let notice = match (&query.receipt, &query.done) {
        (Some(id), _) => match RevocationId::parse(id) {
            Some(id) => self_service::receipt(app, &person, &id)
                .await?
                .map(|r| words::done(Some(&r))),
            None => None,
        },
        (None, Some(_)) => Some(words::done(None)),
        (None, None) => None,
    };
    Ok(html(
        StatusCode::OK,
        &account_page(&state, &person, &account, notice),
    ))
}

fn account_page(
    state: &AppState,
    person: &Person,
    account: &Account,
    notice: Option<String>,
) -> AccountPage {
    let names = Names::of(account, person.actor.label());
    let connect_url = |provider: &str| {
        format!(
            "/v1/connections/{provider}/authorize?return_to={}",
            url::form_urlencoded::byte_serialize(
                format!("{}/account", state.app.settings.public_url).as_bytes()
            )
            .collect::<String>()
        )
    };
    let agent_name = |id: &AgentSessionId| {
        names
            .agent_sessions
            .get(id.as_str())
            .map_or_else(String::new, |(n, ..)| n.clone())
    };
    // A provider with a connection, even a disconnected one, is connected again from
    // its card.
    let listed: Vec<&str> = account
        .connections
        .iter()
        .map(|c| c.provider.as_str())
        .collect();
    AccountPage {
        name: account
            .user
            .display_name
            .clone()
            .or_else(|| account.user.email.clone())
            .unwrap_or_else(|| account.user.external_id.clone()),
        notice,
        devices: account
            .sessions
            .iter()
            .map(|s| DeviceView {
                id: s.id.to_string(),
                name: device::of(s.user_agent.as_deref()).describe(),
                ip: s.ip_address.clone().unwrap_or_else(|| "unknown".to_owned()),
                created: words::when(s.created_at),
                last_active: words::when(s.last_seen_at),
                current: s.id == person.user_session_id,
            })
            .collect(),
        agents: account
            .agent_sessions
            .iter()
            .map(|(s, name)| {
                let mut providers: Vec<&str> =
                    s.scopes.iter().filter_map(|sc| sc.provider()).collect();
                providers.dedup();
                AgentView {
                    id: s.id.to_string(),
                    name: name.clone(),
                    parent_name: s.parent_id.as_ref().map(agent_name).unwrap_or_default(),
                    depth: s.depth,
                    scopes: s.scopes.to_space_separated(),
                    integrations: if providers.is_empty() {
                        "none".to_owned()
                    } else {
                        providers.join(", ")
                    },
                    created: words::when(s.created_at),
                    last_used: words::when(s.last_used_at),
                    expires: words::when(s.expires_at),
                }
            })
            .collect(),
        grants: account
            .grants
            .iter()
            .map(|(g, agent)| GrantView {
                id: g.id.to_string(),
                agent: agent.clone(),
                scopes: g.scopes.to_vec(),
            })
            .collect(),
        connections: account
            .connections
            .iter()
            .map(|c| ConnectionView {
                id: c.id.to_string(),
                provider: c.provider.as_str().to_owned(),
                status: match c.status {
                    ConnectionStatus::Connected => "connected",
                    ConnectionStatus::NeedsReauthorization => "needs you to connect again",
                    ConnectionStatus::Disconnected => "disconnected",
                },
                scopes: c.granted_scopes.join(" "),
                connected: words::when(c.connected_at),
                receipt: (!c.receipt.is_empty()).then(|| {
                    c.receipt
                        .iter()
                        .map(|r| format!("{} token: {}", r.token.as_str(), r.status.as_str()))
                        .collect::<Vec<_>>()
                        .join("; ")
                }),
                live: c.status == ConnectionStatus::Connected,
                connect_url: connect_url(c.provider.as_str()),
            })
            .collect(),
        connectable: state
            .app
            .settings
            .providers
            .iter()
            .map(|p| p.provider.id.as_str())
            .filter(|id| !listed.contains(id))
            .map(|id| ProviderView {
                name: id.to_owned(),
                url: connect_url(id),
            })
            .collect(),
        activity: account
            .activity
            .iter()
            .map(|e| ActivityView {
                iso: e.at.to_rfc3339(),
                when: words::when(e.at),
                text: words::activity(e, &names),
            })
            .filter(|e| !e.text.is_empty())
            .collect(),
    }
}

/// An act as a form or query names it: `act`, `id`, `scope` (repeated), `form_token`.
struct ActForm {
    act: String,
    id: Option<String>,
    scopes: Vec<String>,
    form_token: Option<String>,
}

impl ActForm {
    fn parse(raw: &[u8]) -> Self {
        let mut form = ActForm {
            act: String::new(),
            id: None,
            scopes: Vec::new(),
            form_token: None,
        };
        for (name, value) in url::form_urlencoded::parse(raw).take(200) {
            match name.as_ref() {
                "act" => form.act = value.into_owned(),
                "id" => form.id = Some(value.into_owned()),
                "scope" => form.scopes.push(value.into_owned()),
                "form_token" => form.form_token = Some(value.into_owned()),
                _ => {}
            }
        }
        form
    }

    /// The act, or "not found" for an id that cannot be one.
    fn act(&self) -> Result<Act, UsecaseError> {
        let id = self.id.as_deref().unwrap_or("");
        Ok(match self.act.as_str() {
            "sign_out" => {
                Act::SignOut(UserSessionId::parse(id).ok_or(UsecaseError::UserSessionNotFound)?)
            }
            "sign_out_others" => Act::SignOutOthers,
            "revoke_agent_session" => Act::RevokeAgentSession(
                AgentSessionId::parse(id).ok_or(UsecaseError::AgentSessionNotFound)?,
            ),
            "revoke_grant" => {
                Act::RevokeGrant(GrantId::parse(id).ok_or(UsecaseError::GrantNotFound)?)
            }
            "narrow_grant" => Act::NarrowGrant(
                GrantId::parse(id).ok_or(UsecaseError::GrantNotFound)?,
                self.scopes.clone(),
            ),
            "disconnect" => {
                Act::Disconnect(ConnectionId::parse(id).ok_or(UsecaseError::ConnectionNotFound)?)
            }
            _ => return Err(UsecaseError::ConnectionNotFound),
        })
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    question: String,
    summary: String,
    ended: Vec<Ended>,
    more: u64,
    form_token: String,
    act: String,
    id: Option<String>,
    scopes: Vec<String>,
    button: &'static str,
}

/// The confirmation of an act: what it would end, and the button that does it.
async fn confirm(
    State(state): State<AppState>,
    credentials: SessionCredentials,
    RawQuery(query): RawQuery,
) -> Result<Page, Page> {
    let person = person(&state, &credentials).await?;
    let form = ActForm::parse(query.unwrap_or_default().as_bytes());
    let act = form.act()?;
    let app = &state.app;
    let preview = self_service::preview(app, &person, &act).await?;
    let account = self_service::account(app, &person).await?;
    let names = Names::of(&account, person.actor.label());
    let (question, doing, button) = describe(&act, &person, &account, &names);
    let ended = words::ended(&preview, &names);
    let more = (preview.user_sessions + preview.agent_sessions).saturating_sub(ended.len() as u64);
    Ok(html(
        StatusCode::OK,
        &ConfirmPage {
            question,
            summary: words::summary(&doing, &preview, &ended),
            ended,
            more,
            form_token: self_service::form_token(app, &person),
            act: form.act.clone(),
            id: form.id.clone(),
            scopes: form.scopes.clone(),
            button,
        },
    ))
}

/// The question, what doing it is called, and the button's label.
fn describe(
    act: &Act,
    person: &Person,
    account: &Account,
    names: &Names,
) -> (String, String, &'static str) {
    let agent_of_grant = |id: &GrantId| {
        names
            .grants
            .get(id.as_str())
            .cloned()
            .unwrap_or_else(|| "this agent".to_owned())
    };
    match act {
        Act::SignOut(id) if id == &person.user_session_id => (
            "Sign out of this device?".to_owned(),
            "Signing out of this device".to_owned(),
            "Sign out",
        ),
        Act::SignOut(id) => {
            let device = names
                .devices
                .get(id.as_str())
                .cloned()
                .unwrap_or_else(|| "this device".to_owned());
            (
                format!("Sign out of {device}?"),
                format!("Signing out of {device}"),
                "Sign out",
            )
        }
        Act::SignOutOthers => (
            "Sign out everywhere else?".to_owned(),
            "Signing out everywhere else".to_owned(),
            "Sign out everywhere else",
        ),
        Act::RevokeAgentSession(id) => {
            let name = names
                .agent_sessions
                .get(id.as_str())
                .map_or("this agent", |(n, ..)| n.as_str());
            (
                format!("Revoke {name}?"),
                format!("Revoking {name}"),
                "Revoke",
            )
        }
        Act::RevokeGrant(id) => {
            let name = agent_of_grant(id);
            (
                format!("Revoke {name}'s permission?"),
                format!("Revoking {name}'s permission"),
                "Revoke",
            )
        }
        Act::NarrowGrant(id, scopes) => {
            let name = agent_of_grant(id);
            let kept = if scopes.is_empty() {
                "no scope".to_owned()
            } else {
                words::list(scopes)
            };
            (
                format!("Change what {name} may do?"),
                format!("Keeping only {kept} for {name}"),
                "Keep only these scopes",
            )
        }
        Act::Disconnect(id) => {
            let provider = account
                .connections
                .iter()
                .find(|c| &c.id == id)
                .map_or("this integration", |c| c.provider.as_str());
            (
                format!("Disconnect {provider}?"),
                format!("Disconnecting {provider}"),
                "Disconnect",
            )
        }
    }
}

/// Does an act the person confirmed.
async fn act(
    State(state): State<AppState>,
    credentials: SessionCredentials,
    body: Bytes,
) -> Result<Response, Page> {
    let person = person(&state, &credentials).await?;
    let form = ActForm::parse(&body);
    let app = &state.app;
    self_service::check_form_token(app, &person, form.form_token.as_deref())?;
    let act = form.act()?;
    let revocation = self_service::perform(app, &person, &act).await?;
    if act == Act::SignOut(person.user_session_id.clone()) {
        return Ok(see_other("/account/signed-out"));
    }
    Ok(see_other(&match revocation {
        Some(r) => format!("/account?receipt={}", r.id),
        None => "/account?done=1".to_owned(),
    }))
}
