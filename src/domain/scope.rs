//! Scopes and sets of them. A scope is plain (`calendar.read`) or provider-qualified
//! (`github:repo`); its characters are RFC 6749's `scope-token` (printable ASCII without
//! space, `"` or `\`). A [`ScopeSet`] is what a ceiling, a grant or a session holds, and
//! answers the questions delegation asks: is this a subset, what do both allow, and
//! what exactly was asked for beyond what is allowed.

use std::collections::BTreeSet;
use std::fmt;

/// One scope, checked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope(String);

/// Why a scope or a set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeRefused {
    #[error("a scope must not be empty")]
    Empty,
    #[error("scope {0:?} is longer than {max} characters", max = Scope::MAX_LEN)]
    TooLong(String),
    #[error("scope {0:?} may only hold printable ASCII without spaces, quotes or backslashes")]
    InvalidCharacter(String),
    #[error("scope {0:?} names an empty provider or an empty scope around ':'")]
    EmptyPart(String),
    #[error("at most {max} scopes", max = ScopeSet::MAX_LEN)]
    TooMany,
    #[error("at least one scope is required")]
    NoScopes,
}

/// A scope as a JSON Schema pattern, for the API's contract: `scope-token` characters,
/// and no empty part around the first `:`. Its length is bounded apart ([`Scope::MAX_LEN`]).
pub const PATTERN: &str = r"^[!#-9;-\[\]-~]+(:[!#-\[\]-~]+)?$";

