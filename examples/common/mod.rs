//! A small Leash client shared by the examples: the admin API, introspection, and the
//! OAuth endpoints with an agent's client credentials.

#![allow(dead_code)] // each example uses part of it

use std::error::Error;

use serde_json::Value;

pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

pub struct Leash {
    pub http: reqwest::Client,
    pub base: String,
    pub key: String,
}

impl Leash {
    /// From `LEASH_URL` (default http://127.0.0.1:8080) and `LEASH_ADMIN_KEY`.
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            http: reqwest::Client::new(),
            base: std::env::var("LEASH_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned()),
            key: std::env::var("LEASH_ADMIN_KEY").map_err(
                |_| "set LEASH_ADMIN_KEY to an admin key (printed by the first `leash serve`)",
            )?,
        })
    }

    /// A form POST to an OAuth endpoint as the agent `client_id`; answers the status
    /// and the JSON body, errors included.
    pub async fn oauth(
        &self,
        path: &str,
        client_id: &str,
        client_secret: &str,
        form: &[(&str, &str)],
    ) -> Result<(reqwest::StatusCode, Value)> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(client_id, Some(client_secret))
            .form(form)
            .send()
            .await?;
        Ok((response.status(), response.json().await?))
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await?;
        Self::answer(response).await
    }

    pub async fn get(&self, path: &str) -> Result<Value> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await?;
        Self::answer(response).await
    }

    pub async fn introspect(&self, token: &str) -> Result<Value> {
        let response = self
            .http
            .post(format!("{}/oauth2/introspect", self.base))
            .bearer_auth(&self.key)
            .form(&[("token", token)])
            .send()
            .await?;
        Self::answer(response).await
    }

    /// Registers an agent with `scopes` as its ceiling and has the user allow them all:
    /// answers its client id and secret.
    pub async fn agent_allowed_by(
        &self,
        user_id: &str,
        name: &str,
        scopes: &[&str],
    ) -> Result<(String, String)> {
        let agent = self
            .post(
                "/v1/agents",
                serde_json::json!({ "name": name, "scopes": scopes }),
            )
            .await?;
        let id = agent["client_id"]
            .as_str()
            .ok_or("no client id")?
            .to_owned();
        let secret = agent["client_secret"]
            .as_str()
            .ok_or("no secret")?
            .to_owned();
        self.post(
            &format!("/v1/users/{user_id}/grants"),
            serde_json::json!({ "agent_id": id, "scopes": scopes }),
        )
        .await?;
        Ok((id, secret))
    }

    async fn answer(response: reqwest::Response) -> Result<Value> {
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            return Err(format!("{status}: {body}").into());
        }
        Ok(body)
    }
}
