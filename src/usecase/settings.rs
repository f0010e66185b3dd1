//! Leash's tunables, as the use cases read them (`crate::cli` fills them from flags and
//! environment variables).

use std::collections::HashMap;
use std::time::Duration;

use chrono::TimeDelta;

use crate::domain::ip_range::IpRange;
use crate::domain::limits::Limits;
use crate::domain::risk_policy::{RiskPolicy, Severity};
use crate::domain::user_session::Lifetime;
use crate::secret_box::EncryptionKeys;
use crate::upstream::issuance_hook::IssuanceHook;
use crate::upstream::oauth_provider::Providers;
use crate::upstream::ssf_transmitter::Transmitters;
use crate::upstream::webhook_sender::WebhookSender;

/// Tunables, from the command line or the environment (see `crate::cli`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Lifetime of a user session when the host application does not say.
    pub user_session_lifetime: Lifetime,
    /// Lifetime of an agent session when its agent has no override.
    pub agent_session_lifetime: Lifetime,
    /// Lifetime of an agent access token (refresh for another).
    pub access_token_ttl: TimeDelta,
    /// How long a rotated refresh token still answers with its successors, so a
    /// concurrent retry of the same refresh does not count as reuse.
    pub refresh_grace: TimeDelta,
    /// The deepest delegation chain (1: delegations from users only).
    pub delegation_depth_limit: u32,
    /// How many tokens the introspection cache holds; past it, each insert evicts one
    /// not looked up lately.
    pub token_cache_capacity: usize,
    /// How long the invalidation listener waits before it pings its connection.
    pub invalidation_heartbeat: Duration,
    /// Seal secrets Leash must read back (upstream tokens, webhook signing secrets).
    /// Every instance on one database needs the same set.
    pub encryption_keys: EncryptionKeys,
    /// How long events (and finished webhook deliveries and attempts) are kept.
    pub event_retention: TimeDelta,
    pub webhooks: WebhookSettings,
    /// Bounds on sessions a caller can grow.
    pub limits: Limits,
    /// Leash's externally visible base URL, without a trailing slash: the OAuth issuer,
    /// and the base of every endpoint it advertises.
    pub public_url: String,
    /// The upstream OAuth providers users may connect, each with its client.
    pub providers: Providers,
    /// Origins (`https://app.example.com`) a connect may send the person back to,
    /// besides Leash's own.
    pub return_to_origins: Vec<String>,
    /// An upstream token expiring within this is refreshed before it is handed out.
    pub credential_refresh_margin: TimeDelta,
    /// How long a worker holds the upstream revocations it leased: longer than a call
    /// to a provider may take.
    pub upstream_lease: TimeDelta,
    /// What risk signals make Leash do.
    pub risk_policy: RiskPolicy,
    /// The proxies in front of Leash, whose X-Forwarded-For says who the client is.
    pub trusted_proxies: Vec<IpRange>,
    /// The Shared Signals transmitters Leash receives Security Event Tokens from.
    pub ssf_transmitters: Transmitters,
    /// The severity a received event's signal carries, by kind, where the operator
    /// chose one (otherwise `crate::domain::ssf`'s default for the event type).
    pub ssf_severities: HashMap<String, Severity>,
    /// How old a Security Event Token's `iat` may be.
    pub ssf_max_age: TimeDelta,
    /// The security system asked before every issuance, when one is configured.
    pub issuance_hook: Option<IssuanceHook>,
}

/// How webhooks are sent.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Whether endpoints may be loopback, private or link-local addresses (tests, a
    /// receiver on the same host). Off by default: a webhook URL is chosen by a caller,
    /// and Leash must not be made to probe its own network.
    pub allow_private_targets: bool,
    /// How long one attempt may take, connect to last byte.
    pub request_timeout: Duration,
    /// How long a worker holds deliveries it leased; past it, another worker may send
    /// them (the first one died between lease and send).
    pub lease: TimeDelta,
    /// Deliveries leased at once, and sent concurrently.
    pub batch_size: u32,
    /// How long the worker sleeps when nothing is due.
    pub poll_interval: Duration,
}

impl WebhookSettings {
    /// The HTTP client that sends webhooks as these settings say.
    pub fn sender(&self) -> Result<WebhookSender, reqwest::Error> {
        WebhookSender::new(self.allow_private_targets, self.request_timeout)
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            request_timeout: Duration::from_secs(10),
            lease: TimeDelta::seconds(60),
            batch_size: 256,
            poll_interval: Duration::from_millis(250),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            user_session_lifetime: Lifetime {
                ttl: TimeDelta::days(30),
                idle_timeout: TimeDelta::days(7),
            },
            agent_session_lifetime: Lifetime {
                ttl: TimeDelta::days(1),
                idle_timeout: TimeDelta::hours(1),
            },
            access_token_ttl: TimeDelta::minutes(15),
            refresh_grace: TimeDelta::seconds(10),
            delegation_depth_limit: 4,
            token_cache_capacity: 1 << 20,
            invalidation_heartbeat: Duration::from_secs(1),
            encryption_keys: EncryptionKeys::generate(),
            event_retention: TimeDelta::days(30),
            webhooks: WebhookSettings::default(),
            limits: Limits::default(),
            public_url: "http://127.0.0.1:8080".to_owned(),
            providers: Providers::default(),
            return_to_origins: Vec::new(),
            credential_refresh_margin: TimeDelta::seconds(60),
            upstream_lease: TimeDelta::seconds(60),
            risk_policy: RiskPolicy::default(),
            trusted_proxies: Vec::new(),
            ssf_transmitters: Transmitters::default(),
            ssf_severities: HashMap::new(),
            ssf_max_age: TimeDelta::hours(1),
            issuance_hook: None,
        }
    }
}
