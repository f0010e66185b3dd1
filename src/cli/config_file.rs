//! The configuration file (`--config` / `LEASH_CONFIG`, TOML): any flag's setting under
//! its long name in snake_case (`database_url = "postgres://…"`), and what no flag can
//! carry: the upstream OAuth providers (`[[providers]]`), the risk policy
//! (`[[risk_rules]]`), the Shared Signals transmitters (`[[ssf_transmitters]]`) and
//! their events' severities (`[ssf_event_severities]`). A flag or environment variable
//! overrides the file, which overrides the built-in default: the file's settings become
//! the command line's defaults before it is parsed.
//!
//! Everything is checked at start-up; an error names the file, the provider and the
//! field. A client secret is never printed, in an error or anywhere else.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{CommandFactory as _, FromArgMatches as _};
use serde::Deserialize;

use super::{Cli, CliError};
use crate::domain::provider::{self, Pkce, Provider, ProviderId, TokenAuthMethod};
use crate::domain::risk_policy::{RiskPolicy, RuleText, Severity};
use crate::domain::secret::Secret;
use crate::upstream::ssf_transmitter::{Delivery, TransmitterConfig};

/// Settings a file may not hold: the file's own path, and clap's built-ins.
const NOT_IN_FILE: &[&str] = &["config", "help", "version"];

/// Parses `args` (the program name first) with the configuration file it names, if any.
/// Exits with clap's message on a malformed command line (and after `--help`).
pub fn parse_from<I, T>(args: I) -> Result<Cli, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let without_file = from_command(clap::Command::clone(&Cli::command()), &args)?;
    let Some(path) = without_file.config.clone() else {
        return Ok(without_file);
    };
    let file = ConfigFile::read(&path)?;
    let mut command = Cli::command();
    for (name, value) in file.settings {
        command = command.mut_arg(name, |arg| arg.default_value(value));
    }
    let mut cli = from_command(command, &args)?;
    cli.providers = file.providers;
    cli.risk_policy = file.risk_policy;
    cli.ssf_transmitters = file.ssf_transmitters;
    cli.ssf_severities = file.ssf_severities;
    Ok(cli)
}

fn from_command(command: clap::Command, args: &[OsString]) -> Result<Cli, CliError> {
    let matches = command
        .try_get_matches_from(args)
        .map_err(CliError::CommandLine)?;
    Cli::from_arg_matches(&matches).map_err(CliError::CommandLine)
}

/// What a file holds, checked.
struct ConfigFile {
    /// (flag id, value) for each setting the file gives.
    settings: Vec<(String, String)>,
    providers: Vec<Provider>,
    /// `[[risk_rules]]`, when the file has them.
    risk_policy: Option<RiskPolicy>,
    ssf_transmitters: Vec<TransmitterConfig>,
    ssf_severities: HashMap<String, Severity>,
}

