//! The command line and what it configures: every flag has an environment variable (and
//! a place in the configuration file, `super::config_file`), and [`Cli::settings`] turns
//! them into the use cases' [`Settings`], refusing what cannot work together.

use std::collections::HashMap;
use std::net::SocketAddr;

use chrono::TimeDelta;
use clap::{Parser, Subcommand, ValueEnum};

use super::CliError;
use crate::domain::api_key::Role;
use crate::domain::ip_range::IpRange;
use crate::domain::issuance_hook::FailurePolicy;
use crate::domain::limits::Limits;
use crate::domain::provider::Provider;
use crate::domain::risk_policy::{RiskPolicy, Severity};
use crate::domain::secret::Secret;
use crate::domain::user_session::Lifetime;
use crate::secret_box::{EncryptionKey, EncryptionKeys};
use crate::upstream::issuance_hook::{HookConfig, IssuanceHook};
use crate::upstream::oauth_provider::Providers;
use crate::upstream::ssf_transmitter::{TransmitterConfig, Transmitters};
use crate::usecase::{Settings, WebhookSettings};

#[derive(Debug, Parser)]
#[command(name = "leash", version, about = "A credential broker for AI agents")]
pub struct Cli {
    /// A TOML file of settings: any flag's, by its long name in snake_case, and the
    /// upstream providers (`[[providers]]`). Flags and variables override it.
    #[arg(long, env = "LEASH_CONFIG", global = true)]
    pub config: Option<std::path::PathBuf>,
    /// `sqlite://<file>` (created if missing) or `postgres://…`.
    #[arg(
        long,
        env = "LEASH_DATABASE_URL",
        default_value = "sqlite://leash.db",
        global = true
    )]
    pub database_url: String,
    /// Address to listen on.
    #[arg(
        long,
        env = "LEASH_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,
    /// Leash's externally visible base URL (http or https, no query): the OAuth issuer
    /// and the base of the endpoints its metadata advertises.
    #[arg(
        long,
        env = "LEASH_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub public_url: String,
    /// Origins (`https://app.example.com`, comma-separated) a provider connect may send
    /// the person back to with `return_to`, besides Leash's own.
    #[arg(
        long,
        env = "LEASH_RETURN_TO_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub return_to_origins: Vec<String>,
    /// How long one call to an upstream provider may take, in seconds.
    #[arg(long, env = "LEASH_PROVIDER_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60), global = true)]
    pub provider_timeout_seconds: u64,
    /// How long a worker holds the upstream revocations it leased, in seconds; after it
    /// another worker asks the provider again. Must exceed the provider timeout.
    #[arg(long, env = "LEASH_UPSTREAM_LEASE_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(i64).range(2..=3600), global = true)]
    pub upstream_lease_seconds: i64,
    /// An upstream token expiring within this many seconds is refreshed before it is
    /// handed to an agent.
    #[arg(long, env = "LEASH_CREDENTIAL_REFRESH_MARGIN_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(i64).range(0..=3600), global = true)]
    pub credential_refresh_margin_seconds: i64,
    /// Log filter (tracing-subscriber `EnvFilter` syntax).
    #[arg(
        long,
        env = "LEASH_LOG",
        default_value = "info,sqlx=warn",
        global = true
    )]
    pub log: String,
    /// Default absolute lifetime of a user session, in seconds.
    #[arg(long, env = "LEASH_USER_SESSION_TTL_SECONDS", default_value_t = 30 * 24 * 3600, global = true)]
    pub user_session_ttl_seconds: i64,
    /// Default idle timeout of a user session, in seconds.
    #[arg(long, env = "LEASH_USER_SESSION_IDLE_TIMEOUT_SECONDS", default_value_t = 7 * 24 * 3600, global = true)]
    pub user_session_idle_timeout_seconds: i64,
    /// Default absolute lifetime of an agent session, in seconds (an agent may override it;
    /// a session never outlives what it was delegated from).
    #[arg(long, env = "LEASH_AGENT_SESSION_TTL_SECONDS", default_value_t = 24 * 3600, global = true)]
    pub agent_session_ttl_seconds: i64,
    /// Default idle timeout of an agent session, in seconds.
    #[arg(
        long,
        env = "LEASH_AGENT_SESSION_IDLE_TIMEOUT_SECONDS",
        default_value_t = 3600,
        global = true
    )]
    pub agent_session_idle_timeout_seconds: i64,
    /// Lifetime of an agent access token, in seconds.
    #[arg(long, env = "LEASH_ACCESS_TOKEN_TTL_SECONDS", default_value_t = 900, value_parser = clap::value_parser!(i64).range(10..=86_400), global = true)]
    pub access_token_ttl_seconds: i64,
    /// How long a rotated refresh token still answers with its successors, in seconds.
    #[arg(long, env = "LEASH_REFRESH_GRACE_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(i64).range(0..=300), global = true)]
    pub refresh_grace_seconds: i64,
    /// The deepest delegation chain (1: users delegate, agents may not sub-delegate).
    #[arg(long, env = "LEASH_DELEGATION_DEPTH_LIMIT", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=16), global = true)]
    pub delegation_depth_limit: u32,
    /// Tokens the introspection cache holds; past it, each insert evicts one not looked
    /// up lately.
    #[arg(long, env = "LEASH_TOKEN_CACHE_CAPACITY", default_value_t = 1 << 20, global = true)]
    pub token_cache_capacity: usize,
    /// File holding the key that seals stored secrets (upstream tokens, webhook signing
    /// secrets), base64; created with a fresh key if missing. Every instance on one
    /// database needs the same.
    #[arg(
        long,
        env = "LEASH_ENCRYPTION_KEY_FILE",
        default_value = "leash.key",
        global = true
    )]
    pub encryption_key_file: std::path::PathBuf,
    /// Files holding earlier keys (comma-separated), during a rotation: they open what
    /// they sealed and seal nothing. Drop them once `keys rotate-encryption` finished.
    #[arg(
        long,
        env = "LEASH_PREVIOUS_ENCRYPTION_KEY_FILES",
        value_delimiter = ',',
        global = true
    )]
    pub previous_encryption_key_files: Vec<std::path::PathBuf>,
    /// Where the first start writes the admin key it creates (mode 0600, never
    /// overwritten); read it, then delete it.
    #[arg(
        long,
        env = "LEASH_ADMIN_KEY_FILE",
        default_value = "leash-admin.key",
        global = true
    )]
    pub admin_key_file: std::path::PathBuf,
    /// How long events, webhook deliveries and attempts are kept, in days.
    #[arg(long, env = "LEASH_EVENT_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(i64).range(4..=3650), global = true)]
    pub event_retention_days: i64,
    /// Allow webhook endpoints on loopback, private and link-local addresses.
    #[arg(
        long,
        env = "LEASH_WEBHOOK_ALLOW_PRIVATE_TARGETS",
        default_value_t = false,
        global = true
    )]
    pub webhook_allow_private_targets: bool,
    /// How long one webhook attempt may take, in seconds.
    #[arg(long, env = "LEASH_WEBHOOK_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60), global = true)]
    pub webhook_timeout_seconds: u64,
    /// How long a worker holds the deliveries it leased, in seconds; after it another
    /// worker sends them again. Must exceed the webhook timeout.
    #[arg(long, env = "LEASH_WEBHOOK_LEASE_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(i64).range(2..=3600), global = true)]
    pub webhook_lease_seconds: i64,
    /// Active user sessions one user may hold (0: no limit).
    #[arg(long, env = "LEASH_LIMIT_USER_SESSIONS_PER_USER", default_value_t = Limits::default().user_sessions_per_user, global = true)]
    pub limit_user_sessions_per_user: u32,
    /// Active agent sessions one user may have delegated (0: no limit).
    #[arg(long, env = "LEASH_LIMIT_AGENT_SESSIONS_PER_USER", default_value_t = Limits::default().agent_sessions_per_user, global = true)]
    pub limit_agent_sessions_per_user: u32,
    /// Active sub-delegations of one agent session (0: no limit).
    #[arg(long, env = "LEASH_LIMIT_CHILDREN_PER_AGENT_SESSION", default_value_t = Limits::default().children_per_agent_session, global = true)]
    pub limit_children_per_agent_session: u32,
    /// New agent sessions one agent may have issued per second (0: no limit).
    #[arg(long, env = "LEASH_LIMIT_ISSUANCE_PER_AGENT_PER_SECOND", default_value_t = Limits::default().issuance_per_agent_per_second, global = true)]
    pub limit_issuance_per_agent_per_second: u32,
    /// Addresses and blocks (comma-separated) of the proxies in front of Leash: a
    /// request from one is from the last address before them in X-Forwarded-For. What
    /// address blocks judge a token exchange by.
    #[arg(
        long,
        env = "LEASH_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<String>,
    /// How old a Security Event Token's `iat` may be, in seconds.
    #[arg(long, env = "LEASH_SSF_MAX_AGE_SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(i64).range(60..=86_400), global = true)]
    pub ssf_max_age_seconds: i64,
    /// A URL (https, or http on a private network) Leash POSTs every agent session it
    /// is about to issue to (exchange, sub-delegation, host mint); its answer allows or
    /// denies the issuance. Its bearer token, if any, is LEASH_PRE_ISSUANCE_HOOK_TOKEN.
    #[arg(long, env = "LEASH_PRE_ISSUANCE_HOOK_URL", global = true)]
    pub pre_issuance_hook_url: Option<String>,
    /// How long the pre-issuance hook may take, in milliseconds, before its failure
    /// policy decides.
    #[arg(long, env = "LEASH_PRE_ISSUANCE_HOOK_TIMEOUT_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=10_000), global = true)]
    pub pre_issuance_hook_timeout_ms: u64,
    /// What decides when the pre-issuance hook gives no usable answer (a timeout, an
    /// error, garbage): fail_open issues, fail_closed refuses (503, retryable).
    #[arg(
        long,
        env = "LEASH_PRE_ISSUANCE_HOOK_ON_FAILURE",
        value_enum,
        default_value_t = OnFailureArg::FailClosed,
        global = true
    )]
    pub pre_issuance_hook_on_failure: OnFailureArg,
    /// Allow the pre-issuance hook on a loopback, private or link-local address.
    #[arg(
        long,
        env = "LEASH_PRE_ISSUANCE_HOOK_ALLOW_PRIVATE_NETWORK",
        default_value_t = false,
        global = true
    )]
    pub pre_issuance_hook_allow_private_network: bool,
    /// Certificates (PEM) trusted for the pre-issuance hook besides the built-in roots.
    #[arg(long, env = "LEASH_PRE_ISSUANCE_HOOK_CA_FILE", global = true)]
    pub pre_issuance_hook_ca_file: Option<std::path::PathBuf>,
    /// The upstream OAuth providers, from the configuration file.
    #[arg(skip)]
    pub providers: Vec<Provider>,
    /// The Shared Signals transmitters (`[[ssf_transmitters]]`), from the configuration
    /// file.
    #[arg(skip)]
    pub ssf_transmitters: Vec<TransmitterConfig>,
    /// Severities of received events by kind (`[ssf_event_severities]`).
    #[arg(skip)]
    pub ssf_severities: HashMap<String, Severity>,
    /// The risk policy (`[[risk_rules]]`), from the configuration file; the shipped
    /// default when it has none.
    #[arg(skip)]
    pub risk_policy: Option<RiskPolicy>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the API until SIGTERM or Ctrl-C.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// API key administration.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The upstream OAuth providers the configuration file names.
    #[command(subcommand)]
    Providers(ProvidersCommand),
}

