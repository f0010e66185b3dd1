//! Sends one signed webhook message over HTTP, through the guarded client
//! (`crate::upstream::guarded_client`): unless private targets are allowed, only public
//! addresses are reached, judged on every connection; no proxy, no redirects.

use std::time::{Duration, Instant};

use crate::domain::webhook;
use crate::upstream::guarded_client::{AddressRefused, Guard, GuardedClient, read_limited};

/// The most of an answer's body that is read (and thrown away).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The HTTP client for webhooks; cheap to clone.
#[derive(Clone)]
pub struct WebhookSender {
    client: GuardedClient,
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

impl WebhookSender {
    /// `allow_private`: whether loopback, private and other special-purpose addresses
    /// may be called (an operator's choice). `timeout`: one attempt, connect to last byte.
    pub fn new(allow_private: bool, timeout: Duration) -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: GuardedClient::new(&Guard {
                allow_private,
                timeout,
                user_agent: concat!("Leash-Webhooks/", env!("CARGO_PKG_VERSION")),
                extra_roots_pem: None,
            })?,
            allow_private,
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
        let request = match url::Url::parse(&message.url)
            .map_err(|_| AddressRefused)
            .and_then(|url| self.client.request(reqwest::Method::POST, &url))
        {
            Ok(request) => request,
            Err(refused) => {
                return Sent {
                    status_code: None,
                    error: Some(refused.to_string()),
                    duration: started.elapsed(),
                };
            }
        };
        let answer = request
            .header("content-type", "application/json")
            .header("webhook-id", &message.id)
            .header("webhook-timestamp", message.timestamp.to_string())
            .header("webhook-signature", &message.signature)
            .body(message.body)
            .send()
            .await;
        match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                // Read the answer's body, up to a bound, so the connection can be reused;
                // what it says does not matter.
                read_limited(response, MAX_ANSWER_BYTES).await;
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
    use super::*;

    #[tokio::test]
    async fn a_refused_target_is_an_attempt_without_an_answer() {
        let sender = WebhookSender::new(false, Duration::from_secs(10)).unwrap();
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
