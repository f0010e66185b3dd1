//! Rotating the encryption key while the service runs: an instance given the new key
//! (the old one kept as previous) reads everything the old key sealed; `rotate`
//! re-seals every sealed value, resumably; afterwards the old key can be dropped and
//! every connection still vends, refreshes, and is revoked at the provider. An instance
//! whose key set lacks a key the database needs refuses, naming it.

use std::ops::ControlFlow;

use axum::http::StatusCode;
use chrono::TimeDelta;
use leash::secret_box::{EncryptionKey, EncryptionKeys};
use leash::usecase::revoke_upstream_tokens::revoke_due;
use leash::usecase::rotate_encryption::{KeySetRefused, adopt, rotate, under_other_keys};
use leash::usecase::{Settings, UsecaseError};
use serde_json::json;

use crate::support::TestApp;
use crate::support::agents::AgentTokens;
use crate::support::connections::{Carrying, with_provider};
use crate::support::fake_provider::FakeProvider;

fn settings(provider: &FakeProvider, keys: EncryptionKeys) -> Settings {
    with_provider(
        provider.config("acme"),
        Settings {
            encryption_keys: keys,
            ..Settings::default()
        },
    )
}

#[tokio::test]
async fn a_rotation_reseals_everything_while_the_service_runs_and_the_old_key_can_go() {
    let provider = FakeProvider::start().await;
    let (old, new) = (EncryptionKey::generate(), EncryptionKey::generate());
    let before = TestApp::start_with(settings(
        &provider,
        EncryptionKeys::new(old.clone(), Vec::new()),
    ))
    .await;
    adopt(&before.app).await.unwrap();

    // Everything that is ever sealed: a connection's tokens, a webhook signing secret,
    // a disconnect's copies still owed to the provider, an authorization in flight.
    let (alice, session) = before.person("alice").await;
    let back = before
        .connect_granting(&provider, &session, &["repo"])
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let coder = before.register_agent("coder", &["acme:repo"]).await;
    before.consent(&alice, &coder, &["acme:repo"]).await;
    let agent = before.delegate(&coder, &session, None).await;
    let (endpoint, _) = before
        .webhook_endpoint(json!({ "url": "https://receiver.example/hooks" }))
        .await;
    let (bob, bobs_session) = before.person("bob").await;
    before
        .connect_granting(&provider, &bobs_session, &["repo"])
        .await;
    let bobs = before.connections(&bob).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    provider.fail_revocations_of(Some("any"));
    before
        .post_empty(&format!("/v1/connections/{bobs}/disconnect"))
        .await
        .assert_status(StatusCode::OK);
    revoke_due(&before.app).await.unwrap();
    let started = before
        .authorize("", &Carrying::Bearer(&session.token))
        .await;
    assert_eq!(started.status, StatusCode::FOUND);

    // The new key is given to an instance, the old one kept as previous.
    let during = before
        .peer_with(settings(
            &provider,
            EncryptionKeys::new(new.clone(), vec![old.clone()]),
        ))
        .await;
    adopt(&during.app).await.unwrap();
    during
        .vend(&agent.access, "acme")
        .await
        .assert_status(StatusCode::OK);
    let sealed = under_other_keys(&during.app, 100).await.unwrap();
    assert!(sealed >= 6, "{sealed}");

    // Stopped after its first batch, and resumed: what was done is skipped.
    let stopped = rotate(&during.app, 1, |_, _| ControlFlow::Break(()))
        .await
        .unwrap();
    assert!(stopped.is_none());
    assert_eq!(
        under_other_keys(&during.app, 100).await.unwrap(),
        sealed - 1
    );
    during
        .vend(&agent.access, "acme")
        .await
        .assert_status(StatusCode::OK);
    let rotated = rotate(&during.app, 2, |_, _| ControlFlow::Continue(()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rotated.resealed, sealed - 1);
    assert_eq!(rotated.retired, vec![old.id()]);
    assert_eq!(under_other_keys(&during.app, 100).await.unwrap(), 0);

    // An instance still holding only the old key refuses, naming the key it lacks.
    match adopt(&before.app).await {
        Err(UsecaseError::KeySetRefused(KeySetRefused::Missing(ids))) => {
            assert_eq!(ids, vec![new.id()]);
        }
        other => panic!("{other:?}"),
    }

    // The old key dropped: everything still opens.
    let after = before
        .peer_with(settings(
            &provider,
            EncryptionKeys::new(new.clone(), Vec::new()),
        ))
        .await;
    adopt(&after.app).await.unwrap();
    after
        .vend(&agent.access, "acme")
        .await
        .assert_status(StatusCode::OK);
    // The authorization in flight finishes (its PKCE verifier opens).
    let back = provider.consent(started.header("location").unwrap()).await;
    let finished = after.callback(&back, &Carrying::Nothing, None).await;
    assert_eq!(finished.status, StatusCode::OK, "{}", finished.body);

    after.advance(TimeDelta::seconds(3600 - 30));
    let agent = AgentTokens::from_answer(
        after
            .refresh(&coder, &agent.refresh)
            .await
            .assert_status(StatusCode::OK),
    );
    after
        .vend(&agent.access, "acme")
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(provider.refreshes(), 1, "the refresh token opened");
    after
        .post(
            &format!("/v1/webhook-endpoints/{endpoint}/rotate-secret"),
            json!({}),
        )
        .await
        .assert_status(StatusCode::OK);
    provider.fail_revocations_of(None);
    revoke_due(&after.app).await.unwrap();
    let receipt = after.get(&format!("/v1/connections/{bobs}")).await;
    let receipt = &receipt.assert_status(StatusCode::OK)["revocation_receipt"];
    assert!(
        receipt
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "revoked"),
        "{receipt}"
    );
}
