//! What one instance tells the others when validity changes, so their caches drop what
//! may be stale. The wire form is a short text (it travels as a PostgreSQL NOTIFY payload).

use super::id::UserId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// Something about this user's sessions changed: forget every cached token of theirs.
    User(UserId),
    /// An act reached across users (an agent disabled, a ceiling narrowed): forget
    /// every cached token. Such acts are rare; the cache refills from the database.
    Everything,
    /// An API key was revoked: forget every verified API key.
    ApiKeys,
    /// An agent changed (disabled, enabled, its secret rotated, its ceiling changed):
    /// forget every verified agent credential.
    Agents,
}

impl Invalidation {
    pub fn encode(&self) -> String {
        match self {
            Invalidation::User(id) => format!("user:{id}"),
            Invalidation::Everything => "all".to_owned(),
            Invalidation::ApiKeys => "api_keys".to_owned(),
            Invalidation::Agents => "agents".to_owned(),
        }
    }

    pub fn decode(payload: &str) -> Option<Self> {
        match payload {
            "all" => return Some(Invalidation::Everything),
            "api_keys" => return Some(Invalidation::ApiKeys),
            "agents" => return Some(Invalidation::Agents),
            _ => {}
        }
        let id = payload.strip_prefix("user:")?;
        UserId::parse(id).map(Invalidation::User)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalidation_round_trips_and_junk_is_ignored() {
        for message in [
            Invalidation::User(UserId::generate()),
            Invalidation::Everything,
            Invalidation::ApiKeys,
            Invalidation::Agents,
        ] {
            assert_eq!(Invalidation::decode(&message.encode()), Some(message));
        }
        assert_eq!(Invalidation::decode("user:nope"), None);
        assert_eq!(Invalidation::decode(""), None);
    }
}
