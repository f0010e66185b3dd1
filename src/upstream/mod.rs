//! Calls out of Leash: the webhook sender, the upstream OAuth providers and the Shared
//! Signals transmitters' keys and poll endpoints. Nothing here
//! opens a transaction; use cases call it between theirs.

pub mod guarded_client;
pub mod oauth_provider;
pub mod ssf_transmitter;
pub mod webhook_sender;
