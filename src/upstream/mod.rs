//! Calls out of Leash: the webhook sender (later, upstream OAuth providers). Nothing
//! here opens a transaction; use cases call it between theirs.

pub mod webhook_sender;
