//! One module per resource, each with its own `router()`. Handlers extract, call one use
//! case, and convert.

pub mod agent_sessions;
pub mod agents;
pub mod api_keys;
pub mod audit;
pub mod connections;
pub mod credentials;
pub mod discovery;
pub mod events;
pub mod grants;
pub mod introspection;
pub mod me;
pub mod oauth;
pub mod operations;
pub mod revocations;
pub mod risk;
pub mod ssf;
pub mod user_sessions;
pub mod users;
pub mod webhook_endpoints;
