//! Webhooks: who may be a target, how a message is signed (the Standard Webhooks
//! scheme), when a failed delivery is tried again, and when an endpoint is judged failing
//! or given up on. No IO: time and jitter are parameters.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac as _};
use rand::RngCore as _;
use sha2::Sha256;
use url::Url;

use super::event::EventType;
use super::id::{EventId, WebhookEndpointId};
use super::network;

/// The longest URL an endpoint may have.
pub const URL_MAX_LEN: usize = 2048;
/// The longest description.
pub const DESCRIPTION_MAX_LEN: usize = 500;
/// The most webhook endpoints one Leash holds: each multiplies every event's deliveries.
pub const MAX_ENDPOINTS: i64 = 50;
/// Consecutive failed attempts after which an endpoint is marked `failing`.
pub const FAILING_AFTER: u32 = 5;

/// Waits before each retry, after the first attempt failed: 5 s, 30 s, 2 min, 10 min,
/// 1 h, 6 h, then daily; a delivery still failing after the last is given up, about
/// three and a third days after the event.
pub const RETRY_DELAYS_SECONDS: [i64; 9] = [5, 30, 120, 600, 3_600, 21_600, 86_400, 86_400, 86_400];

/// How many attempts a delivery gets in all.
pub const MAX_ATTEMPTS: u32 = RETRY_DELAYS_SECONDS.len() as u32 + 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointStatus {
    /// Deliveries go out.
    Active,
    /// Deliveries still go out, but the last `FAILING_AFTER` or more attempts failed.
    Failing,
    /// Nothing is sent: an admin disabled it, or a delivery ran out of retries.
    Disabled,
}

impl EndpointStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointStatus::Active => "active",
            EndpointStatus::Failing => "failing",
            EndpointStatus::Disabled => "disabled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Active, Self::Failing, Self::Disabled]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// A webhook endpoint, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: WebhookEndpointId,
    pub url: String,
    pub description: Option<String>,
    /// The event types it receives; empty for every type.
    pub event_types: Vec<EventType>,
    pub status: EndpointStatus,
    pub consecutive_failures: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs, if it does.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// The webhook targets every client can rely on, as a JSON Schema pattern for the API's
/// contract: http(s), a DNS name (its last label starting with a letter, so it never reads
/// as an address) or an IPv4 address, an optional port, path and query. [`target`] also
/// takes what else parses as an absolute http(s) URL (IPv6 literals, international
/// names).
pub const URL_PATTERN: &str = concat!(
    r"^https?://",
    r"(([A-Za-z0-9]+(-[A-Za-z0-9]+)*\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*",
    r"|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))",
    r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?",
    r"(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?",
    r"(\?[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?$",
);

/// Why a URL cannot be a webhook target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetRefused {
    #[error("the url is not a valid absolute URL")]
    Malformed,
    #[error("the url must be http or https")]
    Scheme,
    #[error("the url must not carry a user name or password")]
    Credentials,
    #[error("the url is longer than {URL_MAX_LEN} characters")]
    TooLong,
    #[error("the url points at a private, loopback or link-local address")]
    Private,
}

/// Parses a webhook target: an absolute http(s) URL without credentials whose host, if
/// private targets are not allowed, is neither `localhost` nor a non-public address. A
/// name is judged again by the addresses it resolves to each time a message is sent.
pub fn target(raw: &str, allow_private: bool) -> Result<Url, TargetRefused> {
    if raw.len() > URL_MAX_LEN {
        return Err(TargetRefused::TooLong);
    }
    let url = Url::parse(raw).map_err(|_| TargetRefused::Malformed)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetRefused::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetRefused::Credentials);
    }
    if url.host().is_none() {
        return Err(TargetRefused::Malformed);
    }
    if allow_private {
        return Ok(url);
    }
    let public = network::host_is_public(&url);
    if public {
        Ok(url)
    } else {
        Err(TargetRefused::Private)
    }
}

