//! Leash: a credential broker for AI agents. See `ARCHITECTURE.md` for the map.

pub mod cache;
pub mod cli;
pub mod clock;
pub mod domain;
pub mod http;
pub mod private_file;
pub mod secret_box;
pub mod store;
pub mod upstream;
pub mod usecase;
pub mod workers;
