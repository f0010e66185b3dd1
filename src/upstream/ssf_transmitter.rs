//! The Shared Signals transmitters Leash receives from (`[[ssf_transmitters]]`): each
//! one's issuer and audience, how its events arrive, and its signing keys, fetched from
//! its JWKS (discovered from `/.well-known/ssf-configuration` when not configured) and
//! fetched again on an unknown key id at most once a minute. Every call goes through
//! the guarded client.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use tokio::sync::Mutex;
use url::Url;

use super::guarded_client::{self, Guard, GuardedClient};
use crate::domain::secret::Secret;

/// The least time between two fetches of one transmitter's keys.
pub const REFETCH_INTERVAL: TimeDelta = TimeDelta::seconds(60);

/// The largest JWKS or configuration document read.
const DOCUMENT_LIMIT: usize = 256 * 1024;

/// How a transmitter's events arrive.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// It POSTs them to `/ssf/events` (RFC 8935).
    Push,
    /// Leash polls its endpoint with a bearer token (RFC 8936).
    Poll { url: Url, token: Secret },
}

/// A transmitter as configured.
#[derive(Debug, Clone)]
pub struct TransmitterConfig {
    pub issuer: String,
    pub audience: String,
    pub jwks_uri: Option<Url>,
    pub delivery: Delivery,
    pub allow_private_network: bool,
    pub extra_roots_pem: Option<Vec<u8>>,
}

pub struct Transmitter {
    pub config: TransmitterConfig,
    http: GuardedClient,
    keys: Mutex<Keys>,
}

#[derive(Default)]
struct Keys {
    jwks_uri: Option<Url>,
    set: Option<JwkSet>,
    fetched_at: Option<DateTime<Utc>>,
}

/// Why a key could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyUnavailable {
    #[error("no key {0:?} in the transmitter's key set")]
    Unknown(String),
    #[error("the transmitter's keys could not be fetched: {0}")]
    Fetch(String),
}

impl Transmitter {
    pub fn new(config: TransmitterConfig, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = GuardedClient::new(&Guard {
            allow_private: config.allow_private_network,
            timeout,
            user_agent: "leash-ssf-receiver",
            extra_roots_pem: config.extra_roots_pem.clone(),
        })?;
        Ok(Self {
            keys: Mutex::new(Keys {
                jwks_uri: config.jwks_uri.clone(),
                ..Keys::default()
            }),
            config,
            http,
        })
    }