#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// One line per provider: id, endpoints, default scopes, PKCE, client
    /// authentication, private network; never a secret.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the audit hash chain from its first entry; exit 1 naming the first broken
    /// link, if any.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an API key and print it, alone, on stdout.
    Create {
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Refuse the key after this many days (it never expires when absent).
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..=3650))]
        expires_in_days: Option<i64>,
    },
    /// List API keys: id, role, status, created, last used, expiry; never a secret.
    List,
    /// Revoke an API key; refused at once on every instance. The last active admin key
    /// cannot be revoked.
    Revoke {
        /// The key's id (`key_…`).
        id: String,
    },
    /// Re-seal every stored secret (upstream tokens, webhook signing secrets) with the
    /// current encryption key, in batches, while the service runs; resumable. Give every
    /// instance the new key as `--encryption-key-file` and the old one in
    /// `--previous-encryption-key-files` first; drop the old one once this finished.
    RotateEncryption {
        /// Rows read and re-sealed at a time.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnFailureArg {
    #[value(name = "fail_open")]
    FailOpen,
    #[value(name = "fail_closed")]
    FailClosed,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Risk,
    Introspect,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Admin => Role::Admin,
            RoleArg::Risk => Role::Risk,
            RoleArg::Introspect => Role::Introspect,
        }
    }
}

