//! One function per user-visible act. Each opens its transaction, writes the state
//! change with its audit entry and outbox events, commits once, and only then touches
//! in-process caches. None holds a transaction across an upstream call.

pub mod agent_sessions;
pub mod agents;
pub mod api_keys;
mod app;
pub mod audit;
pub mod connections;
pub mod create_api_key;
pub mod create_grant;
pub mod create_user;
pub mod create_webhook_endpoint;
pub mod delegate_to_agent;
pub mod delete_webhook_endpoint;
pub mod deliver_webhooks;
pub mod disable_agent;
pub mod enable_agent;
mod error;
pub mod events;
pub mod finish_connection;
pub mod grants;
pub mod introspect;
pub mod issuance_batch;
pub mod issuance_rate;
pub mod metrics;
pub mod prune_authorizations;
pub mod prune_events;
pub mod readiness;
pub mod record_last_use;
pub mod refresh_agent_session;
pub mod register_agent;
pub mod replay_webhook_events;
pub mod revocations;
pub mod revoke_agent_session;
pub mod revoke_api_key;
pub mod revoke_grant;
mod revoke_sessions;
pub mod revoke_user_session;
pub mod rotate_agent_secret;
pub mod rotate_webhook_secret;
pub mod seal_audit;
pub mod set_user_status;
mod settings;
pub mod sign_in;
pub mod sign_out_everywhere;
pub mod start_connection;
pub mod update_agent;
pub mod update_grant;
pub mod update_webhook_endpoint;
pub mod user_sessions;
pub mod users;
pub mod webhook_endpoints;

pub use app::App;
pub use error::UsecaseError;
pub use settings::{Settings, WebhookSettings};
