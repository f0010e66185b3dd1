//! One signed-in device of a user, and the rules that say whether it is still good.
//!
//! A user session is active until it is revoked (a state, with its cause, never a
//! delete), reaches its absolute expiry, or sits unused longer than its idle timeout.

use chrono::{DateTime, TimeDelta, Utc};

use super::id::{RevocationId, UserId, UserSessionId};
use super::revocation::RevocationCause;
use super::user::UserStatus;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    pub id: UserSessionId,
    pub user_id: UserId,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub idle_timeout: TimeDelta,
    pub revoked: Option<RevokedMark>,
}

/// What a revoked row carries: when, by which act, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedMark {
    pub at: DateTime<Utc>,
    pub revocation_id: RevocationId,
    pub cause: RevocationCause,
}

/// Whether a session is good now, and if not, why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Active,
    Revoked(RevocationCause),
    Expired,
    IdleTimedOut,
    UserDisabled,
    AgentDisabled,
    /// An agent session whose root user session, parent or other ancestor is no longer
    /// active.
    ChainInactive,
}

/// The facts about a session that decide its liveness; what introspection loads and caches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validity {
    pub session_id: UserSessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub idle_timeout: TimeDelta,
    pub revoked: Option<RevocationCause>,
    pub user_status: UserStatus,
}

impl Validity {
    /// Liveness at `now`, given when the session was last used.
    pub fn liveness(&self, now: DateTime<Utc>, last_seen_at: DateTime<Utc>) -> Liveness {
        if let Some(cause) = self.revoked {
            Liveness::Revoked(cause)
        } else if self.user_status == UserStatus::Disabled {
            Liveness::UserDisabled
        } else if now >= self.expires_at {
            Liveness::Expired
        } else if now - last_seen_at >= self.idle_timeout {
            Liveness::IdleTimedOut
        } else {
            Liveness::Active
        }
    }
}

impl UserSession {
    pub fn liveness(&self, now: DateTime<Utc>) -> Liveness {
        Validity {
            session_id: self.id.clone(),
            user_id: self.user_id.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            idle_timeout: self.idle_timeout,
            revoked: self.revoked.as_ref().map(|mark| mark.cause),
            user_status: UserStatus::Active,
        }
        .liveness(now, self.last_seen_at)
    }
}

/// How long `last_seen_at` may lag in the database. Introspection records use in memory
/// and queues it for writing at most this often per session, so a busy session costs
/// one write per interval, not one per request; an idle timeout judged from the database
/// (by another instance, or after a cache invalidation) is therefore exact to within this
/// lag plus the second the write-behind buffer waits. Idle timeouts are at least
/// [`Lifetime::MIN_IDLE_SECONDS`], ten times this, so the lag is a small fraction of
/// any timeout. (A shorter interval multiplies the writes: at 15 s, PostgreSQL's share
/// of them cost 13% of the cached introspection rate on a two-core machine.)
pub const LAST_SEEN_WRITE_INTERVAL: TimeDelta = TimeDelta::seconds(60);

/// Absolute lifetime and idle timeout of a new session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub ttl: TimeDelta,
    pub idle_timeout: TimeDelta,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifetimeRefused {
    #[error("ttl_seconds must be between {min} and {max}")]
    TtlOutOfRange { min: i64, max: i64 },
    #[error("idle_timeout_seconds must be between {min} and {max}")]
    IdleTimeoutOutOfRange { min: i64, max: i64 },
}

impl Lifetime {
    pub const MIN_SECONDS: i64 = 60;
    /// The shortest idle timeout, unless the session's whole lifetime is shorter (then
    /// the idle timeout is its lifetime): well above [`LAST_SEEN_WRITE_INTERVAL`].
    pub const MIN_IDLE_SECONDS: i64 = 600;
    pub const MAX_TTL_SECONDS: i64 = 400 * 24 * 3600;

