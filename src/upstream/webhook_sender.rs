//! Sends one signed webhook message over HTTP. Guards the network it reaches: unless
//! private targets are allowed, a name must resolve to public addresses only (checked on
//! every connection, so a name cannot be re-pointed at the internal network after the
//! endpoint was accepted), no proxy from the environment is used, and redirects are not
//! followed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;

use crate::app::WebhookSettings;
use crate::domain::webhook;

/// The most of an answer's body that is read (and thrown away).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The HTTP client for webhooks; cheap to clone.
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    allow_private: bool,
}

/// One message, signed, ready to go.
#[derive(Debug)]
pub struct Message {
    pub url: String,
    /// `webhook-id`: the event id, the same on every attempt, for receivers to dedupe.
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: Vec<u8>,
}

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration: Duration,
}

impl Sent {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(webhook::is_success)
    }
}

/// Resolves names, then drops every address that is not public.
struct PublicAddressesOnly;

impl Resolve for PublicAddressesOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = resolved.filter(|a| webhook::is_public(a.ip())).collect();
            if public.is_empty() {
                return Err("the name resolves to no public address".into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

impl WebhookSender {
    pub fn new(settings: &WebhookSettings) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(settings.request_timeout.min(Duration::from_secs(5)))
            .redirect(Policy::none())
            .no_proxy()
            .user_agent(concat!("Leash-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private_targets {
            builder = builder.dns_resolver(Arc::new(PublicAddressesOnly));
        }
        Ok(Self {
            client: builder.build()?,
            allow_private: settings.allow_private_targets,
        })
    }

    /// Sends `message` with the Standard Webhooks headers. Never fails: a refusal,
    /// a timeout or a non-2xx answer is an outcome to record.
    pub async fn send(&self, message: Message) -> Sent {
        let started = Instant::now();
        if let Err(refused) = webhook::target(&message.url, self.allow_private) {
            return Sent {
                status_code: None,
                error: Some(refused.to_string()),
                duration: started.elapsed(),
            };
        }
        let answer = self
            .client
            .post(&message.url)
            .header("content-type", "application/json")
            .header("webhook-id", &message.id)
            .header("webhook-timestamp", message.timestamp.to_string())
            .header("webhook-signature", &message.signature)
            .body(message.body)
            .send()
            .await;
        match answer {
            Ok(mut response) => {
                let status = response.status().as_u16();
                // Read the answer's body, up to a bound, so the connection can be reused;
                // what it says does not matter.
                let mut read = 0;
                while let Ok(Some(chunk)) = response.chunk().await {
                    read += chunk.len();
                    if read > MAX_ANSWER_BYTES {
                        break;
                    }
                }
                Sent {
                    status_code: Some(status),
                    error: (!webhook::is_success(status))
                        .then(|| format!("the endpoint answered {status}")),
                    duration: started.elapsed(),
                }
            }
            Err(error) => Sent {
                status_code: None,
                error: Some(describe(&error)),
                duration: started.elapsed(),
            },
        }
    }
}

/// A short cause for an attempt that got no answer. The URL is left out: it may carry a
/// token in its query that its owner put there.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {cause}")
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use super::*;

    #[tokio::test]
    async fn a_name_that_resolves_only_to_loopback_is_refused_when_connecting() {
        let resolved = PublicAddressesOnly
            .resolve(Name::from_str("localhost").unwrap())
            .await;
        let error = resolved.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("no public address"), "{error}");
    }

    #[tokio::test]
    async fn a_refused_target_is_an_attempt_without_an_answer() {
        let sender = WebhookSender::new(&WebhookSettings::default()).unwrap();
        let sent = sender
            .send(Message {
                url: "http://169.254.169.254/latest/meta-data".to_owned(),
                id: "evt_1".to_owned(),
                timestamp: 0,
                signature: String::new(),
                body: Vec::new(),
            })
            .await;
        assert_eq!(sent.status_code, None);
        assert!(!sent.succeeded());
        assert!(sent.error.unwrap().contains("private"));
    }
}
