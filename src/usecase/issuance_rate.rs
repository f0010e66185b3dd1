//! How fast one agent may have sessions issued (token exchange, sub-delegation, host
//! mint): a token bucket per agent (governor's keyed GCRA limiter), refilling at the
//! configured rate with a burst of one second's worth. Keys are agents that
//! authenticated, so a caller cannot grow the map with made-up ids.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::domain::id::AgentId;

#[derive(Debug)]
pub struct IssuanceRate {
    limiter: Option<DefaultKeyedRateLimiter<AgentId>>,
    clock: DefaultClock,
}

impl IssuanceRate {
    /// At most `per_second` issuances a second per agent; `0`: no limit.
    pub fn new(per_second: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_second)
                .map(|rate| RateLimiter::keyed(Quota::per_second(rate))),
            clock: DefaultClock::default(),
        }
    }

    /// `Err` with how long to wait when `agent` has used its rate.
    pub fn check(&self, agent: &AgentId) -> Result<(), Duration> {
        match &self.limiter {
            None => Ok(()),
            Some(limiter) => limiter
                .check_key(agent)
                .map_err(|not_until| not_until.wait_time_from(self.clock.now())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_past_its_rate_waits_and_others_do_not() {
        let rate = IssuanceRate::new(2);
        let (busy, other) = (AgentId::generate(), AgentId::generate());
        assert!(rate.check(&busy).is_ok());
        assert!(rate.check(&busy).is_ok());
        let wait = rate.check(&busy).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(rate.check(&other).is_ok());
        let unlimited = IssuanceRate::new(0);
        for _ in 0..1000 {
            assert!(unlimited.check(&busy).is_ok());
        }
    }
}
