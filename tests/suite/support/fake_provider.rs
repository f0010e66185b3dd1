//! An upstream OAuth provider in the test process, over TLS with a CA made at run time:
//! authorization (it consents at once and redirects back with a code), the code
//! exchange with PKCE and client authentication checked, refresh with rotation, and RFC
//! 7009 revocation. It counts what it was asked, and a test can make it grant fewer
//! scopes, answer garbage or fail.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use leash::domain::provider::{Pkce, Provider, ProviderId, TokenAuthMethod};
use leash::domain::secret::Secret;
use serde_json::json;
use sha2::Digest as _;

use super::test_ca::{TestCa, TlsListener};

pub const CLIENT_ID: &str = "leash-test-client";
pub const CLIENT_SECRET: &str = "leash-test-client-secret";

/// How the token endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    Normal,
    /// 503 with an HTML body.
    Down,
    /// 200 with a body that is not OAuth.
    Garbage,
}

#[derive(Debug, Clone)]
struct PendingCode {
    redirect_uri: String,
    challenge: Option<String>,
    scope: String,
}

#[derive(Default)]
struct Books {
    codes: HashMap<String, PendingCode>,
    /// Refresh token → (scope, still active).
    refresh_tokens: HashMap<String, (String, bool)>,
    /// Access token → still active.
    access_tokens: HashMap<String, bool>,
    /// When set, grants these scopes whatever was asked.
    grant_only: Option<String>,
    /// Revocations of tokens of this kind (`access_token`, `refresh_token`, or `any`)
    /// answer 503.
    revocation_fails_for: Option<String>,
    token_mode: Option<TokenMode>,
    code_exchanges: usize,
    refreshes: usize,
    /// (token, hint) of every revocation asked.
    revocations: Vec<(String, String)>,
    issued: usize,
    /// How long a refresh takes to answer.
    refresh_delay: std::time::Duration,
    /// Revocations are recorded and then never answered.
    hold_revocations: bool,
    /// What a code exchange's tokens live (refreshed ones live an hour).
    first_expires_in: Option<u64>,
}

#[derive(Clone)]
struct Shared {
    books: Arc<Mutex<Books>>,
    issuer: String,
}

pub struct FakeProvider {
    /// `https://127.0.0.1:<port>`, also its issuer.
    pub base: String,
    pub ca_pem: String,
    shared: Shared,
}

