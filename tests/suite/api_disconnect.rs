//! Disconnecting a provider: every agent session that could use it dies in the same
//! transaction, the tokens are destroyed at Leash, and the provider is asked to revoke
//! them, retried until it answers, with a receipt.

use axum::http::StatusCode;
use chrono::TimeDelta;
use leash::http::wire::connections::{
    ConnectionDisconnectedEvent, ConnectionUpstreamRevokedEvent, ReceiptStatusBody,
};
use leash::usecase::revoke_upstream_tokens::revoke_due;
use serde_json::Value;

use crate::support::connections::{app_with, app_with_config};
use crate::support::database;
use crate::support::fake_provider::FakeProvider;

fn receipt_of(connection: &Value) -> Vec<(String, String)> {
    connection["revocation_receipt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["token"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(token: &str, status: &str) -> (String, String) {
    (token.to_owned(), status.to_owned())
}

#[tokio::test]
async fn a_disconnect_revokes_every_session_that_could_use_the_provider_and_the_tokens_there() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let connection = app.connect(&provider, &alice, &session).await;
    let coder = app
        .register_agent("coder", &["acme:repo", "calendar.read"])
        .await;
    let helper = app.register_agent("helper", &["calendar.read"]).await;
    app.consent(&alice, &coder, &["acme:repo", "calendar.read"])
        .await;
    app.consent(&alice, &helper, &["calendar.read"]).await;
    let with_acme = app
        .delegate(&coder, &session, Some("acme:repo calendar.read"))
        .await;
    let below = app
        .delegate_from(&helper, &with_acme.access, Some("calendar.read"))
        .await;
    let without_acme = app.delegate(&coder, &session, Some("calendar.read")).await;
    let path = format!("/v1/connections/{connection}/disconnect");

    let dry = app.post_empty(&format!("{path}?dry_run=true")).await;
    let dry = dry.assert_status(StatusCode::OK);
    assert_eq!(dry["would_revoke"]["agent_sessions"], 2, "{dry}");
    assert_eq!(dry["would_revoke"]["user_sessions"], 0);
    assert!(dry.get("revocation").is_none());
    assert_eq!(dry["connection"]["status"], "connected");
    assert!(
        app.is_active(&with_acme.access).await,
        "a dry run changes nothing"
    );

    let upstream_tokens = provider.issued_tokens();
    let done = app.post_empty(&path).await;
    let done = done.assert_status(StatusCode::OK);
    assert_eq!(done["revocation"]["cause"], "integration_disconnected");
    assert_eq!(done["revocation"]["agent_sessions_revoked"], 2);
    assert_eq!(done["connection"]["status"], "disconnected");
    assert_eq!(
        receipt_of(&done["connection"]),
        [
            pair("refresh_token", "pending"),
            pair("access_token", "pending")
        ]
    );
    assert!(!app.is_active(&with_acme.access).await);
    assert!(!app.is_active(&below.access).await, "descendants go too");
    assert!(
        app.is_active(&without_acme.access).await,
        "no acme scope, untouched"
    );
    assert!(
        app.is_active(&session.token).await,
        "the person stays signed in"
    );
    let wiped = database::text_of(
        &app.db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM connections \
         WHERE access_token_sealed IS NULL AND refresh_token_sealed IS NULL",
    )
    .await;
    assert_eq!(wiped, "1", "the connection's tokens are destroyed");

    assert_eq!(revoke_due(&app.app).await.unwrap(), 2);
    let hints: Vec<String> = provider
        .revocations()
        .into_iter()
        .map(|(_, hint)| hint)
        .collect();
    assert_eq!(hints, ["refresh_token", "access_token"]);
    for token in &upstream_tokens {
        assert!(
            !provider.is_active(token),
            "{token} still works at the provider"
        );
    }
    let after = app.get(&format!("/v1/connections/{connection}")).await;
    let after = after.assert_status(StatusCode::OK);
    assert_eq!(
        receipt_of(after),
        [
            pair("refresh_token", "revoked"),
            pair("access_token", "revoked")
        ]
    );
    let copies = database::text_of(
        &app.db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM upstream_revocations WHERE token_sealed IS NOT NULL",
    )
    .await;
    assert_eq!(copies, "0", "the copies go once the provider confirmed");

    let again = app.post_empty(&path).await;
    let again = again.assert_status(StatusCode::OK);
    assert!(again.get("revocation").is_none(), "{again}");
    assert_eq!(receipt_of(&again["connection"]), receipt_of(after));
    let events = app
        .get("/v1/events?types=connection.disconnected,connection.upstream_revoked")
        .await;
    let events = events.assert_status(StatusCode::OK)["data"].clone();
    assert_eq!(events.as_array().unwrap().len(), 2, "{events}");
    let disconnected: ConnectionDisconnectedEvent =
        serde_json::from_value(events[0].clone()).unwrap();
    assert_eq!(disconnected.r#type, "connection.disconnected");
    assert_eq!(disconnected.data.connection_id.as_str(), connection);
    assert_eq!(
        disconnected.data.revocation_id.as_str(),
        done["revocation"]["id"].as_str().unwrap()
    );
    assert!(
        disconnected
            .data
            .revocation_receipt
            .iter()
            .all(|r| r.status == ReceiptStatusBody::Pending)
    );
    let upstream: ConnectionUpstreamRevokedEvent =
        serde_json::from_value(events[1].clone()).unwrap();
    assert!(
        upstream
            .data
            .revocation_receipt
            .iter()
            .all(|r| r.status == ReceiptStatusBody::Revoked)
    );
    let audit = app.get("/v1/audit?action=connection.disconnected").await;
    assert_eq!(
        audit.assert_status(StatusCode::OK)["data"][0]["target"],
        connection
    );
}

#[tokio::test]
async fn a_provider_that_does_not_answer_is_asked_again_and_the_refresh_token_goes_regardless() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let connection = app.connect(&provider, &alice, &session).await;
    provider.fail_revocations_of(Some("access_token"));
    app.post_empty(&format!("/v1/connections/{connection}/disconnect"))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(revoke_due(&app.app).await.unwrap(), 2);
    let read = || async {
        let answer = app.get(&format!("/v1/connections/{connection}")).await;
        answer.assert_status(StatusCode::OK).clone()
    };
    let now = read().await;
    assert_eq!(
        receipt_of(&now),
        [
            pair("refresh_token", "revoked"),
            pair("access_token", "pending")
        ]
    );
    let access = &now["revocation_receipt"][1];
    assert_eq!(access["attempts"], 1);
    assert!(
        access["last_answer"]
            .as_str()
            .unwrap()
            .contains("could not be reached")
    );
    assert!(access["next_attempt_at"].is_string());
    assert_eq!(
        revoke_due(&app.app).await.unwrap(),
        0,
        "not due before its time"
    );

    // The provider comes back before the retries run out.
    provider.fail_revocations_of(None);
    app.advance(TimeDelta::seconds(6));
    assert_eq!(revoke_due(&app.app).await.unwrap(), 1);
    assert_eq!(
        receipt_of(&read().await),
        [
            pair("refresh_token", "revoked"),
            pair("access_token", "revoked")
        ]
    );
}

