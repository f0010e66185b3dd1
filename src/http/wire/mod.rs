//! Wire types: what goes over HTTP and into event payloads. They derive `Serialize` /
//! `Deserialize` and `JsonSchema`, are separate from the domain types, and are converted
//! explicitly. Requests refuse unknown fields.

pub mod events;
pub mod introspection;
pub mod problem;
pub mod revocations;
pub mod user_sessions;
pub mod users;

use schemars::{JsonSchema, Schema, SchemaGenerator};

/// Every type with a committed JSON Schema in `schemas/`, by file stem.
pub fn schemas() -> Vec<(&'static str, Schema)> {
    fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
        generator.root_schema_for::<T>()
    }
    let generator = &mut SchemaGenerator::default();
    vec![
        (
            "CreateUserRequest",
            schema::<users::CreateUserRequest>(generator),
        ),
        ("User", schema::<users::UserBody>(generator)),
        (
            "CreateUserSessionRequest",
            schema::<user_sessions::CreateUserSessionRequest>(generator),
        ),
        (
            "CreatedUserSession",
            schema::<user_sessions::CreatedUserSession>(generator),
        ),
        (
            "UserSession",
            schema::<user_sessions::UserSessionBody>(generator),
        ),
        (
            "UserSessionList",
            schema::<user_sessions::UserSessionList>(generator),
        ),
        (
            "ListUserSessionsQuery",
            schema::<user_sessions::ListUserSessionsQuery>(generator),
        ),
        (
            "RevokeRequest",
            schema::<revocations::RevokeRequest>(generator),
        ),
        (
            "SignOutEverywhereRequest",
            schema::<revocations::SignOutEverywhereRequest>(generator),
        ),
        (
            "CredentialChangedRequest",
            schema::<revocations::CredentialChangedRequest>(generator),
        ),
        (
            "Revocation",
            schema::<revocations::RevocationBody>(generator),
        ),
        (
            "IntrospectionRequest",
            schema::<introspection::IntrospectionRequest>(generator),
        ),
        (
            "IntrospectionResponse",
            schema::<introspection::IntrospectionResponse>(generator),
        ),
        ("Problem", schema::<problem::Problem>(generator)),
        (
            "UserSessionRevokedEvent",
            schema::<events::UserSessionRevokedEvent>(generator),
        ),
    ]
}
