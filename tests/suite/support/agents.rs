//! Helpers that speak delegation: register an agent, consent, exchange, sub-delegate,
//! refresh, all through the HTTP API as an agent runtime and a host would.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use base64::Engine as _;
use serde_json::{Value, json};

use super::{Answer, TestApp, TestSession, TestUser, urlencode};

pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

#[derive(Debug, Clone)]
pub struct TestAgent {
    pub id: String,
    pub secret: String,
}

impl TestAgent {
    pub fn basic(&self) -> String {
        let pair = format!("{}:{}", self.id, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

/// An agent session's tokens, as a token response gave them.
#[derive(Debug, Clone)]
pub struct AgentTokens {
    pub access: String,
    pub refresh: String,
    pub scope: String,
}

impl AgentTokens {
    pub fn from_answer(body: &Value) -> Self {
        Self {
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
            scope: body["scope"].as_str().unwrap().to_owned(),
        }
    }
}

/// The form of a token exchange from `subject`, asking for `scope` when given.
pub fn exchange_params<'a>(subject: &'a str, scope: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", subject),
        ("subject_token_type", ACCESS_TOKEN_TYPE),
    ];
    if let Some(scope) = scope {
        params.push(("scope", scope));
    }
    params
}

pub fn form(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl TestApp {
    pub async fn register_agent(&self, name: &str, scopes: &[&str]) -> TestAgent {
        let body = self
            .post("/v1/agents", json!({ "name": name, "scopes": scopes }))
            .await
            .assert_status(StatusCode::CREATED)
            .clone();
        TestAgent {
            id: body["client_id"].as_str().unwrap().to_owned(),
            secret: body["client_secret"].as_str().unwrap().to_owned(),
        }
    }

    /// The user consents: `agent` may use `scopes` for them. Answers the grant id.
    pub async fn consent(&self, user: &TestUser, agent: &TestAgent, scopes: &[&str]) -> String {
        let body = self
            .post(
                &format!("/v1/users/{}/grants", user.id),
                json!({ "agent_id": agent.id, "scopes": scopes }),
            )
            .await
            .assert_status(StatusCode::CREATED)
            .clone();
        body["id"].as_str().unwrap().to_owned()
    }

    /// A form POST to an OAuth endpoint with the agent's Basic credentials.
    pub async fn oauth(&self, path: &str, agent: &TestAgent, params: &[(&str, &str)]) -> Answer {
        self.send_authorized(
            Method::POST,
            path,
            Some(agent.basic()),
            Some("application/x-www-form-urlencoded"),
            Body::from(form(params)),
        )
        .await
    }

    /// Token exchange from `subject` (a user session token or an agent access token).
    pub async fn exchange(&self, agent: &TestAgent, subject: &str, scope: Option<&str>) -> Answer {
        self.oauth("/oauth2/token", agent, &exchange_params(subject, scope))
            .await
    }

    /// A successful exchange: the user (through `session`) delegates to `agent`.
    pub async fn delegate(
        &self,
        agent: &TestAgent,
        session: &TestSession,
        scope: Option<&str>,
    ) -> AgentTokens {
        self.delegate_from(agent, &session.token, scope).await
    }

    pub async fn delegate_from(
        &self,
        agent: &TestAgent,
        subject: &str,
        scope: Option<&str>,
    ) -> AgentTokens {
        let answer = self.exchange(agent, subject, scope).await;
        AgentTokens::from_answer(answer.assert_status(StatusCode::OK))
    }

    pub async fn refresh(&self, agent: &TestAgent, refresh_token: &str) -> Answer {
        self.refresh_scoped(agent, refresh_token, None).await
    }

    /// A refresh asking for `scope` (RFC 6749 §6), or for what the session holds.
    pub async fn refresh_scoped(
        &self,
        agent: &TestAgent,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Answer {
        let mut params = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Some(scope) = scope {
            params.push(("scope", scope));
        }
        self.oauth("/oauth2/token", agent, &params).await
    }

    /// The introspection answer for a token, with the admin key.
    pub async fn introspect(&self, token: &str) -> Value {
        let key = self.admin_key.clone();
        self.introspect_with(&key, token)
            .await
            .assert_status(StatusCode::OK)
            .clone()
    }
}

impl Answer {
    /// Asserts an RFC 6749 §5.2 error.
    pub fn assert_oauth_error(&self, status: StatusCode, error: &str) {
        assert_eq!(self.status, status, "{:?}", self.body);
        assert!(
            self.content_type.starts_with("application/json"),
            "{}",
            self.content_type
        );
        assert_eq!(self.body["error"], error, "{:?}", self.body);
    }
}
