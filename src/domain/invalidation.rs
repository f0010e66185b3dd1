//! What one instance tells the others when validity changes, so their caches drop what
//! may be stale. The wire form is a short text (it travels as a PostgreSQL NOTIFY payload).

use super::id::UserId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// Something about this user's sessions changed: forget every cached token of theirs.
    User(UserId),
}

impl Invalidation {
    pub fn encode(&self) -> String {
        match self {
            Invalidation::User(id) => format!("user:{id}"),
        }
    }

    pub fn decode(payload: &str) -> Option<Self> {
        let id = payload.strip_prefix("user:")?;
        UserId::parse(id).map(Invalidation::User)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalidation_round_trips_and_junk_is_ignored() {
        let message = Invalidation::User(UserId::generate());
        assert_eq!(Invalidation::decode(&message.encode()), Some(message));
        assert_eq!(Invalidation::decode("user:nope"), None);
        assert_eq!(Invalidation::decode(""), None);
    }
}
