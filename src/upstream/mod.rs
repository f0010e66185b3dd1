//! Calls out of Leash: the webhook sender, the upstream OAuth providers, the Shared
//! Signals transmitters' keys and poll endpoints, and the pre-issuance hook. Nothing here
//! opens a transaction; use cases call it between theirs.

pub mod guarded_client;
pub mod issuance_hook;
pub mod oauth_provider;
pub mod ssf_transmitter;
pub mod webhook_sender;
