//! The call to the pre-issuance hook (`crate::domain::issuance_hook`): one POST through
//! the guarded client, bounded as a whole by the configured timeout, its answer read up
//! to a small limit.

use std::time::Duration;

use url::Url;

use super::guarded_client::{self, Guard, GuardedClient};
use crate::domain::issuance_hook::{self, FailurePolicy, HookAnswer, HookFailure, HookRequest};
use crate::domain::secret::Secret;

/// The largest answer read; an answer is a decision and a sentence.
const ANSWER_LIMIT: usize = 16 * 1024;

/// The hook as configured.
#[derive(Debug, Clone)]
pub struct HookConfig {
    pub url: Url,
    /// Connect to last byte.
    pub timeout: Duration,
    pub on_failure: FailurePolicy,
    /// Sent as `Authorization: Bearer …`, so the hook knows the call is Leash's.
    pub token: Option<Secret>,
    pub allow_private_network: bool,
    pub extra_roots_pem: Option<Vec<u8>>,
}

/// The configured hook, ready to call; cheap to clone.
#[derive(Clone)]
pub struct IssuanceHook {
    pub config: HookConfig,
    http: GuardedClient,
}

impl std::fmt::Debug for IssuanceHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuanceHook")
            .field("url", &self.config.url.as_str())
            .field("timeout", &self.config.timeout)
            .field("on_failure", &self.config.on_failure)
            .finish_non_exhaustive()
    }
}

impl IssuanceHook {
    pub fn new(config: HookConfig) -> Result<Self, reqwest::Error> {
        let http = GuardedClient::new(&Guard {
            allow_private: config.allow_private_network,
            timeout: config.timeout,
            user_agent: "leash-pre-issuance-hook",
            extra_roots_pem: config.extra_roots_pem.clone(),
        })?;
        Ok(Self { config, http })
    }

    /// Asks the hook about `request`: its answer, or why there is none.
    pub async fn ask(&self, request: &HookRequest) -> Result<HookAnswer, HookFailure> {
        tokio::time::timeout(self.config.timeout, self.call(request))
            .await
            .unwrap_or(Err(HookFailure::Timeout))
    }

    async fn call(&self, request: &HookRequest) -> Result<HookAnswer, HookFailure> {
        let mut call = self
            .http
            .request(reqwest::Method::POST, &self.config.url)
            .map_err(|refused| HookFailure::Unreachable(refused.to_string()))?
            .json(request);
        if let Some(token) = &self.config.token {
            call = call.bearer_auth(token.expose());
        }
        let response = call.send().await.map_err(|e| {
            if e.is_timeout() {
                HookFailure::Timeout
            } else {
                HookFailure::Unreachable(e.to_string())
            }
        })?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(HookFailure::Status(response.status().as_u16()));
        }
        let body = guarded_client::read_limited(response, ANSWER_LIMIT)
            .await
            .ok_or(HookFailure::InvalidAnswer)?;
        issuance_hook::parse_answer(&body)
    }
}