    /// The lifetime a caller asked for, falling back to `defaults` field by field. An
    /// idle timeout longer than the lifetime could never end the session first, so it is
    /// the lifetime: each field is checked on its own, as the API declares them.
    pub fn requested(
        ttl_seconds: Option<i64>,
        idle_timeout_seconds: Option<i64>,
        defaults: Lifetime,
    ) -> Result<Self, LifetimeRefused> {
        let ttl = ttl_seconds.unwrap_or(defaults.ttl.num_seconds());
        if !(Self::MIN_SECONDS..=Self::MAX_TTL_SECONDS).contains(&ttl) {
            return Err(LifetimeRefused::TtlOutOfRange {
                min: Self::MIN_SECONDS,
                max: Self::MAX_TTL_SECONDS,
            });
        }
        let idle = match idle_timeout_seconds {
            Some(idle) if !(Self::MIN_IDLE_SECONDS..=Self::MAX_TTL_SECONDS).contains(&idle) => {
                return Err(LifetimeRefused::IdleTimeoutOutOfRange {
                    min: Self::MIN_IDLE_SECONDS,
                    max: Self::MAX_TTL_SECONDS,
                });
            }
            Some(idle) => idle,
            None => defaults.idle_timeout.num_seconds(),
        };
        Ok(Self {
            ttl: TimeDelta::seconds(ttl),
            idle_timeout: TimeDelta::seconds(idle.min(ttl)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn validity() -> Validity {
        Validity {
            session_id: UserSessionId::generate(),
            user_id: UserId::generate(),
            created_at: at(0),
            expires_at: at(3600),
            idle_timeout: TimeDelta::seconds(600),
            revoked: None,
            user_status: UserStatus::Active,
        }
    }

    #[test]
    fn a_session_lives_until_expiry_or_idleness() {
        let v = validity();
        assert_eq!(v.liveness(at(10), at(0)), Liveness::Active);
        assert_eq!(v.liveness(at(600), at(0)), Liveness::IdleTimedOut);
        assert_eq!(v.liveness(at(3000), at(2999)), Liveness::Active);
        assert_eq!(v.liveness(at(3600), at(3599)), Liveness::Expired);
    }

    #[test]
    fn revocation_and_a_disabled_user_outrank_time() {
        let mut v = validity();
        v.user_status = UserStatus::Disabled;
        assert_eq!(v.liveness(at(1), at(0)), Liveness::UserDisabled);
        v.revoked = Some(RevocationCause::SignOutEverywhere);
        assert_eq!(
            v.liveness(at(1), at(0)),
            Liveness::Revoked(RevocationCause::SignOutEverywhere)
        );
    }

    #[test]
    fn a_lifetime_falls_back_to_defaults_and_keeps_idle_within_ttl() {
        let defaults = Lifetime {
            ttl: TimeDelta::days(30),
            idle_timeout: TimeDelta::days(7),
        };
        assert_eq!(Lifetime::requested(None, None, defaults), Ok(defaults));
        let short = Lifetime::requested(Some(3600), None, defaults).unwrap();
        assert_eq!(short.idle_timeout, TimeDelta::seconds(3600));
        assert!(Lifetime::requested(Some(10), None, defaults).is_err());
        let clamped = Lifetime::requested(Some(3600), Some(7200), defaults).unwrap();
        assert_eq!(clamped.idle_timeout, TimeDelta::seconds(3600));
        let brief_idle = Lifetime::requested(Some(120), Some(600), defaults).unwrap();
        assert_eq!(brief_idle.idle_timeout, TimeDelta::seconds(120));
        assert!(
            Lifetime::requested(Some(3600), Some(Lifetime::MAX_TTL_SECONDS + 1), defaults).is_err()
        );
        // Idle timeouts stay well above the interval at which last use is written.
        assert!(Lifetime::requested(Some(3600), Some(60), defaults).is_err());
        assert!(Lifetime::requested(Some(3600), Some(599), defaults).is_err());
        assert!(Lifetime::MIN_IDLE_SECONDS >= 10 * LAST_SEEN_WRITE_INTERVAL.num_seconds());
        let brief = Lifetime::requested(Some(120), None, defaults).unwrap();
        assert_eq!(brief.idle_timeout, TimeDelta::seconds(120));
    }
}