impl Cli {
    /// The current key (`LEASH_ENCRYPTION_KEY`, or the key file, created if missing) and
    /// the previous ones (`LEASH_PREVIOUS_ENCRYPTION_KEYS`, comma-separated, and the
    /// previous key files, which must exist).
    fn encryption_keys(&self) -> Result<EncryptionKeys, CliError> {
        let current = match std::env::var("LEASH_ENCRYPTION_KEY") {
            Ok(key) if !key.is_empty() => EncryptionKey::from_base64(&key)?,
            _ => EncryptionKey::load_or_create(&self.encryption_key_file)?,
        };
        let mut previous = Vec::new();
        if let Ok(keys) = std::env::var("LEASH_PREVIOUS_ENCRYPTION_KEYS") {
            for key in keys.split(',').filter(|k| !k.trim().is_empty()) {
                previous.push(EncryptionKey::from_base64(key)?);
            }
        }
        for path in &self.previous_encryption_key_files {
            previous.push(EncryptionKey::load(path)?);
        }
        Ok(EncryptionKeys::new(current, previous))
    }

    /// The pre-issuance hook, when a URL is configured.
    fn issuance_hook(&self) -> Result<Option<IssuanceHook>, CliError> {
        let Some(raw) = &self.pre_issuance_hook_url else {
            return Ok(None);
        };
        let refused = |detail: &str| CliError::Config(format!("--pre-issuance-hook-url: {detail}"));
        let url = url::Url::parse(raw).map_err(|e| refused(&e.to_string()))?;
        let local = self.pre_issuance_hook_allow_private_network && url.scheme() == "http";
        if (url.scheme() != "https" && !local) || url.host().is_none() {
            return Err(refused(
                "must be an https URL (http only with --pre-issuance-hook-allow-private-network)",
            ));
        }
        let extra_roots_pem = self
            .pre_issuance_hook_ca_file
            .as_deref()
            .map(super::config_file::ca_pem)
            .transpose()
            .map_err(|detail| CliError::Config(format!("--pre-issuance-hook-ca-file: {detail}")))?;
        let token = std::env::var("LEASH_PRE_ISSUANCE_HOOK_TOKEN")
            .ok()
            .filter(|token| !token.is_empty())
            .map(Secret::new);
        IssuanceHook::new(HookConfig {
            url,
            timeout: std::time::Duration::from_millis(self.pre_issuance_hook_timeout_ms),
            on_failure: match self.pre_issuance_hook_on_failure {
                OnFailureArg::FailOpen => FailurePolicy::FailOpen,
                OnFailureArg::FailClosed => FailurePolicy::FailClosed,
            },
            token,
            allow_private_network: self.pre_issuance_hook_allow_private_network,
            extra_roots_pem,
        })
        .map(Some)
        .map_err(|e| CliError::Config(format!("--pre-issuance-hook-url: {e}")))
    }

