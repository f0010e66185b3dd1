//! Counters the use cases keep (webhook delivery, revocations, credential vending, the
//! pre-issuance hook's decisions), exposed at `/metrics`:
//! the HTTP layer registers them with its registry. Each `App` has its own, so tests
//! never share counters.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::domain::issuance_hook::Decision;
use crate::domain::revocation::Revocation;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    /// `succeeded`, `retrying` or `gave_up`.
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CauseLabels {
    cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HookLabels {
    /// `allowed`, `denied`, `failed_open` or `failed_closed`.
    decision: &'static str,
    /// Why the hook gave no usable answer (`timeout`, `unreachable`, `status`,
    /// `invalid_answer`); `none` when it answered.
    failure: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
    outcome: &'static str,
}

/// Cheap to clone: the counters are shared.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    attempts: Family<OutcomeLabels, Counter>,
    endpoints_disabled: Counter,
    revocations: Family<CauseLabels, Counter>,
    revoked_user_sessions: Family<CauseLabels, Counter>,
    revoked_agent_sessions: Family<CauseLabels, Counter>,
    vends: Family<ProviderLabels, Counter>,
    upstream_refreshes: Family<ProviderLabels, Counter>,
    hook_decisions: Family<HookLabels, Counter>,
}

impl Counters {
    pub fn attempted(&self, outcome: &'static str) {
        self.attempts
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub fn endpoints_disabled(&self, count: u64) {
        self.endpoints_disabled.inc_by(count);
    }

    /// Counts one committed act of revocation and what it hit, by cause.
    pub fn revoked(&self, revocation: &Revocation) {
        let labels = CauseLabels {
            cause: revocation.cause.as_str(),
        };
        self.revocations.get_or_create(&labels).inc();
        self.revoked_user_sessions
            .get_or_create(&labels)
            .inc_by(revocation.user_sessions_revoked);
        self.revoked_agent_sessions
            .get_or_create(&labels)
            .inc_by(revocation.agent_sessions_revoked);
    }

    /// Counts one answer to a credential request: `vended`, `refused` or `unavailable`.
    pub fn vended(&self, provider: &str, outcome: &'static str) {
        self.vends
            .get_or_create(&ProviderLabels {
                provider: provider.to_owned(),
                outcome,
            })
            .inc();
    }

    /// Counts one refresh asked of a provider: `refreshed`, `invalid_grant` or `failed`.
    pub fn refreshed(&self, provider: &str, outcome: &'static str) {
        self.upstream_refreshes
            .get_or_create(&ProviderLabels {
                provider: provider.to_owned(),
                outcome,
            })
            .inc();
    }

    /// Counts one decision of the pre-issuance hook.
    pub fn issuance_hook_decided(&self, decision: &Decision) {
        let failure = match decision {
            Decision::FailedOpen(failure) | Decision::FailedClosed(failure) => failure.as_str(),
            Decision::Allowed | Decision::Denied { .. } => "none",
        };
        self.hook_decisions
            .get_or_create(&HookLabels {
                decision: decision.as_str(),
                failure,
            })
            .inc();
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts, by what followed: succeeded, retrying or gave_up",
            self.attempts.clone(),
        );
        registry.register(
            "webhook_endpoints_disabled",
            "Webhook endpoints disabled because a delivery ran out of retries",
            self.endpoints_disabled.clone(),
        );
        registry.register(
            "revocations",
            "Acts of revocation by cause",
            self.revocations.clone(),
        );
        registry.register(
            "revoked_user_sessions",
            "User sessions revoked, by cause",
            self.revoked_user_sessions.clone(),
        );
        registry.register(
            "revoked_agent_sessions",
            "Agent sessions revoked (cascades included), by cause",
            self.revoked_agent_sessions.clone(),
        );
        registry.register(
            "credential_vends",
            "Answers to agents asking for an upstream credential, by provider and outcome: vended, refused or unavailable",
            self.vends.clone(),
        );
        registry.register(
            "upstream_refreshes",
            "Refreshes of upstream tokens asked of providers, by provider and outcome: refreshed, invalid_grant or failed",
            self.upstream_refreshes.clone(),
        );
        registry.register(
            "issuance_hook_decisions",
            "Decisions of the pre-issuance hook: allowed, denied, failed_open or failed_closed, and why the hook gave no usable answer",
            self.hook_decisions.clone(),
        );
    }
}
