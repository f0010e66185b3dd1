//! Secrets never print: every request and response type that carries one is logged at
//! `trace` (as a careless `?request` would), and every act that handles one runs with
//! tracing at `trace`; no secret appears in what was written.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use leash::http::wire::introspection::IntrospectionRequest;
use leash::http::wire::oauth::{TokenRequest, TokenRevocationRequest};
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

use crate::support::TestApp;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn form<T: serde::de::DeserializeOwned>(pairs: &[(&str, &str)]) -> T {
    serde_urlencoded::from_str(&serde_urlencoded::to_string(pairs).unwrap()).unwrap()
}

#[test]
fn no_secret_reaches_a_trace_log() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let secrets = runtime.block_on(async {
        let app = TestApp::start_with_webhooks().await;
        let alice = app.create_user("alice").await;
        let device = app.sign_in(&alice).await;
        let agent = app.register_agent("planner", &["a", "b"]).await;
        app.consent(&alice, &agent, &["a", "b"]).await;
        let tokens = app.delegate(&agent, &device, Some("a b")).await;
        let child = app.delegate_from(&agent, &tokens.access, Some("a")).await;
        let refreshed = app.refresh(&agent, &tokens.refresh).await;
        refreshed.assert_status(StatusCode::OK);
        let minted = app
            .post(
                &format!("/v1/users/{}/agent-sessions", alice.id),
                json!({ "agent_id": agent.id, "user_session_id": device.id, "scopes": ["a"] }),
            )
            .await;
        minted.assert_status(StatusCode::CREATED);
        let (_, webhook_secret) = app
            .webhook_endpoint(json!({ "url": "http://127.0.0.1:9/hook" }))
            .await;
        app.introspect(&child.access).await;
        app.oauth("/oauth2/revoke", &agent, &[("token", &child.refresh)])
            .await;

        // The request types themselves, as a `?request` in a log line would print them.
        let token_request: TokenRequest = form(&[
            ("grant_type", "refresh_token"),
            ("subject_token", &device.token),
            ("refresh_token", &tokens.refresh),
            ("actor_token", &tokens.access),
            ("client_secret", &agent.secret),
        ]);
        let revocation: TokenRevocationRequest =
            form(&[("token", &tokens.refresh), ("client_secret", &agent.secret)]);
        let introspection: IntrospectionRequest = form(&[("token", &child.access)]);
        tracing::trace!(?token_request, ?revocation, ?introspection, "requests");

        vec![
            app.admin_key.clone(),
            device.token,
            agent.secret,
            tokens.access,
            tokens.refresh,
            child.access,
            child.refresh,
            refreshed.body["access_token"].as_str().unwrap().to_owned(),
            refreshed.body["refresh_token"].as_str().unwrap().to_owned(),
            minted.body["access_token"].as_str().unwrap().to_owned(),
            minted.body["refresh_token"].as_str().unwrap().to_owned(),
            webhook_secret,
        ]
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("requests"), "nothing was captured");
    assert!(
        text.contains("TokenRequest"),
        "the requests were not logged"
    );
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret ({}…) reached the log",
            &secret[..12.min(secret.len())]
        );
    }
}
