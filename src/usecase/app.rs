//! What every use case needs: the database, the clock, the caches and the settings.

use std::sync::Arc;

use crate::cache::last_use::LastUseBuffer;
use crate::cache::tokens::TokenCache;
use crate::cache::verified::{AgentCache, ApiKeyCache};
use crate::clock::Clock;
use crate::domain::invalidation::Invalidation;
use crate::store::{Backend, Db};
use crate::usecase::group_commit::GroupCommit;
use crate::usecase::issuance_batch::IssuanceBatch;
use crate::usecase::issuance_rate::IssuanceRate;
use crate::usecase::metrics::Counters;
use crate::usecase::settings::Settings;
use crate::usecase::vend_credential::VendBatch;

#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub tokens: Arc<TokenCache>,
    /// Last uses of sessions waiting to be written.
    pub last_use: Arc<LastUseBuffer>,
    /// Keys already verified against the database.
    pub api_keys: Arc<ApiKeyCache>,
    /// Agents' client credentials verified before, by client id.
    pub agents: Arc<AgentCache>,
    pub settings: Arc<Settings>,
    /// Token exchanges waiting to be issued together (SQLite).
    pub issuance: Arc<IssuanceBatch>,
    /// Credential requests waiting to be judged together.
    pub vends: Arc<VendBatch>,
    /// Counters of webhook delivery and revocations, for `/metrics`.
    pub counters: Counters,
    /// Each agent's issuance rate.
    pub issuance_rate: Arc<IssuanceRate>,
}

impl App {
    /// Drops what `message` says may be stale from this instance's caches.
    pub fn invalidate(&self, message: &Invalidation) {
        match message {
            Invalidation::ApiKeys => self.api_keys.forget(),
            Invalidation::Agents => self.agents.forget(),
            other => self.tokens.invalidate(other),
        }
    }

    /// Empties the caches and trusts them again, once the instance hears every change.
    pub fn resync(&self) {
        self.api_keys.resync();
        self.agents.resync();
        self.tokens.resync();
    }

    /// Stops trusting anything cached: changes may have been missed.
    pub fn distrust(&self) {
        self.api_keys.distrust();
        self.agents.distrust();
        self.tokens.distrust();
    }

    /// On PostgreSQL the token cache starts untrusted: the invalidation listener trusts
    /// it once it hears every other instance (`crate::workers::invalidation_listener`).
    pub fn new(db: Db, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        let trusted = db.backend() == Backend::Sqlite;
        // SQLite writes one transaction at a time; on PostgreSQL one batch is planned
        // while another commits (more lanes made batches smaller, not issuance faster).
        let lanes = if trusted { 1 } else { 2 };
        let last_use = Arc::new(LastUseBuffer::default());
        Self {
            tokens: Arc::new(TokenCache::new(
                settings.token_cache_capacity,
                trusted,
                Arc::clone(&last_use),
            )),
            db,
            clock,
            api_keys: Arc::new(ApiKeyCache::new(trusted)),
            agents: Arc::new(AgentCache::new(trusted)),
            last_use,
            issuance: Arc::new(GroupCommit::new(lanes)),
            vends: Arc::new(GroupCommit::new(lanes)),
            counters: Counters::default(),
            issuance_rate: Arc::new(IssuanceRate::new(
                settings.limits.issuance_per_agent_per_second,
            )),
            settings: Arc::new(settings),
        }
    }
}
