//! The committed JSON Schemas (`schemas/*.json`) and OpenAPI document
//! (`schemas/openapi.json`) must match what the code generates. Run with
//! `LEASH_UPDATE_SCHEMAS=1` to rewrite them after changing a wire type.

use std::fs;
use std::path::PathBuf;

use axum::body::Body;
use axum::http::{Method, StatusCode};

use crate::support::TestApp;

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn generated() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = leash::http::wire::schemas()
        .into_iter()
        .map(|(name, schema)| {
            (
                format!("{name}.json"),
                serde_json::to_string_pretty(&schema).unwrap() + "\n",
            )
        })
        .collect();
    files.push((
        "openapi.json".to_owned(),
        serde_json::to_string_pretty(&leash::http::openapi()).unwrap() + "\n",
    ));
    files
}

#[test]
fn committed_schemas_match_the_code() {
    let dir = schemas_dir();
    let files = generated();
    if std::env::var("LEASH_UPDATE_SCHEMAS").is_ok_and(|v| v == "1") {
        fs::create_dir_all(&dir).unwrap();
        for entry in fs::read_dir(&dir).unwrap() {
            fs::remove_file(entry.unwrap().path()).unwrap();
        }
        for (name, text) in &files {
            fs::write(dir.join(name), text).unwrap();
        }
    }
    let mut stale = Vec::new();
    for (name, text) in &files {
        if fs::read_to_string(dir.join(name)).ok().as_deref() != Some(text.as_str()) {
            stale.push(name.clone());
        }
    }
    let committed = fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}; run `LEASH_UPDATE_SCHEMAS=1 cargo test schemas`"
    );
    assert_eq!(
        committed,
        files.len(),
        "schemas/ holds files the code no longer generates"
    );
}

/// Every `$ref` of the document points at a schema it holds: a client generator reads
/// request and response bodies through them. (`.ci/run` also validates the whole
/// document with `openapi-spec-validator`.)
#[test]
fn every_reference_of_the_openapi_document_resolves() {
    fn refs<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|v| refs(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let document = serde_json::to_value(leash::http::openapi()).unwrap();
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(found.len() > 40, "{} references", found.len());
    for target in found {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{target} points outside the document"));
        assert!(
            document.pointer(pointer).is_some(),
            "{target} resolves to nothing"
        );
    }
}

/// Every operation names how a caller authenticates, with schemes the document defines,
/// except the few that take no Leash credential by design.
#[test]
fn every_operation_declares_its_security_unless_public_by_design() {
    // Discovery; the token and revocation endpoints, where an agent authenticates as an
    // OAuth client in the request itself; and the callback a provider sends a browser
    // to, which the `state` alone identifies.
    let public = [
        "get /.well-known/oauth-authorization-server",
        "post /oauth2/revoke",
        "post /oauth2/token",
        // Authenticated by the Security Event Token's signature, as RFC 8935 has it.
        "post /ssf/events",
        "get /v1/oauth/callback",
    ];
    let document = serde_json::to_value(leash::http::openapi()).unwrap();
    let schemes = document["components"]["securitySchemes"]
        .as_object()
        .unwrap();
    let mut undeclared = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let requirements = operation["security"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for requirement in &requirements {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(
                        schemes.contains_key(scheme),
                        "{method} {path}: {scheme} undefined"
                    );
                }
            }
            if requirements.is_empty() {
                undeclared.push(format!("{method} {path}"));
            }
        }
    }
    assert_eq!(undeclared, public);
}

#[tokio::test]
async fn the_served_openapi_document_is_the_committed_one() {
    let app = TestApp::start().await;
    let answer = app
        .send(Method::GET, "/openapi.json", None, None, Body::empty())
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let committed: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(schemas_dir().join("openapi.json")).unwrap())
            .unwrap();
    assert_eq!(answer.body, committed);
    for path in [
        "/v1/users",
        "/v1/users/{user_id}/sessions",
        "/v1/users/{user_id}/sign-out-everywhere",
        "/oauth2/introspect",
        "/v1/webhook-endpoints",
        "/v1/webhook-endpoints/{endpoint_id}/replay",
        "/v1/audit",
    ] {
        assert!(committed["paths"][path].is_object(), "{path} is documented");
    }
}

#[tokio::test]
async fn revocation_events_match_their_schema() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let agent = app.register_agent("planner", &["a"]).await;
    app.consent(&alice, &agent, &["a"]).await;
    let parent = app.delegate(&agent, &device, None).await;
    app.delegate_from(&agent, &parent.access, None).await;
    app.sign_out_everywhere(&alice, serde_json::json!({})).await;
    let events = leash::store::events::list_after(&app.db, 0, 10)
        .await
        .unwrap();
    assert_eq!(events.len(), 3);
    for event in &events {
        // The payloads are assembled in SQL; the wire types refuse unknown fields.
        let envelope = serde_json::json!({
            "id": event.id, "type": event.event_type, "created_at": event.created_at, "data": event.data,
        });
        match event.event_type.as_str() {
            "user_session.revoked" => {
                serde_json::from_value::<leash::http::wire::events::UserSessionRevokedEvent>(
                    envelope,
                )
                .unwrap();
            }
            "agent_session.revoked" => {
                let parsed = serde_json::from_value::<
                    leash::http::wire::events::AgentSessionRevokedEvent,
                >(envelope)
                .unwrap();
                assert!(!parsed.data.chain.is_empty());
            }
            other => panic!("unexpected event type {other}"),
        }
    }
}

#[tokio::test]
async fn the_webhook_endpoint_disabled_event_matches_its_schema() {
    let app = TestApp::start_with_webhooks().await;
    let (id, _) = app
        .webhook_endpoint(serde_json::json!({ "url": "https://hooks.example.com/" }))
        .await;
    app.post_empty(&format!("/v1/webhook-endpoints/{id}/disable"))
        .await
        .assert_status(StatusCode::OK);
    let listed = app.get("/v1/events?types=webhook_endpoint.disabled").await;
    let event = listed.body["data"][0].clone();
    let parsed =
        serde_json::from_value::<leash::http::wire::webhooks::WebhookEndpointDisabledEvent>(event)
            .unwrap();
    assert_eq!(parsed.data.endpoint_id.as_str(), id);
    assert_eq!(parsed.data.reason, "admin");
}
