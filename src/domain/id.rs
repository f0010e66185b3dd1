//! Typed, prefixed identifiers (`usr_…`, `uss_…`, …): a log line or a database row says
//! what it names. The body is a UUIDv7 in lower-case hex, so ids sort by creation time,
//! which keyset pagination relies on.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(String);

        impl $name {
            /// The visible prefix, without the underscore.
            pub const PREFIX: &'static str = $prefix;

            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, Uuid::now_v7().simple()))
            }

            /// Parses an id a caller sent; `None` unless it has this type's prefix and shape.
            pub fn parse(raw: &str) -> Option<Self> {
                let body = raw.strip_prefix($prefix)?.strip_prefix('_')?;
                let well_formed = body.len() == 32
                    && body.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                well_formed.then(|| Self(raw.to_owned()))
            }

            /// Wraps an id read back from our own database.
            pub fn from_stored(raw: String) -> Self {
                Self(raw)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw).ok_or_else(|| {
                    serde::de::Error::custom(concat!("expected an id of the form ", $prefix, "_<32 hex digits>"))
                })
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "pattern": concat!("^", $prefix, "_[0-9a-f]{32}$"),
                })
            }
        }
    };
}

typed_id!(
    /// A human, as Leash knows them.
    UserId, "usr"
);
typed_id!(
    /// One signed-in device of a user.
    UserSessionId, "uss"
);
typed_id!(
    /// A registered agent runtime; also its OAuth `client_id`.
    AgentId, "agt"
);
typed_id!(
    /// A live delegation to an agent: from a user session, or from another agent session.
    AgentSessionId, "ags"
);
typed_id!(
    /// A user's consent for one agent.
    GrantId, "grt"
);
typed_id!(
    /// An API key of a host application, security system or resource server.
    ApiKeyId, "key"
);
typed_id!(
    /// One act of revoking.
    RevocationId, "rev"
);
typed_id!(
    /// An outbox event.
    EventId, "evt"
);
typed_id!(
    /// An audit log entry.
    AuditEntryId, "aud"
);
typed_id!(
    /// A URL that receives signed events.
    WebhookEndpointId, "whe"
);
typed_id!(
    /// One event on its way to one endpoint, however many attempts it takes.
    WebhookDeliveryId, "whd"
);
typed_id!(
    /// One HTTP request of a delivery.
    WebhookAttemptId, "wha"
);
typed_id!(
    /// A user's link to an upstream OAuth provider, whose tokens Leash holds.
    ConnectionId, "con"
);
typed_id!(
    /// One token a disconnect asked the provider to revoke: its receipt.
    UpstreamRevocationId, "urv"
);
typed_id!(
    /// A risk signal a security system sent, with what the policy did about it.
    RiskSignalId, "rsg"
);
typed_id!(
    /// An address or block refused sign-ins and token exchanges for a while.
    IpBlockId, "ipb"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_sort_by_creation() {
        let first = UserId::generate();
        let second = UserId::generate();
        assert_eq!(UserId::parse(first.as_str()), Some(first.clone()));
        assert!(first < second);
    }

    #[test]
    fn an_id_of_another_type_or_shape_is_refused() {
        let session = UserSessionId::generate();
        assert_eq!(UserId::parse(session.as_str()), None);
        assert_eq!(UserId::parse("usr_"), None);
        assert_eq!(UserId::parse("usr_ZZZZ0000000000000000000000000000"), None);
        assert_eq!(UserId::parse("usr_0123456789abcdef0123456789abcdef0"), None);
    }
}
