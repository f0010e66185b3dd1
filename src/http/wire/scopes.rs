//! Scopes as a request lists them.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::domain::scope::{self, Scope, ScopeSet};

/// 1 to 100 scopes, each plain (`calendar.read`) or provider-qualified (`github:repo`);
/// duplicates count once.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ScopeList(
    #[schemars(
        length(min = 1, max = ScopeSet::MAX_LEN),
        inner(length(max = Scope::MAX_LEN), pattern(scope::PATTERN))
    )]
    pub Vec<String>,
);