impl FakeProvider {
    pub async fn start() -> Self {
        let ca = TestCa::new();
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("https://127.0.0.1:{}", tcp.local_addr().unwrap().port());
        let shared = Shared {
            books: Arc::default(),
            issuer: base.clone(),
        };
        let router = Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .with_state(shared.clone());
        let listener = TlsListener {
            tcp,
            acceptor: ca.acceptor(),
        };
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            base,
            ca_pem: ca.ca_pem,
            shared,
        }
    }

    /// Leash's configuration of this provider under `id`.
    pub fn config(&self, id: &str) -> Provider {
        let url = |path: &str| url::Url::parse(&format!("{}{path}", self.base)).unwrap();
        Provider {
            id: ProviderId::parse(id).unwrap(),
            authorization_url: url("/authorize"),
            token_url: url("/token"),
            revocation_url: Some(url("/revoke")),
            issuer: Some(self.base.clone()),
            client_id: CLIENT_ID.to_owned(),
            client_secret: Secret::new(CLIENT_SECRET.to_owned()),
            scopes: vec!["repo".to_owned()],
            scope_separator: " ".to_owned(),
            pkce: Pkce::S256,
            token_auth_method: TokenAuthMethod::ClientSecretBasic,
            allow_private_network: true,
            extra_roots_pem: Some(self.ca_pem.clone().into_bytes()),
        }
    }

    /// Grant only `scopes` (space-separated) from now on, whatever is asked.
    pub fn grant_only(&self, scopes: &str) {
        self.shared.books.lock().unwrap().grant_only = Some(scopes.to_owned());
    }

    /// Revocations of `kind` (`access_token`, `refresh_token`, `any`) answer 503 until
    /// `None`.
    pub fn fail_revocations_of(&self, kind: Option<&str>) {
        self.shared.books.lock().unwrap().revocation_fails_for = kind.map(str::to_owned);
    }

    pub fn token_mode(&self, mode: TokenMode) {
        self.shared.books.lock().unwrap().token_mode = Some(mode);
    }

    /// The person revoked Leash's access at the provider: every refresh token dies.
    pub fn kill_grants(&self) {
        for (_, active) in self
            .shared
            .books
            .lock()
            .unwrap()
            .refresh_tokens
            .values_mut()
        {
            *active = false;
        }
    }

    /// Refreshes answer only after `delay` (so concurrent vends find one in flight).
    pub fn delay_refreshes(&self, delay: std::time::Duration) {
        self.shared.books.lock().unwrap().refresh_delay = delay;
    }

    /// Revocation requests are recorded and then left unanswered (true) or answered.
    pub fn hold_revocations(&self, held: bool) {
        self.shared.books.lock().unwrap().hold_revocations = held;
    }

    /// Tokens from a code exchange live `seconds` from now on (refreshed ones an hour).
    pub fn first_tokens_expire_in(&self, seconds: u64) {
        self.shared.books.lock().unwrap().first_expires_in = Some(seconds);
    }

    /// Leash's configuration file naming this provider `acme`, written in `dir` with
    /// its CA beside it.
    pub fn config_file(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, &self.ca_pem).unwrap();
        let config = dir.join("leash.toml");
        std::fs::write(
            &config,
            format!(
                "[[providers]]\nid = \"acme\"\nauthorization_url = \"{base}/authorize\"\n\
                 token_url = \"{base}/token\"\nrevocation_url = \"{base}/revoke\"\n\
                 issuer = \"{base}\"\nclient_id = \"{CLIENT_ID}\"\n\
                 client_secret = \"{CLIENT_SECRET}\"\nscopes = [\"repo\"]\n\
                 allow_private_network = true\nca_file = \"{ca}\"\n",
                base = self.base,
                ca = ca.display(),
            ),
        )
        .unwrap();
        config
    }

    pub fn code_exchanges(&self) -> usize {
        self.shared.books.lock().unwrap().code_exchanges
    }

    pub fn refreshes(&self) -> usize {
        self.shared.books.lock().unwrap().refreshes
    }

    pub fn revocations(&self) -> Vec<(String, String)> {
        self.shared.books.lock().unwrap().revocations.clone()
    }

    /// Whether the provider still honours `token` (access or refresh).
    pub fn is_active(&self, token: &str) -> bool {
        let books = self.shared.books.lock().unwrap();
        books.access_tokens.get(token).copied().unwrap_or(false)
            || books
                .refresh_tokens
                .get(token)
                .is_some_and(|(_, active)| *active)
    }

    /// Every token the provider issued, access and refresh, active or not.
    pub fn issued_tokens(&self) -> Vec<String> {
        let books = self.shared.books.lock().unwrap();
        books
            .access_tokens
            .keys()
            .chain(books.refresh_tokens.keys())
            .cloned()
            .collect()
    }

    /// Follows an authorization URL Leash made, as a person who consents would: answers
    /// the query string the provider sends the browser back with.
    pub async fn consent(&self, authorization_url: &str) -> String {
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let answer = client.get(authorization_url).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{answer:?}");
        let location = answer.headers()[header::LOCATION].to_str().unwrap();
        let url = url::Url::parse(location).unwrap();
        url.query().unwrap_or_default().to_owned()
    }
}

