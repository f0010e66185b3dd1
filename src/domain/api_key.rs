//! API keys and the roles they carry.

use chrono::{DateTime, TimeDelta, Utc};

use super::id::ApiKeyId;

/// What a key may do. Each endpoint names the roles it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The host application's backend: users, sessions, everything administrative.
    Admin,
    /// A security system: risk signals and selector revocations.
    Risk,
    /// A resource server: token introspection only.
    Introspect,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Risk, Role::Introspect];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Risk => "risk",
            Role::Introspect => "introspect",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == raw)
    }
}

/// A stored key: never the key itself, only its id, role and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// After it, the key is refused; `None`: it does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Written at most once per [`LAST_USE_WRITE_INTERVAL`].
    pub last_used_at: Option<DateTime<Utc>>,
}

/// How often a key's use is written.
pub const LAST_USE_WRITE_INTERVAL: TimeDelta = TimeDelta::seconds(60);

/// The longest lifetime a key may be given at creation: ten years.
pub const MAX_LIFETIME: TimeDelta = TimeDelta::days(3650);

/// Where a key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        }
    }
}

impl ApiKey {
    pub fn status(&self, now: DateTime<Utc>) -> KeyStatus {
        if self.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if self.expires_at.is_some_and(|at| now >= at) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }

    /// Whether its last use is due to be written at `now`.
    pub fn use_is_due(&self, now: DateTime<Utc>) -> bool {
        self.last_used_at
            .is_none_or(|at| now - at >= LAST_USE_WRITE_INTERVAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn a_key_is_active_until_revoked_or_past_its_expiry() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut key = ApiKey {
            id: ApiKeyId::generate(),
            role: Role::Admin,
            created_at: at,
            expires_at: Some(at + TimeDelta::hours(1)),
            revoked_at: None,
            last_used_at: None,
        };
        assert_eq!(key.status(at), KeyStatus::Active);
        assert_eq!(key.status(at + TimeDelta::hours(1)), KeyStatus::Expired);
        key.revoked_at = Some(at);
        assert_eq!(key.status(at), KeyStatus::Revoked);
        assert!(key.use_is_due(at));
        key.last_used_at = Some(at);
        assert!(!key.use_is_due(at + TimeDelta::seconds(59)));
        assert!(key.use_is_due(at + LAST_USE_WRITE_INTERVAL));
    }
}