impl Scope {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, ScopeRefused> {
        if raw.is_empty() {
            return Err(ScopeRefused::Empty);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(ScopeRefused::TooLong(
                raw.chars().take(Self::MAX_LEN).collect(),
            ));
        }
        if !raw
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
        {
            return Err(ScopeRefused::InvalidCharacter(raw.to_owned()));
        }
        if let Some((provider, name)) = raw.split_once(':')
            && (provider.is_empty() || name.is_empty())
        {
            return Err(ScopeRefused::EmptyPart(raw.to_owned()));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The provider of a provider-qualified scope (`github` for `github:repo`).
    pub fn provider(&self) -> Option<&str> {
        self.0.split_once(':').map(|(provider, _)| provider)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of scopes, ordered, without duplicates, at most [`ScopeSet::MAX_LEN`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    pub const MAX_LEN: usize = 100;

    /// A set from a JSON list; duplicates collapse. Refuses an empty list, and one of
    /// more than [`ScopeSet::MAX_LEN`] items, duplicates or not.
    pub fn from_list<S: AsRef<str>>(scopes: &[S]) -> Result<Self, ScopeRefused> {
        let set = Self::collect(scopes.iter().map(AsRef::as_ref))?;
        if set.is_empty() {
            return Err(ScopeRefused::NoScopes);
        }
        Ok(set)
    }

    /// A set from OAuth's space-separated `scope` parameter (RFC 6749 §3.3). Refuses
    /// empty tokens (doubled or stray spaces) as the RFC's grammar does.
    pub fn from_space_separated(raw: &str) -> Result<Self, ScopeRefused> {
        if raw.is_empty() {
            return Err(ScopeRefused::NoScopes);
        }
        Self::collect(raw.split(' '))
    }

    fn collect<'a>(raw: impl Iterator<Item = &'a str>) -> Result<Self, ScopeRefused> {
        let mut set = BTreeSet::new();
        for (count, scope) in raw.enumerate() {
            if count == Self::MAX_LEN {
                return Err(ScopeRefused::TooMany);
            }
            set.insert(Scope::parse(scope)?);
        }
        Ok(Self(set))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    pub fn is_subset(&self, of: &ScopeSet) -> bool {
        self.0.is_subset(&of.0)
    }

    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        Self(self.0.intersection(&other.0).cloned().collect())
    }

    /// Whether any scope is provider-qualified: only then do connections matter.
    pub fn has_provider_scopes(&self) -> bool {
        self.0.iter().any(|scope| scope.provider().is_some())
    }

    /// The plain scopes, and the provider scopes `connected` holds.
    pub fn connected_within(&self, connected: &ScopeSet) -> ScopeSet {
        Self(
            self.0
                .iter()
                .filter(|scope| scope.provider().is_none() || connected.contains(scope))
                .cloned()
                .collect(),
        )
    }

    /// What this set asks for that `allowed` does not hold: empty when it is a subset.
    pub fn missing_from(&self, allowed: &ScopeSet) -> ScopeSet {
        Self(self.0.difference(&allowed.0).cloned().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// The OAuth form: space-separated, in a stable order.
    pub fn to_space_separated(&self) -> String {
        self.0
            .iter()
            .map(Scope::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().map(|s| s.0.clone()).collect()
    }
}

impl Extend<Scope> for ScopeSet {
    fn extend<I: IntoIterator<Item = Scope>>(&mut self, scopes: I) {
        self.0.extend(scopes);
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(scopes: I) -> Self {
        Self(scopes.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn set(scopes: &[&str]) -> ScopeSet {
        ScopeSet::from_list(scopes).unwrap()
    }

    #[test]
    fn plain_and_provider_scopes_parse_and_junk_is_refused() {
        assert_eq!(Scope::parse("calendar.read").unwrap().provider(), None);
        assert_eq!(
            Scope::parse("github:repo").unwrap().provider(),
            Some("github")
        );
        assert_eq!(Scope::parse(""), Err(ScopeRefused::Empty));
        assert!(matches!(
            Scope::parse("a b"),
            Err(ScopeRefused::InvalidCharacter(_))
        ));
        assert!(matches!(
            Scope::parse("tab\t"),
            Err(ScopeRefused::InvalidCharacter(_))
        ));
        assert!(matches!(
            Scope::parse("quote\""),
            Err(ScopeRefused::InvalidCharacter(_))
        ));
        assert!(matches!(
            Scope::parse("é"),
            Err(ScopeRefused::InvalidCharacter(_))
        ));
        assert!(matches!(
            Scope::parse(":repo"),
            Err(ScopeRefused::EmptyPart(_))
        ));
        assert!(matches!(
            Scope::parse("github:"),
            Err(ScopeRefused::EmptyPart(_))
        ));
        assert!(matches!(
            Scope::parse(&"a".repeat(129)),
            Err(ScopeRefused::TooLong(_))
        ));
    }

    #[test]
    fn sets_refuse_emptiness_stray_spaces_and_excess() {
        assert_eq!(
            ScopeSet::from_list::<&str>(&[]),
            Err(ScopeRefused::NoScopes)
        );
        assert_eq!(
            ScopeSet::from_space_separated(""),
            Err(ScopeRefused::NoScopes)
        );
        assert_eq!(
            ScopeSet::from_space_separated("a  b"),
            Err(ScopeRefused::Empty)
        );
        let many: Vec<String> = (0..101).map(|i| format!("s{i}")).collect();
        assert_eq!(ScopeSet::from_list(&many), Err(ScopeRefused::TooMany));
        assert_eq!(
            ScopeSet::from_space_separated("b a b").unwrap(),
            set(&["a", "b"])
        );
    }

    #[test]
    fn what_was_asked_beyond_the_allowed_is_named() {
        let allowed = set(&["calendar.read", "github:repo"]);
        let asked = set(&["calendar.read", "calendar.write", "mail.send"]);
        assert_eq!(
            asked.missing_from(&allowed),
            set(&["calendar.write", "mail.send"])
        );
        assert_eq!(asked.intersection(&allowed), set(&["calendar.read"]));
        assert!(set(&["github:repo"]).is_subset(&allowed));
    }

    fn scope_set() -> impl Strategy<Value = ScopeSet> {
        prop::collection::btree_set("[a-e](:[a-c])?", 1..6)
            .prop_map(|s| ScopeSet::from_list(&s.into_iter().collect::<Vec<_>>()).unwrap())
    }

    proptest! {
        #[test]
        fn set_algebra_holds(a in scope_set(), b in scope_set()) {
            let both = a.intersection(&b);
            prop_assert!(both.is_subset(&a) && both.is_subset(&b));
            prop_assert_eq!(a.missing_from(&b).is_empty(), a.is_subset(&b));
            prop_assert!(a.missing_from(&b).iter().all(|s| a.contains(s) && !b.contains(s)));
            prop_assert_eq!(both.len() + a.missing_from(&b).len(), a.len());
            prop_assert_eq!(ScopeSet::from_space_separated(&a.to_space_separated()).unwrap(), a);
        }
    }
}
