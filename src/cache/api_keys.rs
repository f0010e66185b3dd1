//! API keys already verified against the database, so a resource server's key costs one
//! hash per request, not a query. It keeps the same promise as the token cache
//! (`crate::cache::tokens`): a revoked key is forgotten on the instance that revoked it
//! before the revoke is answered, and on every other instance when the notification
//! arrives; while the notification connection is down it is empty and takes nothing
//! ([`ApiKeyCache::distrust`]), and it starts over when trust returns. An insert carries
//! the generation it started from and is refused if the map was emptied since, so a key
//! read before a revoke cannot be cached after it.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use chrono::{DateTime, Utc};

use crate::domain::api_key::ApiKey;
use crate::domain::token::TokenHash;

#[derive(Debug)]
pub struct ApiKeyCache {
    state: RwLock<State>,
}

#[derive(Debug, Default)]
struct State {
    trusted: bool,
    generation: u64,
    keys: HashMap<TokenHash, ApiKey>,
}

impl ApiKeyCache {
    /// An empty map, trusted from the start or only after [`ApiKeyCache::resync`].
    pub fn new(trusted: bool) -> Self {
        Self {
            state: RwLock::new(State {
                trusted,
                ..State::default()
            }),
        }
    }

    /// The cached key, or the generation to offer a fresh read with.
    pub fn get(&self, hash: &TokenHash) -> Result<ApiKey, u64> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        state.keys.get(hash).cloned().ok_or(state.generation)
    }

    /// Caches `key` unless the map was emptied since `generation` was read.
    pub fn offer(&self, generation: u64, hash: TokenHash, key: ApiKey) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if state.trusted && state.generation == generation {
            state.keys.insert(hash, key);
        }
    }

    /// Notes on the cached key that its use at `at` was written.
    pub fn mark_used(&self, hash: &TokenHash, at: DateTime<Utc>) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = state.keys.get_mut(hash) {
            key.last_used_at = Some(at);
        }
    }

    /// Forgets every key: one was revoked.
    pub fn forget(&self) {
        self.start_over(None);
    }

    /// Forgets every key and takes none until [`ApiKeyCache::resync`]: revocations may
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
        state.keys.clear();
        if let Some(trusted) = trusted {
            state.trusted = trusted;
        }
    }
}

#[cfg(test)]
mod tests {
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
