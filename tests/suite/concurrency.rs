//! Races between acts on one user: the user-row lock (PostgreSQL) or the write lock
//! (SQLite) must order them, so no session survives an act that should have killed it.

use std::sync::Arc;

use axum::http::StatusCode;
use leash::domain::id::UserId;
use leash::domain::pagination::ListFilter;
use leash::store;
use serde_json::json;

use crate::support::TestApp;
use crate::support::agents::AgentTokens;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_sign_in_racing_a_disable_survives_it() {
    let app = Arc::new(TestApp::start().await);
    for round in 0..5 {
        let user = app.create_user(&format!("racer-{round}")).await;
        let signers: Vec<_> = (0..4)
            .map(|_| {
                let (app, user) = (Arc::clone(&app), user.clone());
                tokio::spawn(async move {
                    let mut created = 0;
                    for _ in 0..10 {
                        let answer = app
                            .post(&format!("/v1/users/{}/sessions", user.id), json!({}))
                            .await;
                        match answer.status {
                            StatusCode::CREATED => created += 1,
                            _ => answer.assert_problem(StatusCode::CONFLICT, "user_disabled"),
                        }
                    }
                    created
                })
            })
            .collect();
        tokio::task::yield_now().await;
        let disabled = app
            .post_empty(&format!("/v1/users/{}/disable", user.id))
            .await;
        disabled.assert_status(StatusCode::OK);
        let mut created = 0;
        for signer in signers {
            created += signer.await.unwrap();
        }

        let user_id = UserId::parse(&user.id).unwrap();
        let now = app.app.clock.now();
        let sessions =
            store::user_sessions::list(&app.db, &user_id, ListFilter::All, now, None, 200)
                .await
                .unwrap();
        assert_eq!(sessions.len(), created, "every 201 stored a session");
        assert!(
            sessions.iter().all(|s| s.revoked.is_some()),
            "round {round}: a session created before the disable committed survived it"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_out_racing_sign_ins_spares_none_older_than_one_it_revoked() {
    let app = Arc::new(TestApp::start().await);
    let user = app.create_user("alice").await;
    let signers: Vec<_> = (0..4)
        .map(|_| {
            let (app, user) = (Arc::clone(&app), user.clone());
            tokio::spawn(async move {
                let mut tokens = Vec::new();
                for _ in 0..10 {
                    tokens.push(app.sign_in(&user).await.token);
                }
                tokens
            })
        })
        .collect();
    tokio::task::yield_now().await;
    let revocation = app.sign_out_everywhere(&user, json!({})).await;
    let mut revoked_total = 0;
    for signer in signers {
        // One signer signs in one session after another: the sign-out must cut its
        // sequence once, revoked before the cut and active after. An active session
        // followed by a revoked one would be an older session that survived.
        let mut states = Vec::new();
        for token in signer.await.unwrap() {
            states.push(app.is_active(&token).await);
        }
        let cut = states
            .iter()
            .position(|active| *active)
            .unwrap_or(states.len());
        assert!(
            states[cut..].iter().all(|active| *active),
            "an older session survived: {states:?}"
        );
        revoked_total += cut;
    }
    assert_eq!(
        revocation["user_sessions_revoked"], revoked_total,
        "the answer counts exactly what it revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_delegation_racing_a_sign_out_survives_it() {
    let app = Arc::new(TestApp::start().await);
    for round in 0..3 {
        let user = app.create_user(&format!("delegator-{round}")).await;
        let device = app.sign_in(&user).await;
        let agent = app
            .register_agent(&format!("agent-{round}"), &["a", "b"])
            .await;
        app.consent(&user, &agent, &["a", "b"]).await;
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (app, agent, subject) = (Arc::clone(&app), agent.clone(), device.token.clone());
                tokio::spawn(async move {
                    // Exchange from the user, sub-delegate from that, refresh it; again.
                    let mut issued = 0;
                    for _ in 0..8 {
                        let answer = app.exchange(&agent, &subject, None).await;
                        if answer.status != StatusCode::OK {
                            answer.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                            continue;
                        }
                        issued += 1;
                        let parent = AgentTokens::from_answer(&answer.body);
                        let child = app.exchange(&agent, &parent.access, Some("a")).await;
                        match child.status {
                            StatusCode::OK => issued += 1,
                            _ => child.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
                        }
                        let refreshed = app.refresh(&agent, &parent.refresh).await;
                        if refreshed.status != StatusCode::OK {
                            refreshed.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                        }
                    }
                    issued
                })
            })
            .collect();
        tokio::task::yield_now().await;
        let revocation = app.sign_out_everywhere(&user, json!({})).await;
        let mut issued = 0;
        for worker in workers {
            issued += worker.await.unwrap();
        }
        let user_id = UserId::parse(&user.id).unwrap();
        let now = app.app.clock.now();
        let sessions =
            store::agent_sessions::list(&app.db, &user_id, ListFilter::All, now, None, 200)
                .await
                .unwrap();
        assert_eq!(sessions.len(), issued, "every 200 stored a session");
        // Every session descends from the signed-out device: none may be active, so no
        // exchange that began from a revoked subject succeeded after the sign-out.
        assert!(
            sessions.iter().all(|(s, _)| s.revoked.is_some()),
            "round {round}: an agent session survived the sign-out"
        );
        assert_eq!(revocation["agent_sessions_revoked"], issued);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_exchanges_are_each_answered_on_their_own_merits() {
    // More requests at once than the pool has connections: an exchange must not need a
    // second connection while its transaction holds one.
    let app = Arc::new(TestApp::start().await);
    let user = app.create_user("busy").await;
    let device = app.sign_in(&user).await;
    let agent = app.register_agent("busy-agent", &["a"]).await;
    let stranger = app.register_agent("no-consent", &["a"]).await;
    app.consent(&user, &agent, &["a"]).await;
    // Refusals in the same batches (on SQLite, concurrent exchanges are written
    // together) are answered alone and take nothing down with them.
    let workers: Vec<_> = (0..32)
        .map(|i| {
            let (app, subject) = (Arc::clone(&app), device.token.clone());
            let (agent, refused) = if i % 4 == 0 {
                (stranger.clone(), true)
            } else {
                (agent.clone(), false)
            };
            tokio::spawn(async move {
                for _ in 0..3 {
                    let answer = app.exchange(&agent, &subject, None).await;
                    if refused {
                        answer.assert_oauth_error(StatusCode::BAD_REQUEST, "consent_required");
                    } else {
                        assert!(
                            app.is_active(
                                &AgentTokens::from_answer(answer.assert_status(StatusCode::OK))
                                    .access
                            )
                            .await
                        );
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_following_the_event_cursor_during_concurrent_revocations_misses_none() {
    let app = Arc::new(TestApp::start().await);
    let mut users = Vec::new();
    for i in 0..12 {
        let user = app.create_user(&format!("cursor-{i}")).await;
        for _ in 0..3 {
            app.sign_in(&user).await;
        }
        users.push(user);
    }
    // Revokers on four tasks while a reader follows the cursor as a consumer would.
    let revokers: Vec<_> = users
        .chunks(3)
        .map(|chunk| {
            let (app, chunk) = (Arc::clone(&app), chunk.to_vec());
            tokio::spawn(async move {
                for user in chunk {
                    app.sign_out_everywhere(&user, json!({})).await;
                }
            })
        })
        .collect();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let done = revokers.iter().all(tokio::task::JoinHandle::is_finished);
        loop {
            let path = match &cursor {
                Some(after) => format!("/v1/events?limit=5&after={after}"),
                None => "/v1/events?limit=5".to_owned(),
            };
            let page = app.get(&path).await.assert_status(StatusCode::OK).clone();
            seen.extend(
                page["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["id"].as_str().unwrap().to_owned()),
            );
            if let Some(next) = page["next_cursor"].as_str() {
                cursor = Some(next.to_owned());
            }
            if page["has_more"] == false {
                break;
            }
        }
        if done {
            break;
        }
        tokio::task::yield_now().await;
    }
    for revoker in revokers {
        revoker.await.unwrap();
    }
    let all = store::events::list_after(&app.db, 0, 1000).await.unwrap();
    assert_eq!(all.len(), 36);
    let mut seen_sorted = seen.clone();
    seen_sorted.sort();
    seen_sorted.dedup();
    assert_eq!(seen_sorted.len(), seen.len(), "no event read twice");
    assert_eq!(
        seen.len(),
        36,
        "every event read, none skipped by the cursor"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_exchange_under_a_user_held_for_update_waits_alone_and_holds_up_no_one_else() {
    // Concurrent exchanges are issued in batches; on PostgreSQL one whose user is held
    // for update (a revocation under way) leaves the batch and waits on its own.
    // SQLite takes no row locks: its writers are serialised whole.
    let app = Arc::new(TestApp::start().await);
    let leash::store::Db::Postgres(pool) = &app.db else {
        eprintln!("row locks are PostgreSQL's; this test runs in the PostgreSQL suite");
        return;
    };
    let agent = app.register_agent("planner", &["a"]).await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let alices = app.sign_in(&alice).await;
    let bobs = app.sign_in(&bob).await;
    app.consent(&alice, &agent, &["a"]).await;
    app.consent(&bob, &agent, &["a"]).await;

    let mut revoker = pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
        .bind(alice.id.as_str())
        .execute(&mut *revoker)
        .await
        .unwrap();
    // More of alice's exchanges, one after another, than batches run at once.
    let mut held = Vec::new();
    for _ in 0..4 {
        let (app, agent, token) = (Arc::clone(&app), agent.clone(), alices.token.clone());
        held.push(tokio::spawn(async move {
            app.exchange(&agent, &token, None).await
        }));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for _ in 0..3 {
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            app.exchange(&agent, &bobs.token, None),
        )
        .await
        .expect("bob's exchange waited for alice's row");
        answer.assert_status(StatusCode::OK);
    }
    assert!(
        held.iter().all(|exchange| !exchange.is_finished()),
        "an exchange of alice's did not wait for the lock"
    );
    revoker.rollback().await.unwrap();
    for exchange in held {
        exchange.await.unwrap().assert_status(StatusCode::OK);
    }
}
