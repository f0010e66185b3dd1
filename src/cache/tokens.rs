//! The introspection cache: token hash → what decides the session's validity (a user
//! session token, or an agent access token).
//!
//! It keeps invariant 4 of DESIGN.md:
//! - the instance that serves a revoke invalidates the user's entries after its commit
//!   and before it answers, so it never again answers "active" for a token it hit;
//! - other instances drop the same entries when the commit's NOTIFY arrives;
//! - a lookup that read the database before an invalidation cannot put its (possibly
//!   stale) answer into the cache afterwards: inserts carry the generation they started
//!   from and are refused if any invalidation happened since;
//! - while the notification connection is down the cache is not trusted at all (every
//!   lookup goes to the database), and it is emptied when trust is restored.
//!
//! A full cache evicts one entry per insert, by CLOCK (second chance): a lookup marks
//! its entry used; the hand sweeps the slots, clearing marks, and evicts the first entry
//! not used since the hand last passed. Hot tokens stay; a deployment with more live
//! tokens than the capacity misses only on the cold ones, with no periodic collapse.
//! Our own structure rather than a cache crate's: the invalidation rules need a by-user
//! index kept exact under the same lock as the entries and the generation that guards
//! inserts, which the maintained crates (moka, quick_cache) cannot offer atomically.
//!
//! Only facts that never change back are cached: a session's expiry and idle timeout are
//! fixed, and revocation is final. Last use is tracked here; once per
//! [`LAST_SEEN_WRITE_INTERVAL`] a session's use is handed to `crate::cache::last_use`,
//! which writes it behind the request. An entry dropped by an invalidation hands its
//! unwritten use over first, so a session used a moment ago is never judged idle from an
//! older `last_seen_at` read afterwards.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Utc};

use crate::cache::last_use::LastUseBuffer;
use crate::domain::id::UserId;
use crate::domain::invalidation::Invalidation;
use crate::domain::session::SessionValidity;
use crate::domain::token::TokenHash;
use crate::domain::user_session::LAST_SEEN_WRITE_INTERVAL;

/// A cached session: its validity facts and its last use.
#[derive(Debug)]
pub struct CachedSession {
    pub validity: SessionValidity,
    last_seen_ms: AtomicI64,
    last_written_ms: AtomicI64,
    /// Looked up since the eviction hand last passed it.
    used: AtomicBool,
}

impl CachedSession {
    pub fn new(validity: SessionValidity, last_seen_at: DateTime<Utc>) -> Self {
        let ms = last_seen_at.timestamp_millis();
        Self {
            validity,
            last_seen_ms: AtomicI64::new(ms),
            last_written_ms: AtomicI64::new(ms),
            used: AtomicBool::new(false),
        }
    }

