//! What an instance keeps in memory between requests: tokens already judged, API keys
//! and agents' client credentials already verified, and last uses waiting to be
//! written. Each is emptied by the invalidation messages of
//! `crate::domain::invalidation` and trusted only while the instance hears every other
//! one.

pub mod last_use;
pub mod tokens;
pub mod verified;