impl ConfigFile {
    fn read(path: &Path) -> Result<Self, CliError> {
        let at = |detail: String| CliError::Config(format!("{}: {detail}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| at(e.to_string()))?;
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| at(e.to_string()))?;
        let providers = match table.remove("providers") {
            None => Vec::new(),
            Some(toml::Value::Array(entries)) => entries
                .into_iter()
                .enumerate()
                .map(|(index, entry)| provider_from(entry, index, path))
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(at(
                    "`providers` must be an array of tables ([[providers]])".to_owned()
                ));
            }
        };
        let ssf_transmitters = match table.remove("ssf_transmitters") {
            None => Vec::new(),
            Some(toml::Value::Array(entries)) => entries
                .into_iter()
                .enumerate()
                .map(|(index, entry)| transmitter_from(entry, index, path))
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(at(
                    "`ssf_transmitters` must be an array of tables ([[ssf_transmitters]])"
                        .to_owned(),
                ));
            }
        };
        let ssf_severities = table
            .remove("ssf_event_severities")
            .map(|t| severities_from(t, path))
            .transpose()?
            .unwrap_or_default();
        let risk_policy = match table.remove("risk_rules") {
            None => None,
            Some(toml::Value::Array(entries)) => Some(risk_policy_from(entries, path)?),
            Some(_) => {
                return Err(at(
                    "`risk_rules` must be an array of tables ([[risk_rules]])".to_owned(),
                ));
            }
        };
        let mut ids: Vec<&ProviderId> = providers.iter().map(|p: &Provider| &p.id).collect();
        ids.sort();
        if let Some(twice) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(at(format!(
                "provider {:?} is configured twice",
                twice[0].as_str()
            )));
        }
        let known: Vec<String> = Cli::command()
            .get_arguments()
            .map(|arg| arg.get_id().to_string())
            .filter(|id| !NOT_IN_FILE.contains(&id.as_str()))
            .collect();
        let settings = table
            .into_iter()
            .map(|(name, value)| {
                if !known.contains(&name) {
                    return Err(at(format!("unknown setting `{name}`")));
                }
                let value = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    // A list setting (`return_to_origins`), as its flag takes it.
                    toml::Value::Array(items) if items.iter().all(toml::Value::is_str) => items
                        .iter()
                        .filter_map(toml::Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                    _ => {
                        return Err(at(format!(
                            "setting `{name}` must be a string, an integer, a boolean or a \
                             list of strings"
                        )));
                    }
                };
                Ok((name, value))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            settings,
            providers,
            risk_policy,
            ssf_transmitters,
            ssf_severities,
        })
    }
}

/// The PEM bundle in `file`, if it holds a certificate.
pub(super) fn ca_pem(file: &Path) -> Result<Vec<u8>, String> {
    let pem = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certificates) if !certificates.is_empty() => Ok(pem),
        _ => Err(format!("{} holds no PEM certificate", file.display())),
    }
}

/// A `[[ssf_transmitters]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransmitterEntry {
    issuer: String,
    audience: String,
    jwks_uri: Option<String>,
    delivery: String,
    poll_url: Option<String>,
    poll_token_env: Option<String>,
    #[serde(default)]
    allow_private_network: bool,
    ca_file: Option<PathBuf>,
}

/// Checks entry `index` of `[[ssf_transmitters]]`; an error names the file, the
/// transmitter (its issuer) and the field.
fn transmitter_from(
    entry: toml::Value,
    index: usize,
    path: &Path,
) -> Result<TransmitterConfig, CliError> {
    let name = entry
        .get("issuer")
        .and_then(toml::Value::as_str)
        .map_or_else(|| format!("#{}", index + 1), |issuer| format!("{issuer:?}"));
    let at = |field: &str, detail: &str| {
        CliError::Config(format!(
            "{}: ssf transmitter {name}: {field}: {detail}",
            path.display()
        ))
    };
    let entry = TransmitterEntry::deserialize(entry).map_err(|e| {
        CliError::Config(format!(
            "{}: ssf transmitter {name}: {}",
            path.display(),
            e.message()
        ))
    })?;
    let url = |field: &str, raw: &str| -> Result<url::Url, CliError> {
        let url = url::Url::parse(raw).map_err(|e| at(field, &e.to_string()))?;
        let local = entry.allow_private_network && url.scheme() == "http";
        if (url.scheme() != "https" && !local) || url.host().is_none() {
            return Err(at(field, "must be an https URL"));
        }
        Ok(url)
    };
    url("issuer", &entry.issuer)?;
    if entry.audience.trim().is_empty() {
        return Err(at("audience", "must not be empty"));
    }
    let delivery = match (
        entry.delivery.as_str(),
        &entry.poll_url,
        &entry.poll_token_env,
    ) {
        ("push", None, None) => Delivery::Push,
        ("push", ..) => return Err(at("poll_url", "only a poll transmitter has one")),
        ("poll", Some(poll_url), Some(variable)) => Delivery::Poll {
            url: url("poll_url", poll_url)?,
            token: match std::env::var(variable) {
                Ok(value) if !value.is_empty() => Secret::new(value),
                _ => {
                    return Err(at(
                        "poll_token_env",
                        &format!("the environment variable {variable} is not set"),
                    ));
                }
            },
        },
        ("poll", ..) => {
            return Err(at("delivery", "poll needs poll_url and poll_token_env"));
        }
        (other, ..) => return Err(at("delivery", &format!("{other:?} is not push or poll"))),
    };
    Ok(TransmitterConfig {
        jwks_uri: entry
            .jwks_uri
            .as_deref()
            .map(|raw| url("jwks_uri", raw))
            .transpose()?,
        extra_roots_pem: entry
            .ca_file
            .as_deref()
            .map(ca_pem)
            .transpose()
            .map_err(|detail| at("ca_file", &detail))?,
        issuer: entry.issuer,
        audience: entry.audience,
        delivery,
        allow_private_network: entry.allow_private_network,
    })
}

