//! Calls out of Leash: the webhook sender (later, upstream OAuth providers). Nothing
//! here opens a transaction; use cases call it between theirs.

pub mod guarded_client;
pub mod webhook_sender;
