//! API keys and the roles they carry.

use chrono::{DateTime, Utc};

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
}