#[tokio::test]
async fn a_provider_that_never_answers_ends_failed_with_its_last_answer() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let connection = app.connect(&provider, &alice, &session).await;
    provider.fail_revocations_of(Some("any"));
    app.post_empty(&format!("/v1/connections/{connection}/disconnect"))
        .await
        .assert_status(StatusCode::OK);
    let mut rounds = 0;
    loop {
        revoke_due(&app.app).await.unwrap();
        rounds += 1;
        let answer = app.get(&format!("/v1/connections/{connection}")).await;
        let statuses: Vec<(String, String)> = receipt_of(answer.assert_status(StatusCode::OK));
        if statuses.iter().all(|(_, status)| status == "failed") {
            let body = answer.body;
            assert_eq!(body["revocation_receipt"][0]["attempts"], 9);
            assert!(body["revocation_receipt"][0]["last_answer"].is_string());
            break;
        }
        assert!(rounds < 20, "still {statuses:?}");
        app.advance(TimeDelta::days(1));
    }
    assert_eq!(rounds, 9);
    let copies = database::text_of(
        &app.db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM upstream_revocations WHERE token_sealed IS NOT NULL",
    )
    .await;
    assert_eq!(copies, "0");
}

#[tokio::test]
async fn a_provider_without_a_revocation_endpoint_gets_a_receipt_saying_so() {
    let provider = FakeProvider::start().await;
    let mut config = provider.config("acme");
    config.revocation_url = None;
    let app = app_with_config(config).await;
    let (alice, session) = app.person("alice").await;
    let connection = app.connect(&provider, &alice, &session).await;
    let done = app
        .post_empty(&format!("/v1/connections/{connection}/disconnect"))
        .await;
    assert_eq!(
        receipt_of(&done.assert_status(StatusCode::OK)["connection"]),
        [
            pair("refresh_token", "not_supported"),
            pair("access_token", "not_supported")
        ]
    );
    assert_eq!(revoke_due(&app.app).await.unwrap(), 0);
    assert!(provider.revocations().is_empty());
    let events = app
        .get("/v1/events?types=connection.upstream_revoked")
        .await;
    let events = &events.assert_status(StatusCode::OK)["data"];
    assert_eq!(
        events.as_array().unwrap().len(),
        1,
        "final at once: {events}"
    );
}

