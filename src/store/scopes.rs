//! Scope sets are stored space-separated.

use super::StoreError;
use crate::domain::scope::ScopeSet;

pub fn decode(raw: &str) -> Result<ScopeSet, StoreError> {
    ScopeSet::from_space_separated(raw)
        .map_err(|e| StoreError::Corrupt(format!("scopes {raw:?}: {e}")))
}
