//! The rules of Leash, with no IO and no clock: time is always a parameter.
//!
//! Nothing here may import `sqlx`, `axum`, `tokio` or `oauth2` (a test in
//! `tests/suite/architecture.rs` enforces it). Use cases in `crate::usecase` load state
//! through `crate::store`, ask these types what the rules say, and write the result back.

pub mod actor;
pub mod agent;
pub mod agent_session;
pub mod api_key;
pub mod audit;
pub mod client_ip;
pub mod connection;
pub mod credential;
pub mod csrf;
pub mod device;
pub mod event;
pub mod grant;
pub mod id;
pub mod invalidation;
pub mod ip_range;
pub mod issuance_hook;
pub mod limits;
pub mod network;
pub mod pagination;
pub mod provider;
pub mod revocation;
pub mod risk_policy;
pub mod risk_selector;
pub mod risk_signal;
pub mod scope;
pub mod secret;
pub mod session;
pub mod ssf;
pub mod text;
pub mod token;
pub mod user;
pub mod user_session;
pub mod webhook;