    /// The key `kid` names (the only key, when the token names none), fetching the key
    /// set first if it is unknown and was not fetched within the minute before `now`.
    pub async fn key(&self, kid: Option<&str>, now: DateTime<Utc>) -> Result<Jwk, KeyUnavailable> {
        let mut keys = self.keys.lock().await;
        if let Some(found) = keys.set.as_ref().and_then(|set| find(set, kid)) {
            return Ok(found);
        }
        if keys
            .fetched_at
            .is_some_and(|at| now - at < REFETCH_INTERVAL)
        {
            return Err(KeyUnavailable::Unknown(kid.unwrap_or("").to_owned()));
        }
        keys.fetched_at = Some(now);
        let uri = match keys.jwks_uri.clone() {
            Some(uri) => uri,
            None => {
                let uri = self.discover_jwks_uri().await?;
                keys.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let set: JwkSet = self.get_json(&uri).await?;
        let found = find(&set, kid);
        keys.set = Some(set);
        found.ok_or_else(|| KeyUnavailable::Unknown(kid.unwrap_or("").to_owned()))
    }

    /// The transmitter's configuration document's `jwks_uri`.
    async fn discover_jwks_uri(&self) -> Result<Url, KeyUnavailable> {
        let configuration = well_known(&self.config.issuer)
            .ok_or_else(|| KeyUnavailable::Fetch("the issuer is not a URL".to_owned()))?;
        let document: serde_json::Value = self.get_json(&configuration).await?;
        document
            .get("jwks_uri")
            .and_then(serde_json::Value::as_str)
            .and_then(|raw| Url::parse(raw).ok())
            .ok_or_else(|| KeyUnavailable::Fetch(format!("{configuration} names no jwks_uri")))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
    ) -> Result<T, KeyUnavailable> {
        let fetch = |e: String| KeyUnavailable::Fetch(format!("{url}: {e}"));
        let response = self
            .http
            .request(reqwest::Method::GET, url)
            .map_err(|e| fetch(e.to_string()))?
            .send()
            .await
            .map_err(|e| fetch(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fetch(format!("answered {}", response.status())));
        }
        let body = guarded_client::read_limited(response, DOCUMENT_LIMIT)
            .await
            .ok_or_else(|| fetch("the document is too large".to_owned()))?;
        serde_json::from_slice(&body).map_err(|e| fetch(e.to_string()))
    }

    /// One poll (RFC 8936): acknowledges `ack`, reports `errors` (jti → (err,
    /// description)), and answers the SETs waiting (jti → token) and whether more are.
    pub async fn poll(
        &self,
        ack: &[String],
        errors: &[(String, String, String)],
        max_events: u32,
    ) -> Result<Polled, String> {
        let Delivery::Poll { url, token } = &self.config.delivery else {
            return Err("the transmitter pushes".to_owned());
        };
        let set_errs: serde_json::Map<String, serde_json::Value> = errors
            .iter()
            .map(|(jti, err, description)| {
                (
                    jti.clone(),
                    serde_json::json!({ "err": err, "description": description }),
                )
            })
            .collect();
        let mut body = serde_json::json!({
            "ack": ack,
            "maxEvents": max_events,
            "returnImmediately": true,
        });
        if !set_errs.is_empty() {
            body["setErrs"] = serde_json::Value::Object(set_errs);
        }
        let response = self
            .http
            .request(reqwest::Method::POST, url)
            .map_err(|e| e.to_string())?
            .bearer_auth(token.expose())
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        let body = guarded_client::read_limited(response, DOCUMENT_LIMIT * 4)
            .await
            .ok_or("the answer is too large")?;
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    }
}

/// What one poll answered.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Polled {
    #[serde(default)]
    pub sets: serde_json::Map<String, serde_json::Value>,
    #[serde(default, rename = "moreAvailable")]
    pub more_available: bool,
}

fn find(set: &JwkSet, kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => set.find(kid).cloned(),
        None if set.keys.len() == 1 => set.keys.first().cloned(),
        None => None,
    }
}

/// Where an issuer's SSF configuration is: the well-known segment goes before any path
/// of the issuer (`https://idp.example/t1` → `https://idp.example/.well-known/ssf-configuration/t1`).
pub fn well_known(issuer: &str) -> Option<Url> {
    let mut url = Url::parse(issuer).ok()?;
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("/.well-known/ssf-configuration{path}"));
    url.set_query(None);
    Some(url)
}

/// The configured transmitters; cheap to clone.
#[derive(Clone, Default)]
pub struct Transmitters(Arc<Vec<Transmitter>>);

impl Transmitters {
    pub fn new(configs: &[TransmitterConfig], timeout: Duration) -> Result<Self, reqwest::Error> {
        configs
            .iter()
            .map(|config| Transmitter::new(config.clone(), timeout))
            .collect::<Result<Vec<_>, _>>()
            .map(|all| Self(Arc::new(all)))
    }

    /// The transmitter whose issuer is exactly `issuer`.
    pub fn by_issuer(&self, issuer: &str) -> Option<&Transmitter> {
        self.0.iter().find(|t| t.config.issuer == issuer)
    }

    pub fn all(&self) -> impl Iterator<Item = &Transmitter> {
        self.0.iter()
    }
}

impl std::fmt::Debug for Transmitters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|t| &t.config.issuer))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_well_known_segment_goes_before_the_issuers_path() {
        assert_eq!(
            well_known("https://idp.example").unwrap().as_str(),
            "https://idp.example/.well-known/ssf-configuration"
        );
        assert_eq!(
            well_known("https://idp.example/tenants/t1/")
                .unwrap()
                .as_str(),
            "https://idp.example/.well-known/ssf-configuration/tenants/t1"
        );
    }
}