#[tokio::test]
async fn a_worker_that_dies_after_leasing_leaves_the_revocation_to_the_next() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let connection = app.connect(&provider, &alice, &session).await;
    app.post_empty(&format!("/v1/connections/{connection}/disconnect"))
        .await
        .assert_status(StatusCode::OK);
    // A worker leases both rows, then dies before asking.
    let now = app.clock_now();
    let mut tx = app.db.begin().await.unwrap();
    let leased = leash::store::upstream_revocations::lease_due(
        &mut tx,
        now,
        now + TimeDelta::seconds(60),
        32,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(leased.len(), 2);
    assert_eq!(revoke_due(&app.app).await.unwrap(), 0, "held by the lease");
    app.advance(TimeDelta::seconds(61));
    assert_eq!(revoke_due(&app.app).await.unwrap(), 2);
    assert_eq!(provider.revocations().len(), 2);
}

#[tokio::test]
async fn disconnecting_what_does_not_exist_is_a_404_and_needs_an_admin_key() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let missing = app
        .post_empty("/v1/connections/con_0123456789abcdef0123456789abcdef/disconnect")
        .await;
    missing.assert_problem(StatusCode::NOT_FOUND, "connection_not_found");
    let malformed = app.post_empty("/v1/connections/nope/disconnect").await;
    malformed.assert_problem(StatusCode::NOT_FOUND, "connection_not_found");
    let introspect = app.key(leash::domain::api_key::Role::Introspect).await;
    let refused = app
        .send(
            axum::http::Method::POST,
            "/v1/connections/con_0123456789abcdef0123456789abcdef/disconnect",
            Some(&introspect),
            None,
            axum::body::Body::empty(),
        )
        .await;
    refused.assert_problem(StatusCode::FORBIDDEN, "wrong_role");
}

/// Whether `needle` occurs in `haystack`.
fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn no_upstream_token_is_in_the_database_files_or_a_dump_at_any_step() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let connection = app.connect(&provider, &alice, &session).await;
    let scan = |step: &str| {
        let raw = app.database.raw_bytes();
        assert!(holds(&raw, &connection), "the scan sees the rows ({step})");
        for token in provider.issued_tokens() {
            assert!(!holds(&raw, &token), "{token} in plain text ({step})");
        }
    };
    scan("connected");
    app.post_empty(&format!("/v1/connections/{connection}/disconnect"))
        .await
        .assert_status(StatusCode::OK);
    scan("disconnected, the provider not yet asked");
    revoke_due(&app.app).await.unwrap();
    scan("revoked at the provider");
}
