//! Leash: a credential broker for AI agents. See `ARCHITECTURE.md` for the map.

pub mod api_key_cache;
pub mod app;
pub mod cli;
pub mod clock;
pub mod delivery_metrics;
pub mod domain;
pub mod http;
pub mod instance_lock;
pub mod last_use_buffer;
pub mod private_file;
pub mod secret_box;
pub mod store;
pub mod token_cache;
pub mod upstream;
pub mod usecase;
pub mod workers;
