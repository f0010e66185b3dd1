//! A secret as it crosses Leash's edge: a token or client secret a caller presented, or
//! one Leash answers once. It is held as is only until it is hashed or sealed, and it
//! never prints: `Debug` shows `<redacted>`, so no `?request` in a log line can leak it.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself, to hash, compare or hand to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_but_serialises_as_itself() {
        let secret = Secret::new("leash_rt_abc".to_owned());
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert!(!format!("{:?}", Some(&secret)).contains("abc"));
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"leash_rt_abc\"");
        let back: Secret = serde_json::from_str("\"leash_rt_abc\"").unwrap();
        assert_eq!(back.expose(), "leash_rt_abc");
        assert_eq!(Secret::from("leash_rt_abc".to_owned()), secret);
    }
}