/// An endpoint's signing secret (`whsec_` and base64 of 32 random bytes, the Standard
/// Webhooks form). It does not print.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    pub const PREFIX: &'static str = "whsec_";

    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The key bytes, to seal for storage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as the endpoint's owner is shown it, once.
    pub fn expose(&self) -> String {
        format!("{}{}", Self::PREFIX, STANDARD.encode(&self.0))
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(message_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

/// The `webhook-signature` header: one signature per secret that signs now (the
/// current one, and during a rotation's overlap the previous one), space-separated.
pub fn signature_header(
    secrets: &[SigningSecret],
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(message_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    Succeeded,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// That was the last attempt.
    GaveUp,
}

/// The next step for a delivery whose `attempt`-th attempt (1-based) just ended at `now`.
/// `jitter` in `[0, 1)` spreads retries over ±20% of the wait, so endpoints that failed
/// together do not all come back at once.
pub fn after_attempt(
    succeeded: bool,
    attempt: u32,
    now: DateTime<Utc>,
    jitter: f64,
) -> AfterAttempt {
    if succeeded {
        return AfterAttempt::Succeeded;
    }
    let Some(&delay) = RETRY_DELAYS_SECONDS.get(attempt.saturating_sub(1) as usize) else {
        return AfterAttempt::GaveUp;
    };
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    #[allow(clippy::cast_possible_truncation)]
    let wait_ms = (delay as f64 * 1000.0 * factor) as i64;
    AfterAttempt::RetryAt(now + TimeDelta::milliseconds(wait_ms))
}

/// Whether an HTTP status counts as delivered: any 2xx.
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn the_signature_matches_the_standard_webhooks_test_vector() {
        // From the Standard Webhooks reference implementations' tests.
        let secret =
            SigningSecret::from_bytes(STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
        let signature = secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn during_an_overlap_both_secrets_sign() {
        let old = SigningSecret::generate();
        let new = SigningSecret::generate();
        let header = signature_header(&[new.clone(), old.clone()], "evt_1", 5, b"{}");
        assert_eq!(
            header,
            format!(
                "{} {}",
                new.sign("evt_1", 5, b"{}"),
                old.sign("evt_1", 5, b"{}")
            )
        );
        assert!(!format!("{new:?}").contains(&new.expose()));
    }

    #[test]
    fn retries_follow_the_schedule_within_the_jitter_then_give_up() {
        for (i, delay) in RETRY_DELAYS_SECONDS.iter().enumerate() {
            let attempt = u32::try_from(i).unwrap() + 1;
            let low = after_attempt(false, attempt, at(0), 0.0);
            let high = after_attempt(false, attempt, at(0), 0.999_999);
            assert_eq!(
                low,
                AfterAttempt::RetryAt(at(0) + TimeDelta::milliseconds(delay * 800))
            );
            let AfterAttempt::RetryAt(high) = high else {
                panic!("no retry")
            };
            assert!(high <= at(0) + TimeDelta::milliseconds(delay * 1200));
        }
        assert_eq!(
            after_attempt(false, MAX_ATTEMPTS, at(0), 0.5),
            AfterAttempt::GaveUp
        );
        assert_eq!(
            after_attempt(true, MAX_ATTEMPTS, at(0), 0.5),
            AfterAttempt::Succeeded
        );
    }

    #[test]
    fn private_and_loopback_targets_are_refused_unless_allowed() {
        for raw in [
            "http://localhost:8080/x",
            "https://a.LOCALHOST./",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:7f00:1::1]/",
            "http://192.0.0.8/",
        ] {
            assert_eq!(target(raw, false), Err(TargetRefused::Private), "{raw}");
            assert!(target(raw, true).is_ok(), "{raw}");
        }
        assert!(target("https://hooks.example.com/leash", false).is_ok());
        assert_eq!(
            target("ftp://hooks.example.com/", false),
            Err(TargetRefused::Scheme)
        );
        assert_eq!(
            target("https://u:p@hooks.example.com/", false),
            Err(TargetRefused::Credentials)
        );
        assert_eq!(
            target("hooks.example.com", false),
            Err(TargetRefused::Malformed)
        );
    }
}

/// An attempt as the attempts API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: String,
    pub delivery_id: String,
    pub event_id: EventId,
    pub attempt: i64,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub error: Option<String>,
}
