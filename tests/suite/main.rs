#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

//! The one integration-test binary (every extra binary is another link on a small
//! machine). Runs on SQLite by default and on PostgreSQL when `LEASH_TEST_DATABASE_URL`
//! is set; `.ci/run` runs it both ways.

mod api_agent_sessions;
mod api_agents;
mod api_api_keys;
mod api_cascades;
mod api_connections;
mod api_credentials;
mod api_disconnect;
mod api_discovery;
mod api_errors;
mod api_events;
mod api_grants;
mod api_hostile_input;
mod api_introspection;
mod api_limits;
mod api_me;
mod api_provider_scopes;
mod api_refresh;
mod api_risk_revocations;
mod api_risk_signals;
mod api_token_exchange;
mod api_user_sessions;
mod api_users;
mod api_webhook_endpoints;
mod architecture;
mod audit_chain;
mod browser_account;
mod cli;
mod concurrency;
mod concurrency_revocation;
mod concurrency_vending;
mod declared_patterns;
mod e2e_oidc_provider;
mod encryption_rotation;
mod invalidation_listener;
mod operations;
mod pre_issuance_hook;
mod properties;
mod properties_delegation;
mod properties_preview;
mod properties_webhooks;
mod schemas;
mod secrets_in_logs;
mod self_service_page;
mod ssf_receiver;
mod store_conformance;
mod support;
mod two_instances;
mod upstream_oauth;
mod upstream_revocation_crash;
mod webhooks_delivery;
