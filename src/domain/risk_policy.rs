//! The risk policy: what Leash does when a security system reports a risk signal of a
//! kind and a severity. Rules are tried in order; the first whose kind matches (or is
//! `*`) and whose `min_severity` the signal reaches decides its actions. A signal no
//! rule matches is recorded and announced, and nothing else is done.

use chrono::TimeDelta;

/// How bad a signal says things are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// One thing a rule may do about a signal's subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskAction {
    /// The session the subject names (a user session with its agent sessions, or an
    /// agent session with its descendants).
    RevokeSession,
    /// Every agent session of the subject's person; their user sessions stay.
    RevokeAgentSessionsOfUser,
    /// Every session of the subject's person.
    SignOutEverywhere,
    /// Disable the subject's person (every session of theirs ends).
    DisableUser,
    /// Disable the subject's agent (every session it holds ends).
    DisableAgent,
    /// Every session signed in from the subject's address, of anyone.
    RevokeSessionsFromIp,
    /// Refuse sign-ins and token exchanges from the subject's address for a while.
    BlockIp,
    /// Record and announce the signal; change nothing.
    NotifyOnly,
}

impl RiskAction {
    pub const ALL: [RiskAction; 8] = [
        RiskAction::RevokeSession,
        RiskAction::RevokeAgentSessionsOfUser,
        RiskAction::SignOutEverywhere,
        RiskAction::DisableUser,
        RiskAction::DisableAgent,
        RiskAction::RevokeSessionsFromIp,
        RiskAction::BlockIp,
        RiskAction::NotifyOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskAction::RevokeSession => "revoke_session",
            RiskAction::RevokeAgentSessionsOfUser => "revoke_agent_sessions_of_user",
            RiskAction::SignOutEverywhere => "sign_out_everywhere",
            RiskAction::DisableUser => "disable_user",
            RiskAction::DisableAgent => "disable_agent",
            RiskAction::RevokeSessionsFromIp => "revoke_sessions_from_ip",
            RiskAction::BlockIp => "block_ip",
            RiskAction::NotifyOnly => "notify_only",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

/// Which signal kinds a rule is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindMatch {
    Any,
    Exactly(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRule {
    pub kind: KindMatch,
    pub min_severity: Severity,
    pub actions: Vec<RiskAction>,
    /// How long `block_ip` blocks (set exactly when the actions hold `block_ip`).
    pub block_ip_for: Option<TimeDelta>,
}

/// The longest a rule may block an address for.
pub const MAX_BLOCK: TimeDelta = TimeDelta::days(30);

/// The longest signal kind.
pub const KIND_MAX_LEN: usize = 100;

/// What a signal kind may look like: `caep.session-revoked`, `edr.host_compromised`.
pub const KIND_PATTERN: &str = r"^[a-z0-9][a-z0-9._:-]{0,99}$";

/// Whether `raw` is a signal kind.
pub fn is_kind(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= KIND_MAX_LEN
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".:_-".contains(&b))
        && raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A rule as the configuration file writes it, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct RuleText {
    pub kind: String,
    pub min_severity: Option<String>,
    pub actions: Vec<String>,
    pub block_ip_seconds: Option<i64>,
}

/// Why a rule is refused, naming its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct RuleRefused {
    pub field: &'static str,
    pub detail: String,
}

impl RuleText {
    pub fn checked(self) -> Result<RiskRule, RuleRefused> {
        let refused = |field, detail: String| RuleRefused { field, detail };
        let kind = match self.kind.as_str() {
            "*" => KindMatch::Any,
            raw if is_kind(raw) => KindMatch::Exactly(raw.to_owned()),
            raw => {
                return Err(refused(
                    "kind",
                    format!(
                        "{raw:?} is not \"*\" nor a kind (lowercase letters, digits, '.', ':', '_', '-')"
                    ),
                ));
            }
        };
        let min_severity = match self.min_severity.as_deref() {
            None => Severity::Low,
            Some(raw) => Severity::parse(raw).ok_or_else(|| {
                refused(
                    "min_severity",
                    format!("{raw:?} is not low, medium, high or critical"),
                )
            })?,
        };
        if self.actions.is_empty() {
            return Err(refused("actions", "name at least one action".to_owned()));
        }
        let actions = self
            .actions
            .iter()
            .map(|raw| {
                RiskAction::parse(raw)
                    .ok_or_else(|| refused("actions", format!("unknown action {raw:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let block_ip_for = match (
            actions.contains(&RiskAction::BlockIp),
            self.block_ip_seconds,
        ) {
            (true, Some(seconds)) if seconds > 0 && seconds <= MAX_BLOCK.num_seconds() => {
                Some(TimeDelta::seconds(seconds))
            }
            (true, Some(_)) => {
                return Err(refused(
                    "block_ip_seconds",
                    format!("must be from 1 to {}", MAX_BLOCK.num_seconds()),
                ));
            }
            (true, None) => {
                return Err(refused(
                    "block_ip_seconds",
                    "block_ip needs block_ip_seconds".to_owned(),
                ));
            }
            (false, Some(_)) => {
                return Err(refused(
                    "block_ip_seconds",
                    "only a rule with block_ip blocks".to_owned(),
                ));
            }
            (false, None) => None,
        };
        Ok(RiskRule {
            kind,
            min_severity,
            actions,
            block_ip_for,
        })
    }
}

/// The rules, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskPolicy {
    pub rules: Vec<RiskRule>,
}

/// What the policy decided for one signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The rule that decided (its position, from 1), if any did.
    pub rule: Option<usize>,
    pub actions: Vec<RiskAction>,
    pub block_ip_for: Option<TimeDelta>,
}

impl RiskPolicy {
    pub fn decide(&self, kind: &str, severity: Severity) -> Decision {
        self.rules
            .iter()
            .enumerate()
            .find(|(_, rule)| {
                severity >= rule.min_severity
                    && match &rule.kind {
                        KindMatch::Any => true,
                        KindMatch::Exactly(k) => k == kind,
                    }
            })
            .map_or(
                Decision {
                    rule: None,
                    actions: vec![RiskAction::NotifyOnly],
                    block_ip_for: None,
                },
                |(index, rule)| Decision {
                    rule: Some(index + 1),
                    actions: rule.actions.clone(),
                    block_ip_for: rule.block_ip_for,
                },
            )
    }

    /// Checks rules as written; an error names the rule (position and kind).
    pub fn from_texts(texts: Vec<RuleText>) -> Result<Self, String> {
        texts
            .into_iter()
            .enumerate()
            .map(|(index, text)| {
                let name = format!("risk rule #{} (kind {:?})", index + 1, text.kind);
                text.checked()
                    .map_err(|refused| format!("{name}: {refused}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|rules| Self { rules })
    }
}

/// The policy Leash ships with, used when the configuration file has no
/// `[[risk_rules]]` (a configured list replaces it as a whole). `docs/risk.md` shows it
/// as TOML.
impl Default for RiskPolicy {
    fn default() -> Self {
        let rule =
            |kind: &str, min: Severity, actions: &[RiskAction], block: Option<i64>| RiskRule {
                kind: if kind == "*" {
                    KindMatch::Any
                } else {
                    KindMatch::Exactly(kind.to_owned())
                },
                min_severity: min,
                actions: actions.to_vec(),
                block_ip_for: block.map(TimeDelta::seconds),
            };
        use RiskAction as A;
        use Severity as S;
        Self {
            rules: vec![
                rule("risc.account-disabled", S::Low, &[A::DisableUser], None),
                rule("risc.account-purged", S::Low, &[A::DisableUser], None),
                rule(
                    "risc.account-credential-change-required",
                    S::Low,
                    &[A::SignOutEverywhere],
                    None,
                ),
                rule(
                    "risc.sessions-revoked",
                    S::Low,
                    &[A::SignOutEverywhere],
                    None,
                ),
                rule(
                    "caep.credential-change",
                    S::Low,
                    &[A::SignOutEverywhere],
                    None,
                ),
                rule(
                    "caep.session-revoked",
                    S::Low,
                    &[A::RevokeSession, A::RevokeAgentSessionsOfUser],
                    None,
                ),
                rule(
                    "caep.device-compliance-change",
                    S::Medium,
                    &[A::RevokeAgentSessionsOfUser],
                    None,
                ),
                rule(
                    "*",
                    S::Critical,
                    &[A::SignOutEverywhere, A::RevokeSessionsFromIp, A::BlockIp],
                    Some(3600),
                ),
                rule(
                    "*",
                    S::High,
                    &[A::RevokeAgentSessionsOfUser, A::RevokeSessionsFromIp],
                    None,
                ),
                rule("*", S::Low, &[A::NotifyOnly], None),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(kind: &str, actions: &[&str]) -> RuleText {
        RuleText {
            kind: kind.to_owned(),
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            ..RuleText::default()
        }
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let policy = RiskPolicy::default();
        let decided = policy.decide("caep.session-revoked", Severity::Low);
        assert_eq!(
            decided.actions,
            [
                RiskAction::RevokeSession,
                RiskAction::RevokeAgentSessionsOfUser
            ]
        );
        let critical = policy.decide("edr.malware", Severity::Critical);
        assert!(critical.actions.contains(&RiskAction::BlockIp));
        assert_eq!(critical.block_ip_for, Some(TimeDelta::hours(1)));
        let high = policy.decide("edr.malware", Severity::High);
        assert!(!high.actions.contains(&RiskAction::BlockIp));
        assert_eq!(
            policy.decide("edr.malware", Severity::Medium).actions,
            [RiskAction::NotifyOnly]
        );
        let none = RiskPolicy { rules: Vec::new() }.decide("x", Severity::Critical);
        assert_eq!(
            (none.rule, none.actions),
            (None, vec![RiskAction::NotifyOnly])
        );
    }

    #[test]
    fn a_rule_below_its_severity_does_not_match() {
        let policy = RiskPolicy::default();
        let decided = policy.decide("caep.device-compliance-change", Severity::Low);
        assert_eq!(decided.actions, [RiskAction::NotifyOnly]);
    }

    #[test]
    fn refused_rules_name_the_rule_and_the_field() {
        let refusals = [
            (text("Bad Kind", &["notify_only"]), "kind"),
            (text("*", &[]), "actions"),
            (text("*", &["explode"]), "actions"),
            (text("*", &["block_ip"]), "block_ip_seconds"),
            (
                RuleText {
                    block_ip_seconds: Some(60),
                    ..text("*", &["notify_only"])
                },
                "block_ip_seconds",
            ),
            (
                RuleText {
                    block_ip_seconds: Some(MAX_BLOCK.num_seconds() + 1),
                    ..text("*", &["block_ip"])
                },
                "block_ip_seconds",
            ),
            (
                RuleText {
                    min_severity: Some("severe".to_owned()),
                    ..text("*", &["notify_only"])
                },
                "min_severity",
            ),
        ];
        for (rule, field) in refusals {
            let error = RiskPolicy::from_texts(vec![text("*", &["notify_only"]), rule])
                .expect_err("refused");
            assert!(error.starts_with("risk rule #2"), "{error}");
            assert!(error.contains(field), "{error}");
        }
    }

    #[test]
    fn kinds_are_lowercase_names() {
        assert!(is_kind("caep.session-revoked"));
        assert!(is_kind("edr:host_compromised"));
        assert!(!is_kind(""));
        assert!(!is_kind("-x"));
        assert!(!is_kind("Edr"));
        assert!(!is_kind(&"a".repeat(101)));
    }
}
