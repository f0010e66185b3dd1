//! Wire types: what goes over HTTP and into event payloads. They derive `Serialize` /
//! `Deserialize` and `JsonSchema`, are separate from the domain types, and are converted
//! explicitly. Requests refuse unknown fields.

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
pub mod login_links;
pub mod oauth;
pub mod pagination;
pub mod problem;
pub mod revocations;
pub mod risk;
pub mod scopes;
pub mod user_sessions;
pub mod users;
pub mod webhooks;

use schemars::{JsonSchema, Schema, SchemaGenerator};

/// Every type with a committed JSON Schema in `schemas/`, by file stem.
pub fn schemas() -> Vec<(&'static str, Schema)> {
    // A fresh generator per type, so each file holds only the definitions it uses.
    fn schema<T: JsonSchema>() -> Schema {
        SchemaGenerator::default().into_root_schema_for::<T>()
    }
    vec![
        ("CreateUserRequest", schema::<users::CreateUserRequest>()),
        ("User", schema::<users::UserBody>()),
        (
            "CreateUserSessionRequest",
            schema::<user_sessions::CreateUserSessionRequest>(),
        ),
        (
            "CreatedUserSession",
            schema::<user_sessions::CreatedUserSession>(),
        ),
        ("UserSession", schema::<user_sessions::UserSessionBody>()),
        (
            "UserSessionList",
            schema::<user_sessions::UserSessionList>(),
        ),
        (
            "ListUserSessionsQuery",
            schema::<user_sessions::ListUserSessionsQuery>(),
        ),
        (
            "CreateLoginLinkRequest",
            schema::<login_links::CreateLoginLinkRequest>(),
        ),
        ("LoginLink", schema::<login_links::LoginLinkBody>()),
        ("RevokeRequest", schema::<revocations::RevokeRequest>()),
        (
            "SignOutEverywhereRequest",
            schema::<revocations::SignOutEverywhereRequest>(),
        ),
        (
            "CredentialChangedRequest",
            schema::<revocations::CredentialChangedRequest>(),
        ),
        ("Revocation", schema::<revocations::RevocationBody>()),
        (
            "IntrospectionRequest",
            schema::<introspection::IntrospectionRequest>(),
        ),
        (
            "IntrospectionResponse",
            schema::<introspection::IntrospectionResponse>(),
        ),
        ("Problem", schema::<problem::Problem>()),
        ("Connection", schema::<connections::ConnectionBody>()),
        ("ConnectionList", schema::<connections::ConnectionList>()),
        ("AuthorizeQuery", schema::<connections::AuthorizeQuery>()),
        ("CallbackQuery", schema::<connections::CallbackQuery>()),
        (
            "ConnectionDisconnectedEvent",
            schema::<connections::ConnectionDisconnectedEvent>(),
        ),
        (
            "ConnectionUpstreamRevokedEvent",
            schema::<connections::ConnectionUpstreamRevokedEvent>(),
        ),
        (
            "ConnectionNeedsReauthorizationEvent",
            schema::<credentials::ConnectionNeedsReauthorizationEvent>(),
        ),
        ("VendRequest", schema::<credentials::VendRequest>()),
        ("Credential", schema::<credentials::CredentialBody>()),
        ("PageQuery", schema::<pagination::PageQuery>()),
        (
            "RegisterAgentRequest",
            schema::<agents::RegisterAgentRequest>(),
        ),
        ("Agent", schema::<agents::AgentBody>()),
        ("AgentCredentials", schema::<agents::AgentCredentials>()),
        ("AgentList", schema::<agents::AgentList>()),
        ("CreateGrantRequest", schema::<grants::CreateGrantRequest>()),
        ("Grant", schema::<grants::GrantBody>()),
        ("GrantList", schema::<grants::GrantList>()),
        (
            "UserSessionRevokedEvent",
            schema::<events::UserSessionRevokedEvent>(),
        ),
        (
            "AgentSessionRevokedEvent",
            schema::<events::AgentSessionRevokedEvent>(),
        ),
        // What Leash sends its pre-issuance hook, and what the hook answers.
        (
            "PreIssuanceHookRequest",
            schema::<crate::domain::issuance_hook::HookRequest>(),
        ),
        (
            "PreIssuanceHookAnswer",
            schema::<crate::domain::issuance_hook::HookAnswer>(),
        ),
        ("UpdateAgentRequest", schema::<agents::UpdateAgentRequest>()),
        ("UpdatedAgent", schema::<agents::UpdatedAgent>()),
        ("UpdateGrantRequest", schema::<grants::UpdateGrantRequest>()),
        ("UpdatedGrant", schema::<grants::UpdatedGrant>()),
        (
            "MintAgentSessionRequest",
            schema::<agent_sessions::MintAgentSessionRequest>(),
        ),
        (
            "MintedAgentSession",
            schema::<agent_sessions::MintedAgentSession>(),
        ),
        ("AgentSession", schema::<agent_sessions::AgentSessionBody>()),
        (
            "AgentSessionList",
            schema::<agent_sessions::AgentSessionList>(),
        ),
        ("TokenRequest", schema::<oauth::TokenRequest>()),
        ("TokenResponse", schema::<oauth::TokenResponse>()),
        (
            "TokenRevocationRequest",
            schema::<oauth::TokenRevocationRequest>(),
        ),
        ("OAuthError", schema::<oauth::OAuthErrorBody>()),
        ("ListEventsQuery", schema::<events::ListEventsQuery>()),
        ("EventList", schema::<events::EventList>()),
        (
            "WebhookEndpointDisabledEvent",
            schema::<webhooks::WebhookEndpointDisabledEvent>(),
        ),
        (
            "CreateWebhookEndpointRequest",
            schema::<webhooks::CreateWebhookEndpointRequest>(),
        ),
        (
            "UpdateWebhookEndpointRequest",
            schema::<webhooks::UpdateWebhookEndpointRequest>(),
        ),
        ("WebhookEndpoint", schema::<webhooks::WebhookEndpointBody>()),
        (
            "WebhookEndpointWithSecret",
            schema::<webhooks::WebhookEndpointWithSecret>(),
        ),
        (
            "WebhookEndpointList",
            schema::<webhooks::WebhookEndpointList>(),
        ),
        (
            "RotateWebhookSecretRequest",
            schema::<webhooks::RotateWebhookSecretRequest>(),
        ),
        ("ReplayRequest", schema::<webhooks::ReplayRequest>()),
        ("ReplayQueued", schema::<webhooks::ReplayQueued>()),
        (
            "WebhookAttemptList",
            schema::<webhooks::WebhookAttemptList>(),
        ),
        ("ListAuditQuery", schema::<audit::ListAuditQuery>()),
        ("AuditList", schema::<audit::AuditList>()),
    ]
}