    pub(super) fn settings(&self) -> Result<Settings, CliError> {
        let public_url = public_url(&self.public_url)?;
        if u64::try_from(self.webhook_lease_seconds).unwrap_or(0) <= self.webhook_timeout_seconds {
            // A lease that can run out mid-send lets a second worker send the same
            // delivery while the first is still waiting for its answer.
            return Err(CliError::Config(
                "--webhook-lease-seconds must exceed --webhook-timeout-seconds".to_owned(),
            ));
        }
        if u64::try_from(self.upstream_lease_seconds).unwrap_or(0) <= self.provider_timeout_seconds
        {
            // The same, for asking a provider to revoke a token.
            return Err(CliError::Config(
                "--upstream-lease-seconds must exceed --provider-timeout-seconds".to_owned(),
            ));
        }
        Ok(Settings {
            user_session_lifetime: lifetime(
                self.user_session_ttl_seconds,
                self.user_session_idle_timeout_seconds,
            )?,
            agent_session_lifetime: lifetime(
                self.agent_session_ttl_seconds,
                self.agent_session_idle_timeout_seconds,
            )?,
            access_token_ttl: TimeDelta::seconds(self.access_token_ttl_seconds),
            refresh_grace: TimeDelta::seconds(self.refresh_grace_seconds),
            delegation_depth_limit: self.delegation_depth_limit,
            token_cache_capacity: self.token_cache_capacity.max(1),
            encryption_keys: self.encryption_keys()?,
            event_retention: TimeDelta::days(self.event_retention_days),
            webhooks: WebhookSettings {
                allow_private_targets: self.webhook_allow_private_targets,
                request_timeout: std::time::Duration::from_secs(self.webhook_timeout_seconds),
                lease: TimeDelta::seconds(self.webhook_lease_seconds),
                ..WebhookSettings::default()
            },
            limits: Limits {
                user_sessions_per_user: self.limit_user_sessions_per_user,
                agent_sessions_per_user: self.limit_agent_sessions_per_user,
                children_per_agent_session: self.limit_children_per_agent_session,
                issuance_per_agent_per_second: self.limit_issuance_per_agent_per_second,
            },
            providers: Providers::new(
                &self.providers,
                &redirect_uri(&public_url),
                std::time::Duration::from_secs(self.provider_timeout_seconds),
            )
            .map_err(|e| CliError::Config(e.to_string()))?,
            public_url,
            credential_refresh_margin: TimeDelta::seconds(self.credential_refresh_margin_seconds),
            upstream_lease: TimeDelta::seconds(self.upstream_lease_seconds),
            risk_policy: self.risk_policy.clone().unwrap_or_default(),
            ssf_transmitters: Transmitters::new(
                &self.ssf_transmitters,
                std::time::Duration::from_secs(self.provider_timeout_seconds),
            )
            .map_err(|e| CliError::Config(e.to_string()))?,
            ssf_severities: self.ssf_severities.clone(),
            ssf_max_age: TimeDelta::seconds(self.ssf_max_age_seconds),
            issuance_hook: self.issuance_hook()?,
            trusted_proxies: self
                .trusted_proxies
                .iter()
                .map(|raw| {
                    IpRange::parse(raw)
                        .map_err(|e| CliError::Config(format!("--trusted-proxies {raw:?}: {e}")))
                })
                .collect::<Result<_, _>>()?,
            return_to_origins: self
                .return_to_origins
                .iter()
                .map(|raw| origin(raw))
                .collect::<Result<_, _>>()?,
            ..Settings::default()
        })
    }
}

