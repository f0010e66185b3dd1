//! Counters of webhook delivery, kept by the delivery use case and exposed at
//! `/metrics` (the HTTP layer registers them with its registry).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    /// `succeeded`, `retrying` or `gave_up`.
    outcome: &'static str,
}

/// Cheap to clone: the counters are shared.
#[derive(Clone, Debug, Default)]
pub struct DeliveryMetrics {
    attempts: Family<OutcomeLabels, Counter>,
    endpoints_disabled: Counter,
}

impl DeliveryMetrics {
    pub fn attempted(&self, outcome: &'static str) {
        self.attempts
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub fn endpoints_disabled(&self, count: u64) {
        self.endpoints_disabled.inc_by(count);
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
    }
}
