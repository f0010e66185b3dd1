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

use leash::http::wire::connections::CallbackQuery;

use crate::support::TestApp;
use crate::support::connections::{Carrying, app_with};
use crate::support::fake_provider::{CLIENT_SECRET, FakeProvider};

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

/// Runs `scenario` with tracing at `trace` into a buffer; answers the secrets it names
/// and what was logged.
fn traced<F: std::future::Future<Output = Vec<String>>>(
    scenario: impl FnOnce() -> F,
) -> (Vec<String>, String) {
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
    let secrets = runtime.block_on(scenario());
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    (secrets, text)
}

fn assert_absent(secrets: &[String], text: &str) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret ({}…) reached the log",
            &secret[..12.min(secret.len())]
        );
    }
}

#[test]
fn no_connection_secret_reaches_a_trace_log() {
    let (secrets, text) = traced(|| async {
        let provider = FakeProvider::start().await;
        let app = app_with(&provider).await;
        let (alice, session) = app.person("alice").await;
        let back = app
            .consented(&provider, "", &Carrying::Cookie(&session.token))
            .await;
        let callback: CallbackQuery = serde_urlencoded::from_str(&back).unwrap();
        tracing::trace!(?callback, "callback");
        let finished = app
            .callback(&back, &Carrying::Cookie(&session.token), None)
            .await;
        assert_eq!(finished.status, StatusCode::OK, "{}", finished.body);
        let connection = app.connections(&alice).await[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // Vended fresh, then refreshed at the provider first.
        let coder = app.register_agent("coder", &["acme:repo"]).await;
        app.consent(&alice, &coder, &["acme:repo"]).await;
        let agent = app.delegate(&coder, &session, None).await;
        app.vend(&agent.access, "acme")
            .await
            .assert_status(StatusCode::OK);
        app.advance(chrono::TimeDelta::seconds(3600 - 30));
        let agent = crate::support::agents::AgentTokens::from_answer(
            app.refresh(&coder, &agent.refresh)
                .await
                .assert_status(StatusCode::OK),
        );
        app.vend(&agent.access, "acme")
            .await
            .assert_status(StatusCode::OK);
        assert_eq!(provider.refreshes(), 1);
        app.post_empty(&format!("/v1/connections/{connection}/disconnect"))
            .await
            .assert_status(StatusCode::OK);
        leash::usecase::revoke_upstream_tokens::revoke_due(&app.app)
            .await
            .unwrap();
        let mut secrets: Vec<String> = url::form_urlencoded::parse(back.as_bytes())
            .filter(|(name, _)| name == "state" || name == "code")
            .map(|(_, value)| value.into_owned())
            .collect();
        assert_eq!(secrets.len(), 2);
        secrets.push(session.token);
        secrets.push(agent.access);
        secrets.push(agent.refresh);
        secrets.push(CLIENT_SECRET.to_owned());
        secrets.extend(provider.issued_tokens());
        secrets
    });
    assert!(
        text.contains("CallbackQuery"),
        "the callback was not logged"
    );
    assert_absent(&secrets, &text);
}

#[test]
fn no_secret_reaches_a_trace_log() {
    let (secrets, text) = traced(|| async {
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
    assert!(text.contains("requests"), "nothing was captured");
    assert!(
        text.contains("TokenRequest"),
        "the requests were not logged"
    );
    assert_absent(&secrets, &text);
}

#[test]
fn no_secret_reaches_a_trace_log_or_the_pre_issuance_hook() {
    use crate::support::issuance_hook::{Answer, Hook, TOKEN};
    let (secrets, text) = traced(|| async {
        let hook = Hook::start(Answer::allow()).await;
        let app = TestApp::start_with(hook.settings(
            leash::domain::issuance_hook::FailurePolicy::FailClosed,
            std::time::Duration::from_secs(5),
        ))
        .await;
        tracing::trace!(settings = ?app.app.settings, "settings");
        let alice = app.create_user("alice").await;
        let device = app.sign_in(&alice).await;
        let agent = app.register_agent("planner", &["a"]).await;
        app.consent(&alice, &agent, &["a"]).await;
        let tokens = app.delegate(&agent, &device, None).await;
        let child = app.delegate_from(&agent, &tokens.access, None).await;
        let secrets = vec![
            TOKEN.to_owned(),
            device.token,
            agent.secret,
            tokens.access,
            tokens.refresh,
            child.access,
            child.refresh,
        ];
        // What the hook is sent names sessions, never their tokens.
        let sent = format!("{:?}", hook.received());
        assert_absent(&secrets[1..], &sent);
        secrets
    });
    assert!(
        text.contains("IssuanceHook"),
        "the settings were not logged"
    );
    assert_absent(&secrets, &text);
}