/// A base URL as the issuer and endpoints are built from: http or https, a host, no
/// credentials, query or fragment; without its trailing slash.
pub(super) fn public_url(raw: &str) -> Result<String, CliError> {
    let refused = |why: &str| CliError::Config(format!("--public-url {raw:?}: {why}"));
    let url = url::Url::parse(raw).map_err(|e| refused(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(refused("must be an http or https URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused("must not hold credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refused("must have no query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// An origin as `return_to` is matched against: scheme, host and port, nothing else.
fn origin(raw: &str) -> Result<String, CliError> {
    let refused = || {
        CliError::Config(format!(
            "--return-to-origins {raw:?}: must be an http or https origin, such as https://app.example.com"
        ))
    };
    let url = url::Url::parse(raw).map_err(|_| refused())?;
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !matches!(url.scheme(), "http" | "https")
        || url.host().is_none()
        || !bare
        || !url.username().is_empty()
    {
        return Err(refused());
    }
    Ok(url.origin().ascii_serialization())
}

/// Where providers send the person back: the one URI registered at every provider.
pub(super) fn redirect_uri(public_url: &str) -> String {
    format!("{public_url}{}", crate::http::OAUTH_CALLBACK_PATH)
}

/// A configured default lifetime, checked by the same rule as a caller's request.
fn lifetime(ttl_seconds: i64, idle_timeout_seconds: i64) -> Result<Lifetime, CliError> {
    let defaults = Lifetime {
        ttl: TimeDelta::seconds(ttl_seconds),
        idle_timeout: TimeDelta::seconds(idle_timeout_seconds),
    };
    let lifetime = Lifetime::requested(Some(ttl_seconds), Some(idle_timeout_seconds), defaults)
        .map_err(|e| CliError::Config(e.to_string()))?;
    if lifetime.idle_timeout != defaults.idle_timeout {
        return Err(CliError::Config(
            "an idle timeout must not exceed its session lifetime".to_owned(),
        ));
    }
    Ok(lifetime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_is_checked_and_kept_without_its_trailing_slash() {
        assert_eq!(
            public_url("https://leash.example.com/").unwrap(),
            "https://leash.example.com"
        );
        assert_eq!(
            public_url("http://127.0.0.1:8080/auth/").unwrap(),
            "http://127.0.0.1:8080/auth"
        );
        for refused in [
            "leash.example.com",
            "ftp://leash.example.com",
            "https://user:pw@leash.example.com",
            "https://leash.example.com/?a=b",
            "https://leash.example.com/#top",
        ] {
            assert!(public_url(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn return_to_origins_are_bare_origins() {
        assert_eq!(
            origin("https://app.example.com").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            origin("http://127.0.0.1:3000/").unwrap(),
            "http://127.0.0.1:3000"
        );
        for refused in [
            "app.example.com",
            "https://app.example.com/path",
            "ftp://x",
            "https://a@b.example",
        ] {
            assert!(origin(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn limit_flags_reach_the_settings() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("encryption.key");
        let cli = Cli::try_parse_from([
            "leash",
            "--encryption-key-file",
            key_file.to_str().unwrap(),
            "--limit-user-sessions-per-user",
            "7",
            "--limit-agent-sessions-per-user",
            "8",
            "--limit-children-per-agent-session",
            "9",
            "--limit-issuance-per-agent-per-second",
            "10",
            "serve",
        ])
        .unwrap();
        let limits = cli.settings().unwrap().limits;
        assert_eq!(
            limits,
            Limits {
                user_sessions_per_user: 7,
                agent_sessions_per_user: 8,
                children_per_agent_session: 9,
                issuance_per_agent_per_second: 10,
            }
        );
    }
}
