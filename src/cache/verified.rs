//! Credentials already verified against the database, so a caller's credential costs
//! one hash per request, not a query: resource servers' API keys (by hash) and agents'
//! client credentials (by client id, with the secret's hash to compare). It keeps the
//! same promise as the token cache (`crate::cache::tokens`): a revoked or changed
//! credential is forgotten on the instance that changed it before the change is
//! answered, and on every other instance when the notification arrives; while the
//! notification connection is down it is empty and takes nothing
//! ([`VerifiedCache::distrust`]), and it starts over when trust returns. An insert
//! carries the generation it started from and is refused if the map was emptied since,
//! so a credential read before a change cannot be cached after it.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{PoisonError, RwLock};

use crate::domain::agent::Agent;
use crate::domain::api_key::ApiKey;
use crate::domain::id::AgentId;
use crate::domain::token::TokenHash;

/// Verified API keys, by the key's hash.
pub type ApiKeyCache = VerifiedCache<TokenHash, ApiKey>;

/// Agents, by id, with their client secret's hash.
pub type AgentCache = VerifiedCache<AgentId, (Agent, TokenHash)>;

#[derive(Debug)]
pub struct VerifiedCache<K, V> {
    state: RwLock<State<K, V>>,
}

#[derive(Debug)]
struct State<K, V> {
    trusted: bool,
    generation: u64,
    entries: HashMap<K, V>,
}

impl<K: Eq + Hash, V: Clone> VerifiedCache<K, V> {
    /// An empty map, trusted from the start or only after [`VerifiedCache::resync`].
    pub fn new(trusted: bool) -> Self {
        Self {
            state: RwLock::new(State {
                trusted,
                generation: 0,
                entries: HashMap::new(),
            }),
        }
    }

    /// The cached entry, or the generation to offer a fresh read with.
    pub fn get(&self, key: &K) -> Result<V, u64> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        state.entries.get(key).cloned().ok_or(state.generation)
    }

    /// Caches `value` unless the map was emptied since `generation` was read.
    pub fn offer(&self, generation: u64, key: K, value: V) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if state.trusted && state.generation == generation {
            state.entries.insert(key, value);
        }
    }

    /// Changes the cached entry in place, if there is one (a use noted on it).
    pub fn amend(&self, key: &K, change: impl FnOnce(&mut V)) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = state.entries.get_mut(key) {
            change(value);
        }
    }

    /// Forgets every entry: one was revoked or changed.
    pub fn forget(&self) {
        self.start_over(None);
    }

    /// Forgets every entry and takes none until [`VerifiedCache::resync`]: changes may
    /// be missed.
    pub fn distrust(&self) {
        self.start_over(Some(false));
    }

    /// Starts over empty and trusted, once the instance hears every change again.
    pub fn resync(&self) {
        self.start_over(Some(true));
    }

    /// Empties the map and sets its trust (when given) under one lock, so no insert
    /// lands between the two.
    fn start_over(&self, trusted: Option<bool>) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        state.generation += 1;
        state.entries.clear();
        if let Some(trusted) = trusted {
            state.trusted = trusted;
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::domain::api_key::Role;
    use crate::domain::id::ApiKeyId;

    fn key() -> ApiKey {
        ApiKey {
            id: ApiKeyId::generate(),
            role: Role::Admin,
            created_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            expires_at: None,
            revoked_at: None,
            last_used_at: None,
        }
    }

    #[test]
    fn a_read_that_raced_a_forget_is_not_cached() {
        let cache = ApiKeyCache::new(true);
        let hash = TokenHash::of("leash_ak_a");
        let before = cache.get(&hash).unwrap_err();
        cache.forget();
        cache.offer(before, hash, key());
        assert!(cache.get(&hash).is_err());
        let now = cache.get(&hash).unwrap_err();
        cache.offer(now, hash, key());
        assert!(cache.get(&hash).is_ok());
        cache.forget();
        assert!(cache.get(&hash).is_err());
    }

    #[test]
    fn a_distrusted_map_takes_nothing_until_resynchronised() {
        let cache = ApiKeyCache::new(true);
        let hash = TokenHash::of("leash_ak_a");
        cache.distrust();
        let during_outage = cache.get(&hash).unwrap_err();
        cache.offer(during_outage, hash, key());
        assert!(cache.get(&hash).is_err());
        cache.resync();
        cache.offer(during_outage, hash, key());
        assert!(cache.get(&hash).is_err(), "read during the outage");
        cache.offer(cache.get(&hash).unwrap_err(), hash, key());
        assert!(cache.get(&hash).is_ok());
    }
}
