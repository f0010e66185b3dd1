//! Calls out of Leash: the webhook sender and the upstream OAuth providers. Nothing here
//! opens a transaction; use cases call it between theirs.

pub mod guarded_client;
pub mod oauth_provider;
pub mod webhook_sender;