    pub fn last_seen_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.last_seen_ms.load(Ordering::Relaxed))
            .unwrap_or_default()
    }

    /// The last use not yet handed over for writing, if any.
    fn unwritten_use(&self) -> Option<DateTime<Utc>> {
        let seen = self.last_seen_ms.load(Ordering::Relaxed);
        (seen > self.last_written_ms.load(Ordering::Relaxed))
            .then(|| DateTime::from_timestamp_millis(seen))
            .flatten()
    }

    /// Records a use at `now`. Returns true for exactly one caller per write interval:
    /// that caller writes `last_seen_at` to the database.
    pub fn record_use(&self, now: DateTime<Utc>) -> bool {
        let now_ms = now.timestamp_millis();
        self.last_seen_ms.fetch_max(now_ms, Ordering::Relaxed);
        let written = self.last_written_ms.load(Ordering::Relaxed);
        now_ms - written >= LAST_SEEN_WRITE_INTERVAL.num_milliseconds()
            && self
                .last_written_ms
                .compare_exchange(written, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// The answer of [`TokenCache::get`].
pub enum Lookup {
    Hit(Arc<CachedSession>),
    /// Not cached: read the database, then offer the result with this generation.
    Miss {
        generation: u64,
    },
}

#[derive(Debug)]
pub struct TokenCache {
    state: RwLock<State>,
    capacity: usize,
    /// Where dropped entries' unwritten uses go.
    last_use: Arc<LastUseBuffer>,
}

#[derive(Debug, Default)]
struct State {
    trusted: bool,
    generation: u64,
    entries: HashMap<TokenHash, Slotted>,
    by_user: HashMap<UserId, Vec<TokenHash>>,
    /// The eviction order: each entry's hash in its slot; `None` for a free slot.
    slots: Vec<Option<TokenHash>>,
    free: Vec<usize>,
    hand: usize,
}

#[derive(Debug)]
struct Slotted {
    entry: Arc<CachedSession>,
    slot: usize,
}

impl State {
    /// Empties the cache; answers what it held.
    fn forget_everything(&mut self) -> Vec<Arc<CachedSession>> {
        self.generation += 1;
        self.by_user.clear();
        self.slots.clear();
        self.free.clear();
        self.hand = 0;
        self.entries.drain().map(|(_, s)| s.entry).collect()
    }

    /// Removes `hash` from the entries and its slot (not from the by-user index).
    fn remove(&mut self, hash: &TokenHash) -> Option<Arc<CachedSession>> {
        let removed = self.entries.remove(hash)?;
        self.slots[removed.slot] = None;
        self.free.push(removed.slot);
        Some(removed.entry)
    }

    /// Evicts the first entry from the hand on that was not used since the hand last
    /// passed it, clearing the marks it passes.
    fn evict_one(&mut self) {
        // Two rounds at most: the first clears every mark.
        for _ in 0..2 * self.slots.len() {
            let at = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            let Some(hash) = self.slots[at] else {
                continue;
            };
            let Some(slotted) = self.entries.get(&hash) else {
                continue;
            };
            if slotted.entry.used.swap(false, Ordering::Relaxed) {
                continue;
            }
            let user = slotted.entry.validity.user_id().clone();
            self.remove(&hash);
            if let Some(hashes) = self.by_user.get_mut(&user) {
                hashes.retain(|h| h != &hash);
                if hashes.is_empty() {
                    self.by_user.remove(&user);
                }
            }
            return;
        }
    }

    fn insert(&mut self, hash: TokenHash, entry: Arc<CachedSession>) {
        if let Some(slotted) = self.entries.get_mut(&hash) {
            slotted.entry = entry;
            return;
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[slot] = Some(hash);
        self.by_user
            .entry(entry.validity.user_id().clone())
            .or_default()
            .push(hash);
        self.entries.insert(hash, Slotted { entry, slot });
    }
}

impl TokenCache {
    /// A cache of at most `capacity` tokens, trusted from the start (`trusted = false`
    /// waits for [`TokenCache::resync`], for an instance that must first listen).
    pub fn new(capacity: usize, trusted: bool, last_use: Arc<LastUseBuffer>) -> Self {
        Self {
            state: RwLock::new(State {
                trusted,
                ..State::default()
            }),
            capacity,
            last_use,
        }
    }

    /// Hands the unwritten uses of dropped entries to the write-behind buffer (outside
    /// the cache's lock).
    fn keep_uses_of(&self, dropped: Vec<Arc<CachedSession>>) {
        for entry in dropped {
            if let Some(at) = entry.unwritten_use() {
                for session in entry.validity.used_sessions() {
                    self.last_use.record(&session, at);
                }
            }
        }
    }

    /// The cached entry for `hash`. An untrusted cache is always empty ([`distrust`]
    /// empties it and [`offer`] adds nothing to it), so every lookup then misses.
    ///
    /// [`distrust`]: TokenCache::distrust
    /// [`offer`]: TokenCache::offer
    pub fn get(&self, hash: &TokenHash) -> Lookup {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        match state.entries.get(hash) {
            Some(slotted) => {
                // Written only when it changes: a hot entry's cache line is not
                // written on every hit by every core.
                if !slotted.entry.used.load(Ordering::Relaxed) {
                    slotted.entry.used.store(true, Ordering::Relaxed);
                }
                Lookup::Hit(Arc::clone(&slotted.entry))
            }
            None => Lookup::Miss {
                generation: state.generation,
            },
        }
    }

    /// Caches `entry` unless the cache is untrusted or anything was invalidated since
    /// `generation` was read. A full cache evicts one entry first.
    pub fn offer(&self, generation: u64, hash: TokenHash, entry: Arc<CachedSession>) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if !state.trusted || state.generation != generation {
            return;
        }
        if state.entries.len() >= self.capacity && !state.entries.contains_key(&hash) {
            // Unlike an invalidation, evicting for room does not queue the entry's
            // unwritten use: it is at most one write interval newer than what the
            // database holds (the bound idle timeouts are set well above), and queueing
            // it would turn every insert into a full cache into a write. Nor is it an
            // invalidation: a read in flight is as current as before, so the
            // generation stays and that read may still be cached.
            state.evict_one();
        }
        state.insert(hash, entry);
    }

    /// Drops what `message` says may be stale.
    pub fn invalidate(&self, message: &Invalidation) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        state.generation += 1;
        let dropped = match message {
            Invalidation::User(user_id) => state
                .by_user
                .remove(user_id)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|hash| state.remove(&hash))
                .collect(),
            Invalidation::Everything => state.forget_everything(),
            Invalidation::ApiKeys | Invalidation::Agents => Vec::new(),
        };
        drop(state);
        self.keep_uses_of(dropped);
    }

    /// Stops trusting anything cached: changes may have been missed.
    pub fn distrust(&self) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        state.trusted = false;
        let dropped = state.forget_everything();
        drop(state);
        self.keep_uses_of(dropped);
    }

    /// Starts over empty and trusted; called once the instance hears every change again.
    pub fn resync(&self) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let dropped = state.forget_everything();
        state.trusted = true;
        drop(state);
        self.keep_uses_of(dropped);
    }

    pub fn is_trusted(&self) -> bool {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .trusted
    }

    pub fn len(&self) -> usize {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::domain::id::UserSessionId;
    use crate::domain::user::UserStatus;
    use crate::domain::user_session::Validity;

    fn entry(user: &UserId) -> Arc<CachedSession> {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Arc::new(CachedSession::new(
            SessionValidity::User(Validity {
                session_id: UserSessionId::generate(),
                user_id: user.clone(),
                created_at: at,
                expires_at: at + TimeDelta::hours(1),
                idle_timeout: TimeDelta::minutes(10),
                revoked: None,
                user_status: UserStatus::Active,
            }),
            at,
        ))
    }

    fn generation(cache: &TokenCache, hash: &TokenHash) -> u64 {
        match cache.get(hash) {
            Lookup::Miss { generation } => generation,
            Lookup::Hit(_) => panic!("expected a miss"),
        }
    }

    #[test]
    fn a_lookup_that_raced_an_invalidation_is_not_cached() {
        let cache = TokenCache::new(10, true, Arc::default());
        let user = UserId::generate();
        let hash = TokenHash::of("leash_ust_a");
        let before = generation(&cache, &hash);
        cache.invalidate(&Invalidation::User(user.clone()));
        cache.offer(before, hash, entry(&user));
        assert!(matches!(cache.get(&hash), Lookup::Miss { .. }));
    }

    #[test]
    fn invalidating_a_user_drops_only_their_tokens() {
        let cache = TokenCache::new(10, true, Arc::default());
        let (alice, bob) = (UserId::generate(), UserId::generate());
        let (a, b) = (TokenHash::of("leash_ust_a"), TokenHash::of("leash_ust_b"));
        cache.offer(generation(&cache, &a), a, entry(&alice));
        cache.offer(generation(&cache, &b), b, entry(&bob));
        cache.invalidate(&Invalidation::User(alice));
        assert!(matches!(cache.get(&a), Lookup::Miss { .. }));
        assert!(matches!(cache.get(&b), Lookup::Hit(_)));
    }

    #[test]
    fn an_untrusted_cache_answers_nothing_until_resynchronised() {
        assert!(!TokenCache::new(10, false, Arc::default()).is_trusted());
        let cache = TokenCache::new(10, true, Arc::default());
        let user = UserId::generate();
        let a = TokenHash::of("leash_ust_a");
        cache.offer(generation(&cache, &a), a, entry(&user));
        assert!(cache.is_trusted());
        cache.distrust();
        assert!(!cache.is_trusted());
        assert!(matches!(cache.get(&a), Lookup::Miss { .. }));
        cache.offer(generation(&cache, &a), a, entry(&user));
        assert!(cache.is_empty());
        cache.resync();
        assert!(cache.is_trusted());
        cache.offer(generation(&cache, &a), a, entry(&user));
        assert!(matches!(cache.get(&a), Lookup::Hit(_)));
    }

    #[test]
    fn a_full_cache_evicts_what_was_not_used_and_keeps_what_was() {
        let cache = TokenCache::new(3, true, Arc::default());
        let user = UserId::generate();
        let hash = |name: &str| TokenHash::of(name);
        for name in ["a", "b", "c"] {
            cache.offer(generation(&cache, &hash(name)), hash(name), entry(&user));
        }
        // a and c are in use; b is not.
        assert!(matches!(cache.get(&hash("a")), Lookup::Hit(_)));
        assert!(matches!(cache.get(&hash("c")), Lookup::Hit(_)));
        cache.offer(generation(&cache, &hash("d")), hash("d"), entry(&user));
        assert_eq!(cache.len(), 3);
        assert!(matches!(cache.get(&hash("b")), Lookup::Miss { .. }));
        for name in ["a", "c", "d"] {
            assert!(matches!(cache.get(&hash(name)), Lookup::Hit(_)), "{name}");
        }
        // Invalidating the user still finds every entry left, none that was evicted.
        cache.invalidate(&Invalidation::User(user.clone()));
        assert!(cache.is_empty());
        // A read begun before an eviction is cached after it: eviction is no
        // invalidation.
        let read_before = generation(&cache, &hash("x"));
        for name in ["e", "f", "g", "h"] {
            cache.offer(generation(&cache, &hash(name)), hash(name), entry(&user));
        }
        cache.offer(read_before, hash("x"), entry(&user));
        assert!(matches!(cache.get(&hash("x")), Lookup::Hit(_)));
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn a_working_set_larger_than_the_cache_keeps_its_hot_part() {
        // 100 hot tokens looked up all the time, 5,000 cold ones cached once each, a
        // cache of 200: the hot ones stay cached instead of the cache starting over
        // (which cost them 5,000 misses here).
        let cache = TokenCache::new(200, true, Arc::default());
        let user = UserId::generate();
        let hot: Vec<TokenHash> = (0..100)
            .map(|i| TokenHash::of(&format!("hot{i}")))
            .collect();
        let mut hits = 0;
        for round in 0..1_000 {
            for i in 0..5 {
                let cold = TokenHash::of(&format!("cold{round}-{i}"));
                cache.offer(generation(&cache, &cold), cold, entry(&user));
            }
            for hash in &hot {
                match cache.get(hash) {
                    Lookup::Hit(_) => hits += 1,
                    Lookup::Miss { generation } => cache.offer(generation, *hash, entry(&user)),
                }
            }
        }
        assert!(hits >= 99_800, "{hits} hits of 100,000");
        assert!(cache.len() <= 200);
    }

    #[test]
    fn last_use_is_written_once_per_interval() {
        let user = UserId::generate();
        let cached = entry(&user);
        let start = cached.last_seen_at();
        let interval = LAST_SEEN_WRITE_INTERVAL;
        assert!(!cached.record_use(start + interval / 2));
        assert!(cached.record_use(start + interval + TimeDelta::seconds(1)));
        assert!(!cached.record_use(start + interval + TimeDelta::seconds(2)));
        assert_eq!(
            cached.last_seen_at(),
            start + interval + TimeDelta::seconds(2)
        );
    }

    /// The resync race: a lookup that read the database while the notification
    /// connection was down must not be cached once trust is restored, since a revocation
    /// missed during the outage may be in what it read.
    #[test]
    fn a_lookup_read_during_an_outage_is_not_cached_after_resync() {
        let cache = TokenCache::new(10, true, Arc::default());
        let user = UserId::generate();
        let hash = TokenHash::of("leash_ust_a");
        cache.distrust();
        let during_outage = generation(&cache, &hash);
        cache.resync();
        cache.offer(during_outage, hash, entry(&user));
        assert!(matches!(cache.get(&hash), Lookup::Miss { .. }));
        assert!(cache.is_trusted());
        cache.offer(generation(&cache, &hash), hash, entry(&user));
        assert!(matches!(cache.get(&hash), Lookup::Hit(_)));
    }

    #[test]
    fn a_cache_below_capacity_keeps_every_entry() {
        let cache = TokenCache::new(10, true, Arc::default());
        let user = UserId::generate();
        let hashes: Vec<TokenHash> = (0..10)
            .map(|i| TokenHash::of(&format!("leash_ust_{i}")))
            .collect();
        for hash in &hashes {
            cache.offer(generation(&cache, hash), *hash, entry(&user));
        }
        let hits = hashes
            .iter()
            .filter(|h| matches!(cache.get(h), Lookup::Hit(_)))
            .count();
        assert_eq!(hits, 10, "every offered entry is a hit");
        assert!(!cache.is_empty());
    }

    #[test]
    fn dropped_entries_hand_their_unwritten_use_to_the_buffer() {
        let buffer = Arc::new(LastUseBuffer::default());
        let cache = TokenCache::new(10, true, Arc::clone(&buffer));
        let user = UserId::generate();
        let hash = TokenHash::of("leash_ust_a");
        let cached = entry(&user);
        cache.offer(generation(&cache, &hash), hash, Arc::clone(&cached));
        let used_at = cached.last_seen_at() + TimeDelta::seconds(5);
        assert!(
            !cached.record_use(used_at),
            "within the interval: not written"
        );
        cache.invalidate(&Invalidation::User(user));
        assert_eq!(
            buffer.pending(&cached.validity.own_session()),
            Some(used_at)
        );
    }

    #[test]
    fn dropped_entries_with_every_use_written_hand_over_nothing() {
        let buffer = Arc::new(LastUseBuffer::default());
        let cache = TokenCache::new(10, true, Arc::clone(&buffer));
        let user = UserId::generate();
        let (idle, written) = (entry(&user), entry(&user));
        assert!(written.record_use(written.last_seen_at() + LAST_SEEN_WRITE_INTERVAL));
        for (i, cached) in [&idle, &written].into_iter().enumerate() {
            let hash = TokenHash::of(&format!("leash_ust_{i}"));
            cache.offer(generation(&cache, &hash), hash, Arc::clone(cached));
        }
        cache.invalidate(&Invalidation::User(user));
        assert_eq!(buffer.pending(&idle.validity.own_session()), None);
        assert_eq!(buffer.pending(&written.validity.own_session()), None);
    }
}