async fn authorize(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut books = shared.books.lock().unwrap();
    if query.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || query.get("response_type").map(String::as_str) != Some("code")
    {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let Some(redirect_uri) = query.get("redirect_uri").cloned() else {
        return (StatusCode::BAD_REQUEST, "no redirect_uri").into_response();
    };
    let challenge = match (
        query.get("code_challenge"),
        query.get("code_challenge_method").map(String::as_str),
    ) {
        (Some(challenge), Some("S256")) => Some(challenge.clone()),
        (None, None) => None,
        _ => return (StatusCode::BAD_REQUEST, "PKCE must be S256").into_response(),
    };
    books.issued += 1;
    let code = format!("code-{}", books.issued);
    let asked = query.get("scope").cloned().unwrap_or_default();
    let scope = books.grant_only.clone().unwrap_or(asked);
    books.codes.insert(
        code.clone(),
        PendingCode {
            redirect_uri: redirect_uri.clone(),
            challenge,
            scope,
        },
    );
    let mut back = url::Url::parse(&redirect_uri).unwrap();
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", query.get("state").map_or("", String::as_str))
        .append_pair("iss", &shared.issuer);
    Redirect::to(back.as_str()).into_response()
}

/// The client id and secret, from HTTP Basic or the form.
fn client_of(headers: &HeaderMap, form: &HashMap<String, String>) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .ok()?;
        let (id, secret) = String::from_utf8(decoded)
            .ok()?
            .split_once(':')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))?;
        return Some((id, secret));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({ "error": error }))).into_response()
}

async fn token(
    State(shared): State<Shared>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    if form.get("grant_type").map(String::as_str) == Some("refresh_token") {
        let delay = shared.books.lock().unwrap().refresh_delay;
        tokio::time::sleep(delay).await;
    }
    let mut books = shared.books.lock().unwrap();
    match books.token_mode.unwrap_or(TokenMode::Normal) {
        TokenMode::Normal => {}
        TokenMode::Down => {
            return (StatusCode::SERVICE_UNAVAILABLE, "<html>down</html>").into_response();
        }
        TokenMode::Garbage => return (StatusCode::OK, "<html>hello</html>").into_response(),
    }
    if client_of(&headers, &form) != Some((CLIENT_ID.to_owned(), CLIENT_SECRET.to_owned())) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let mut expires_in = 3600;
    let scope = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            expires_in = books.first_expires_in.unwrap_or(expires_in);
            books.code_exchanges += 1;
            let code = form.get("code").cloned().unwrap_or_default();
            let Some(pending) = books.codes.remove(&code) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            if form.get("redirect_uri") != Some(&pending.redirect_uri) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            if let Some(challenge) = &pending.challenge {
                let verifier = form.get("code_verifier").cloned().unwrap_or_default();
                let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(sha2::Sha256::digest(verifier.as_bytes()));
                if &computed != challenge {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                }
            }
            pending.scope
        }
        Some("refresh_token") => {
            books.refreshes += 1;
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            match books.refresh_tokens.get_mut(&presented) {
                Some((scope, active)) if *active => {
                    // Rotation: the presented refresh token dies with this answer.
                    *active = false;
                    scope.clone()
                }
                _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
            }
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    books.issued += 1;
    let access = format!(
        "upstream-access-{}-{}",
        books.issued,
        uuid::Uuid::new_v4().simple()
    );
    let refresh = format!(
        "upstream-refresh-{}-{}",
        books.issued,
        uuid::Uuid::new_v4().simple()
    );
    books.access_tokens.insert(access.clone(), true);
    books
        .refresh_tokens
        .insert(refresh.clone(), (scope.clone(), true));
    axum::Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "refresh_token": refresh,
        "scope": scope,
    }))
    .into_response()
}

async fn revoke(
    State(shared): State<Shared>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let token = form.get("token").cloned().unwrap_or_default();
    let hint = form.get("token_type_hint").cloned().unwrap_or_default();
    let held = {
        let mut books = shared.books.lock().unwrap();
        if client_of(&headers, &form) != Some((CLIENT_ID.to_owned(), CLIENT_SECRET.to_owned())) {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
        }
        books.revocations.push((token.clone(), hint.clone()));
        books.hold_revocations
    };
    if held {
        std::future::pending::<()>().await;
    }
    let mut books = shared.books.lock().unwrap();
    if let Some(failing) = &books.revocation_fails_for
        && (failing == "any" || *failing == hint)
    {
        return (StatusCode::SERVICE_UNAVAILABLE, "<html>down</html>").into_response();
    }
    if let Some(active) = books.access_tokens.get_mut(&token) {
        *active = false;
    }
    if let Some((_, active)) = books.refresh_tokens.get_mut(&token) {
        *active = false;
    }
    StatusCode::OK.into_response()
}