/// `[ssf_event_severities]`: a severity per received kind.
fn severities_from(table: toml::Value, path: &Path) -> Result<HashMap<String, Severity>, CliError> {
    let at = |detail: String| {
        CliError::Config(format!(
            "{}: ssf_event_severities: {detail}",
            path.display()
        ))
    };
    let toml::Value::Table(table) = table else {
        return Err(at("must be a table of kind = severity".to_owned()));
    };
    table
        .into_iter()
        .map(|(kind, value)| {
            if crate::domain::ssf::known_event_types().all(|(_, known, _)| known != kind) {
                return Err(at(format!("{kind:?} is not a kind Leash receives")));
            }
            value
                .as_str()
                .and_then(Severity::parse)
                .map(|severity| (kind.clone(), severity))
                .ok_or_else(|| at(format!("{kind}: must be low, medium, high or critical")))
        })
        .collect()
}

/// A `[[risk_rules]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskRuleEntry {
    kind: String,
    min_severity: Option<String>,
    actions: Vec<String>,
    block_ip_seconds: Option<i64>,
}

/// Checks `[[risk_rules]]`; an error names the file and the rule (position and kind).
fn risk_policy_from(entries: Vec<toml::Value>, path: &Path) -> Result<RiskPolicy, CliError> {
    let texts = entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            RiskRuleEntry::deserialize(entry)
                .map(|entry| RuleText {
                    kind: entry.kind,
                    min_severity: entry.min_severity,
                    actions: entry.actions,
                    block_ip_seconds: entry.block_ip_seconds,
                })
                .map_err(|e| {
                    CliError::Config(format!(
                        "{}: risk rule #{}: {}",
                        path.display(),
                        index + 1,
                        e.message()
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    RiskPolicy::from_texts(texts)
        .map_err(|refused| CliError::Config(format!("{}: {refused}", path.display())))
}

/// A `[[providers]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderEntry {
    id: String,
    authorization_url: String,
    token_url: String,
    revocation_url: Option<String>,
    issuer: Option<String>,
    client_id: String,
    client_secret: Option<Secret>,
    client_secret_env: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    scope_separator: Option<String>,
    pkce: Option<String>,
    token_auth_method: Option<String>,
    #[serde(default)]
    allow_private_network: bool,
    ca_file: Option<PathBuf>,
}

/// Checks entry `index` of `[[providers]]`; an error names the file, the provider (its
/// id, or its position when the id is what is wrong) and the field.
fn provider_from(entry: toml::Value, index: usize, path: &Path) -> Result<Provider, CliError> {
    let name = entry
        .get("id")
        .and_then(toml::Value::as_str)
        .map_or_else(|| format!("#{}", index + 1), |id| format!("{id:?}"));
    let at = |field: &str, detail: &str| {
        CliError::Config(format!(
            "{}: provider {name}: {field}: {detail}",
            path.display()
        ))
    };
    let entry = ProviderEntry::deserialize(entry).map_err(|e| {
        CliError::Config(format!(
            "{}: provider {name}: {}",
            path.display(),
            e.message()
        ))
    })?;
    let id = ProviderId::parse(&entry.id).ok_or_else(|| {
        at(
            "id",
            "must be lowercase letters, digits, '-' or '_', starting with a letter, at most 32",
        )
    })?;
    let https = |field: &str, raw: &str| -> Result<url::Url, CliError> {
        let url = url::Url::parse(raw).map_err(|e| at(field, &e.to_string()))?;
        if url.scheme() != "https" || url.host().is_none() {
            return Err(at(field, "must be an https URL"));
        }
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(at(field, "must hold no credentials and no fragment"));
        }
        Ok(url)
    };
    let client_secret = match (entry.client_secret, entry.client_secret_env) {
        (Some(secret), None) if !secret.expose().is_empty() => secret,
        (None, Some(variable)) => match std::env::var(&variable) {
            Ok(value) if !value.is_empty() => Secret::new(value),
            _ => {
                return Err(at(
                    "client_secret_env",
                    &format!("the environment variable {variable} is not set"),
                ));
            }
        },
        (Some(_), Some(_)) => {
            return Err(at(
                "client_secret",
                "give client_secret or client_secret_env, not both",
            ));
        }
        _ => {
            return Err(at(
                "client_secret",
                "client_secret or client_secret_env is required",
            ));
        }
    };
    let scope_separator = entry.scope_separator.unwrap_or_else(|| " ".to_owned());
    if !matches!(scope_separator.as_str(), " " | "," | "+") {
        return Err(at("scope_separator", "must be \" \", \",\" or \"+\""));
    }
    if let Some(bad) = entry
        .scopes
        .iter()
        .find(|s| !provider::is_scope_token(s) || s.contains(scope_separator.as_str()))
    {
        return Err(at(
            "scopes",
            &format!(
                "{bad:?} is not a scope token (printable ASCII, no space, quote, backslash or separator)"
            ),
        ));
    }
    let pkce = match entry.pkce.as_deref() {
        None | Some("S256") => Pkce::S256,
        Some("none") => Pkce::None,
        Some(_) => return Err(at("pkce", "must be \"S256\" or \"none\"")),
    };
    let token_auth_method = match entry.token_auth_method.as_deref() {
        None | Some("client_secret_basic") => TokenAuthMethod::ClientSecretBasic,
        Some("client_secret_post") => TokenAuthMethod::ClientSecretPost,
        Some(_) => {
            return Err(at(
                "token_auth_method",
                "must be \"client_secret_basic\" or \"client_secret_post\"",
            ));
        }
    };
    let extra_roots_pem = entry
        .ca_file
        .as_deref()
        .map(ca_pem)
        .transpose()
        .map_err(|detail| at("ca_file", &detail))?;
    if entry.client_id.is_empty() {
        return Err(at("client_id", "must not be empty"));
    }
    Ok(Provider {
        authorization_url: https("authorization_url", &entry.authorization_url)?,
        token_url: https("token_url", &entry.token_url)?,
        revocation_url: entry
            .revocation_url
            .as_deref()
            .map(|raw| https("revocation_url", raw))
            .transpose()?,
        issuer: entry
            .issuer
            .map(|raw| https("issuer", &raw).map(|_| raw))
            .transpose()?,
        id,
        client_id: entry.client_id,
        client_secret,
        scopes: entry.scopes,
        scope_separator,
        pkce,
        token_auth_method,
        allow_private_network: entry.allow_private_network,
        extra_roots_pem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GITHUB: &str = r#"
[[providers]]
id = "github"
authorization_url = "https://github.com/login/oauth/authorize"
token_url = "https://github.com/login/oauth/access_token"
client_id = "Iv1.abc"
client_secret = "very-secret-value"
scopes = ["repo", "read:user"]
"#;

    fn file_with(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leash.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn parse(path: &Path, extra: &[&str]) -> Result<Cli, CliError> {
        let mut args = vec!["leash", "--config", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push("serve");
        parse_from(args)
    }

    fn refusal(text: &str) -> String {
        let (_dir, path) = file_with(text);
        match parse(&path, &[]) {
            Ok(_) => panic!("accepted: {text}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn the_pre_issuance_hook_is_set_in_the_file_and_overridden_by_a_flag() {
        use crate::domain::issuance_hook::FailurePolicy;
        let (dir, path) = file_with(
            "pre_issuance_hook_url = \"http://10.0.0.5/decide\"\n\
             pre_issuance_hook_on_failure = \"fail_open\"\n\
             pre_issuance_hook_timeout_ms = 250\n",
        );
        let key = dir.path().join("leash.key");
        let key = key.to_str().unwrap();
        let hook = |extra: &[&str]| {
            let mut args = vec!["--encryption-key-file", key];
            args.extend_from_slice(extra);
            parse(&path, &args)
                .and_then(|cli| cli.settings())
                .map(|settings| settings.issuance_hook.map(|hook| hook.config))
        };
        // Plain http to a private address only when the operator says so.
        let refused = hook(&[]).unwrap_err().to_string();
        assert!(refused.contains("--pre-issuance-hook-url"), "{refused}");
        let config = hook(&["--pre-issuance-hook-allow-private-network"])
            .unwrap()
            .unwrap();
        assert_eq!(config.on_failure, FailurePolicy::FailOpen);
        assert_eq!(config.timeout, std::time::Duration::from_millis(250));
        let config = hook(&[
            "--pre-issuance-hook-allow-private-network",
            "--pre-issuance-hook-on-failure",
            "fail_closed",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.on_failure, FailurePolicy::FailClosed);
        let (_dir, none) = file_with("");
        let settings = parse(&none, &["--encryption-key-file", key])
            .unwrap()
            .settings()
            .unwrap();
        assert!(settings.issuance_hook.is_none());
        assert!(refusal("pre_issuance_hook_on_failure = \"maybe\"\n").contains("maybe"));
    }

    #[test]
    fn risk_rules_replace_the_shipped_policy_and_a_bad_rule_is_named() {
        let (_dir, path) = file_with(
            "[[risk_rules]]\nkind = \"*\"\nmin_severity = \"high\"\nactions = [\"block_ip\"]\n\
             block_ip_seconds = 60\n",
        );
        let policy = parse(&path, &[]).unwrap().risk_policy.unwrap();
        assert_eq!(policy.rules.len(), 1);
        let (_dir, path) = file_with("");
        assert_eq!(parse(&path, &[]).unwrap().risk_policy, None);
        let error = refusal(
            "[[risk_rules]]\nkind = \"*\"\nactions = [\"notify_only\"]\n\
             [[risk_rules]]\nkind = \"edr.x\"\nactions = [\"explode\"]\n",
        );
        assert!(
            error.contains("risk rule #2 (kind \"edr.x\")") && error.contains("explode"),
            "{error}"
        );
        let error = refusal(
            "[[risk_rules]]\nkind = \"*\"\nactions = [\"notify_only\"]\nseverity = \"x\"\n",
        );
        assert!(
            error.contains("risk rule #1") && error.contains("severity"),
            "{error}"
        );
        let error = refusal("[[risk_rules]]\nkind = \"*\"\nactions = [\"block_ip\"]\n");
        assert!(error.contains("block_ip_seconds"), "{error}");
    }

    #[test]
    fn a_file_sets_what_no_flag_sets_and_a_flag_overrides_it() {
        let (_dir, path) = file_with(&format!(
            "listen = \"127.0.0.1:9999\"\ndelegation_depth_limit = 2\nwebhook_allow_private_targets = true\n\
             return_to_origins = [\"https://a.example\", \"https://b.example\"]\n{GITHUB}"
        ));
        let from_file = parse(&path, &[]).unwrap();
        assert_eq!(from_file.listen.port(), 9999);
        assert_eq!(from_file.delegation_depth_limit, 2);
        assert!(from_file.webhook_allow_private_targets);
        assert_eq!(
            from_file.return_to_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(from_file.providers.len(), 1);
        let github = &from_file.providers[0];
        assert_eq!(github.id.as_str(), "github");
        assert_eq!(github.scopes, ["repo", "read:user"]);
        assert_eq!(github.pkce, Pkce::S256);
        assert_eq!(github.token_auth_method, TokenAuthMethod::ClientSecretBasic);
        assert_eq!(github.scope_separator, " ");

        let overridden = parse(&path, &["--listen", "127.0.0.1:7777"]).unwrap();
        assert_eq!(overridden.listen.port(), 7777);
        assert_eq!(overridden.delegation_depth_limit, 2);

        let without_file = parse_from(["leash", "serve"]).unwrap();
        assert_eq!(without_file.listen.port(), 8080);
        assert!(without_file.providers.is_empty());
    }

    #[test]
    fn a_bad_file_is_refused_naming_the_file_the_provider_and_the_field() {
        let error = refusal(&GITHUB.replace(
            "https://github.com/login/oauth/access_token",
            "http://github.com/token",
        ));
        assert!(
            error.contains("leash.toml: provider \"github\": token_url: must be an https URL"),
            "{error}"
        );
        let error = refusal(&GITHUB.replace("id = \"github\"", "id = \"Git:Hub\""));
        assert!(error.contains("provider \"Git:Hub\": id:"), "{error}");
        let error = refusal(&GITHUB.replace("id = \"github\"\n", ""));
        assert!(error.contains("provider #1: missing field `id`"), "{error}");
        let error = refusal(&format!("{GITHUB}colour = \"blue\"\n"));
        assert!(
            error.contains("provider \"github\": unknown field `colour`"),
            "{error}"
        );
        let error = refusal("colour = \"blue\"\n");
        assert!(
            error.contains("leash.toml: unknown setting `colour`"),
            "{error}"
        );
        let error = refusal(&format!("{GITHUB}{GITHUB}"));
        assert!(
            error.contains("provider \"github\" is configured twice"),
            "{error}"
        );
        let error = refusal(&GITHUB.replace("\"repo\"", "\"two words\""));
        assert!(
            error.contains("provider \"github\": scopes: \"two words\""),
            "{error}"
        );
        let error = refusal(&GITHUB.replace(
            "client_secret = \"very-secret-value\"",
            "client_secret_env = \"LEASH_TEST_UNSET_VARIABLE\"",
        ));
        assert!(
            error.contains(
                "client_secret_env: the environment variable LEASH_TEST_UNSET_VARIABLE is not set"
            ),
            "{error}"
        );
        let error = refusal(&format!("{GITHUB}ca_file = \"/nonexistent/ca.pem\"\n"));
        assert!(
            error.contains("provider \"github\": ca_file: /nonexistent/ca.pem"),
            "{error}"
        );
        let error = refusal(&format!(
            "{GITHUB}token_auth_method = \"private_key_jwt\"\n"
        ));
        assert!(error.contains("token_auth_method: must be"), "{error}");
        let error = refusal("listen = [1]\n");
        assert!(error.contains("setting `listen` must be"), "{error}");
    }

    #[test]
    fn no_refusal_prints_the_client_secret() {
        for broken in [
            GITHUB.replace("https://github.com/login/oauth/authorize", "ftp://x"),
            format!("{GITHUB}client_secret_env = \"X\"\n"),
            format!("{GITHUB}pkce = \"plain\"\n"),
        ] {
            assert!(!refusal(&broken).contains("very-secret-value"));
        }
        let (_dir, path) = file_with(GITHUB);
        let cli = parse(&path, &[]).unwrap();
        assert!(!format!("{cli:?}").contains("very-secret-value"));
    }
}
