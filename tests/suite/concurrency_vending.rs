//! Credential vending under concurrency. Two instances on one database vend one
//! expiring credential fifty times at once (in one process, each instance with its own
//! pools and batches, on both engines; and as two `leash serve` processes on
//! PostgreSQL): the provider is asked for exactly one refresh, and every caller gets
//! its token. And a disconnect racing vends and exchanges: once it has returned, no
//! vend that starts hands anything out, and no agent session holding the provider's
//! scopes is left active. The races happen on PostgreSQL; SQLite serialises writers.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::json;
use tokio::sync::Barrier;

use crate::support::TestDatabase;
use crate::support::agents::AgentTokens;
use crate::support::connections::app_with;
use crate::support::database::postgres_url;
use crate::support::fake_provider::FakeProvider;
use crate::support::invariants::escapees;
use crate::support::serve::{Admin, Instance};

const CALLERS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_vends_on_two_instances_refresh_an_expiring_token_once() {
    let provider = FakeProvider::start().await;
    let one = Arc::new(app_with(&provider).await);
    let two = Arc::new(one.peer().await);
    let (alice, session) = one.person("alice").await;
    let back = one.connect_granting(&provider, &session, &["repo"]).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let coder = one.register_agent("coder", &["acme:repo"]).await;
    one.consent(&alice, &coder, &["acme:repo"]).await;
    let mut sessions = Vec::new();
    for _ in 0..CALLERS / 5 {
        sessions.push(one.delegate(&coder, &session, None).await);
    }
    let before = one.vend(&sessions[0].access, "acme").await.body["access_token"].clone();

    one.advance(TimeDelta::seconds(3600 - 30));
    // Agent access tokens live fifteen minutes: give each caller a fresh one.
    let mut fresh: Vec<AgentTokens> = Vec::new();
    for held in &sessions {
        let answer = one.refresh(&coder, &held.refresh).await;
        fresh.push(AgentTokens::from_answer(
            answer.assert_status(StatusCode::OK),
        ));
    }
    provider.delay_refreshes(Duration::from_millis(300));
    let barrier = Arc::new(Barrier::new(CALLERS));
    let mut callers = Vec::new();
    for caller in 0..CALLERS {
        let instance = if caller % 2 == 0 { &one } else { &two };
        let instance = Arc::clone(instance);
        let token = fresh[caller % fresh.len()].access.clone();
        let barrier = Arc::clone(&barrier);
        callers.push(tokio::spawn(async move {
            barrier.wait().await;
            instance.vend(&token, "acme").await
        }));
    }
    let mut handed = Vec::new();
    for caller in callers {
        let answer = caller.await.unwrap();
        handed.push(answer.assert_status(StatusCode::OK)["access_token"].clone());
    }
    assert_eq!(provider.refreshes(), 1, "one refresh for every caller");
    assert_ne!(handed[0], before);
    assert!(handed.iter().all(|t| *t == handed[0]), "{handed:?}");
    assert!(provider.is_active(handed[0].as_str().unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_vends_on_two_leash_processes_refresh_an_expiring_token_once() {
    if postgres_url().is_none() {
        eprintln!(
            "two leash processes share PostgreSQL only; this test runs in the PostgreSQL suite"
        );
        return;
    }
    let provider = FakeProvider::start().await;
    // The first token lives 30 s: inside the minute's margin, so the first vends refresh.
    provider.first_tokens_expire_in(30);
    let database = TestDatabase::fresh().await;
    let url = database.url();
    let dir = tempfile::tempdir().unwrap();
    let config = provider.config_file(dir.path()).display().to_string();
    let env = [("LEASH_CONFIG", config.as_str())];
    let admin = Admin::of(&url);
    let one = Instance::start(&url, &env).await;
    let two = Instance::start(&url, &env).await;
    let (user, session, _) = admin.connected_person(&one, &provider, "alice").await;
    let agent = admin
        .post(
            &one,
            "/v1/agents",
            json!({ "name": "coder", "scopes": ["acme:repo"] }),
        )
        .await;
    let agent_id = agent["client_id"].as_str().unwrap().to_owned();
    admin
        .post(
            &one,
            &format!("/v1/users/{user}/grants"),
            json!({ "agent_id": agent_id, "scopes": ["acme:repo"] }),
        )
        .await;
    let mut tokens = Vec::new();
    for _ in 0..CALLERS / 5 {
        let minted = admin
            .post(
                &one,
                &format!("/v1/users/{user}/agent-sessions"),
                json!({ "agent_id": agent_id, "scopes": ["acme:repo"], "user_session_id": session }),
            )
            .await;
        tokens.push(minted["access_token"].as_str().unwrap().to_owned());
    }
    provider.delay_refreshes(Duration::from_millis(300));
    let barrier = Arc::new(Barrier::new(CALLERS));
    let mut callers = Vec::new();
    for caller in 0..CALLERS {
        let base = if caller % 2 == 0 {
            &one.base
        } else {
            &two.base
        };
        let url = format!("{base}/v1/credentials");
        let token = tokens[caller % tokens.len()].clone();
        let barrier = Arc::clone(&barrier);
        let http = admin.http.clone();
        callers.push(tokio::spawn(async move {
            barrier.wait().await;
            let answer = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "provider": "acme" }))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
            answer.json::<serde_json::Value>().await.unwrap()["access_token"].clone()
        }));
    }
    let mut handed = Vec::new();
    for caller in callers {
        handed.push(caller.await.unwrap());
    }
    assert_eq!(provider.refreshes(), 1, "one refresh for both processes");
    assert!(handed.iter().all(|t| *t == handed[0]), "{handed:?}");
    assert!(provider.is_active(handed[0].as_str().unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_disconnect_racing_vends_and_exchanges_leaves_nothing_handed_out_after_it() {
    for round in 0..3 {
        race(round).await;
    }
}

async fn race(round: usize) {
    let provider = FakeProvider::start().await;
    let app = Arc::new(app_with(&provider).await);
    let (alice, session) = app.person(&format!("alice-{round}")).await;
    let back = app.connect_granting(&provider, &session, &["repo"]).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let connection = app.connections(&alice).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let coder = Arc::new(app.register_agent("coder", &["acme:repo"]).await);
    app.consent(&alice, &coder, &["acme:repo"]).await;
    let root = app.delegate(&coder, &session, None).await;
    let disconnected = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for worker in 0..6 {
        let (app, coder, session, root, disconnected) = (
            Arc::clone(&app),
            Arc::clone(&coder),
            session.clone(),
            root.access.clone(),
            Arc::clone(&disconnected),
        );
        workers.push(tokio::spawn(async move {
            for _ in 0..15 {
                let after = disconnected.load(std::sync::atomic::Ordering::SeqCst);
                let answer = if worker % 2 == 0 {
                    app.vend(&root, "acme").await
                } else {
                    let issued = app
                        .exchange(&coder, &session.token, Some("acme:repo"))
                        .await;
                    match issued.body["access_token"].as_str() {
                        Some(access) => app.vend(access, "acme").await,
                        None => issued,
                    }
                };
                assert!(!answer.status.is_server_error(), "{}", answer.body);
                assert!(
                    !(after && answer.status.is_success()),
                    "handed out after the disconnect returned: {}",
                    answer.body
                );
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    app.post_empty(&format!("/v1/connections/{connection}/disconnect"))
        .await
        .assert_status(StatusCode::OK);
    disconnected.store(true, std::sync::atomic::Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }
    let escaped = escapees(&app, &alice).await;
    assert!(escaped.is_empty(), "{escaped:#?}");
}
