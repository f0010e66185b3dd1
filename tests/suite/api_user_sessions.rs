use std::collections::HashSet;

use axum::http::StatusCode;
use chrono::TimeDelta;
use leash::store;
use serde_json::{Value, json};

use crate::support::TestApp;

#[tokio::test]
async fn a_session_records_its_device_and_shows_its_token_only_once() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let answer = app
        .post(
            &format!("/v1/users/{}/sessions", alice.id),
            json!({ "ip_address": "198.51.100.4", "user_agent": "Safari/18", "ttl_seconds": 3600, "idle_timeout_seconds": 600 }),
        )
        .await;
    let created = answer.assert_status(StatusCode::CREATED).clone();
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("leash_ust_"));
    let session = &created["session"];
    assert_eq!(session["status"], "active");
    assert_eq!(session["ip_address"], "198.51.100.4");
    assert_eq!(session["user_agent"], "Safari/18");
    assert_eq!(session["idle_timeout_seconds"], 600);

    let listed = app.sessions(&alice, "").await;
    assert_eq!(listed["data"][0], *session);
    assert!(
        !listed.to_string().contains(token),
        "a token is never shown again"
    );
    let one = app
        .get(&format!(
            "/v1/user-sessions/{}",
            session["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one.assert_status(StatusCode::OK), session);
}

#[tokio::test]
async fn session_lifetimes_are_checked() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let path = format!("/v1/users/{}/sessions", alice.id);
    for body in [
        json!({ "ttl_seconds": 10 }),
        json!({ "ttl_seconds": 3600, "idle_timeout_seconds": 599 }),
        json!({ "ttl_seconds": 999_999_999 }),
        json!({ "user_agent": "x".repeat(513) }),
    ] {
        app.post(&path, body)
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    }
}

#[tokio::test]
async fn an_idle_timeout_beyond_the_lifetime_is_the_lifetime() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let answer = app
        .post(
            &format!("/v1/users/{}/sessions", alice.id),
            json!({ "ttl_seconds": 3600, "idle_timeout_seconds": 7200 }),
        )
        .await;
    let created = answer.assert_status(StatusCode::CREATED);
    assert_eq!(created["session"]["idle_timeout_seconds"], 3600);
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn listing_pages_through_sessions_newest_first() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(app.sign_in(&alice).await.id);
    }
    created.reverse();

    let mut seen = Vec::new();
    let mut query = "limit=2".to_owned();
    loop {
        let page = app.sessions(&alice, &query).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, created);
}

#[tokio::test]
async fn the_status_filter_separates_live_sessions_from_the_rest() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let short = app.sign_in_with(&alice, json!({ "ttl_seconds": 60 })).await;
    let revoked = app.sign_in(&alice).await;
    let live = app.sign_in(&alice).await;
    app.post_empty(&format!("/v1/user-sessions/{}/revoke", revoked.id))
        .await
        .assert_status(StatusCode::OK);
    app.advance(TimeDelta::seconds(61));

    assert_eq!(
        ids(&app.sessions(&alice, "status=active").await),
        vec![live.id.clone()]
    );
    let all = app.sessions(&alice, "status=all").await;
    let statuses: Vec<(&str, &str)> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (live.id.as_str(), "active"),
            (revoked.id.as_str(), "revoked"),
            (short.id.as_str(), "expired")
        ]
    );
}

#[tokio::test]
async fn revoking_one_session_leaves_the_others_and_is_idempotent() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let phone = app.sign_in(&alice).await;
    let laptop = app.sign_in(&alice).await;

    let revocation = app
        .post(
            &format!("/v1/user-sessions/{}/revoke", phone.id),
            json!({ "reason": "lost phone" }),
        )
        .await;
    let revocation = revocation.assert_status(StatusCode::OK).clone();
    assert_eq!(revocation["cause"], "user_session_revoked");
    assert_eq!(revocation["user_sessions_revoked"], 1);
    assert_eq!(revocation["agent_sessions_revoked"], 0);
    assert!(revocation["id"].as_str().unwrap().starts_with("rev_"));
    assert!(!app.is_active(&phone.token).await);
    assert!(app.is_active(&laptop.token).await);

    let again = app
        .post_empty(&format!("/v1/user-sessions/{}/revoke", phone.id))
        .await;
    assert_eq!(
        again.assert_status(StatusCode::OK)["user_sessions_revoked"],
        0
    );
    app.post_empty("/v1/user-sessions/uss_0123456789abcdef0123456789abcdef/revoke")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "user_session_not_found");
}

#[tokio::test]
async fn sign_out_everywhere_can_spare_the_session_that_asked() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let sessions = [
        app.sign_in(&alice).await,
        app.sign_in(&alice).await,
        app.sign_in(&alice).await,
    ];
    let bobs = app.sign_in(&bob).await;

    let revocation = app
        .sign_out_everywhere(&alice, json!({ "except_session_id": sessions[0].id }))
        .await;
    assert_eq!(revocation["cause"], "sign_out_everywhere");
    assert_eq!(revocation["user_sessions_revoked"], 2);
    assert!(app.is_active(&sessions[0].token).await);
    assert!(!app.is_active(&sessions[1].token).await);
    assert!(!app.is_active(&sessions[2].token).await);
    assert!(
        app.is_active(&bobs.token).await,
        "another user's sessions are untouched"
    );

    let everything = app.sign_out_everywhere(&alice, json!({})).await;
    assert_eq!(everything["user_sessions_revoked"], 1);
    assert!(!app.is_active(&sessions[0].token).await);
}

#[tokio::test]
async fn sparing_a_session_of_another_user_is_refused() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let alices = app.sign_in(&alice).await;
    let bobs = app.sign_in(&bob).await;
    let answer = app
        .post(
            &format!("/v1/users/{}/sign-out-everywhere", alice.id),
            json!({ "except_session_id": bobs.id }),
        )
        .await;
    answer.assert_problem(StatusCode::NOT_FOUND, "user_session_not_found");
    assert!(
        app.is_active(&alices.token).await,
        "a refused act changes nothing"
    );
}

#[tokio::test]
async fn a_password_reset_revokes_with_its_own_cause() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let changer = app.sign_in(&alice).await;
    let other = app.sign_in(&alice).await;
    let answer = app
        .post(
            &format!("/v1/users/{}/credential-changed", alice.id),
            json!({ "except_session_id": changer.id }),
        )
        .await;
    let revocation = answer.assert_status(StatusCode::OK);
    assert_eq!(revocation["cause"], "credential_changed");
    assert_eq!(revocation["user_sessions_revoked"], 1);
    assert!(app.is_active(&changer.token).await);
    assert!(!app.is_active(&other.token).await);
}

#[tokio::test]
async fn every_revocation_writes_its_record_one_audit_entry_and_one_event_per_session() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let sessions = [
        app.sign_in(&alice).await,
        app.sign_in(&alice).await,
        app.sign_in(&alice).await,
    ];
    let revocation = app
        .sign_out_everywhere(&alice, json!({ "reason": "suspicious" }))
        .await;
    let revocation_id = revocation["id"].as_str().unwrap();

    let events = store::events::list_after(&app.db, 0, 100).await.unwrap();
    let revoked: HashSet<String> = events
        .iter()
        .filter(|e| {
            e.event_type == "user_session.revoked" && e.data["revocation_id"] == revocation_id
        })
        .map(|e| {
            assert_eq!(e.data["user_id"], alice.id.as_str());
            assert_eq!(e.data["cause"], "sign_out_everywhere");
            assert_eq!(e.data["session"]["kind"], "user_session");
            assert!(e.data["actor"].as_str().unwrap().starts_with("key_"));
            assert!(e.id.as_str().starts_with("evt_"));
            e.data["session"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(revoked, sessions.iter().map(|s| s.id.clone()).collect());

    let audit = store::audit::list_after(&app.db, 0, 100).await.unwrap();
    let entries: Vec<_> = audit
        .iter()
        .filter(|a| a.revocation_id.as_deref() == Some(revocation_id))
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "user_sessions.revoked");
    assert_eq!(entries[0].target, alice.id);
    assert_eq!(entries[0].cause.as_deref(), Some("sign_out_everywhere"));
    assert!(
        entries[0].request_id.is_some(),
        "the audit entry names the request"
    );

    let listed = app.sessions(&alice, "status=all").await;
    for session in listed["data"].as_array().unwrap() {
        assert_eq!(session["revocation_id"], revocation_id);
        assert_eq!(session["status"], "revoked");
    }
}

#[tokio::test]
async fn a_revocation_reason_is_checked_before_anything_is_revoked() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let session = app.sign_in(&alice).await;
    for reason in ["x".repeat(501), "line\nbreak".to_owned()] {
        let body = json!({ "reason": reason });
        app.post(
            &format!("/v1/user-sessions/{}/revoke", session.id),
            body.clone(),
        )
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        app.post(&format!("/v1/users/{}/sign-out-everywhere", alice.id), body)
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    }
    assert!(app.is_active(&session.token).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_act_whose_caller_hangs_up_still_completes_whole() {
    // An act runs in a task of its own: a caller that goes away (or its deadline) does
    // not stop its transaction half-way, so the revocation it began is done whole.
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let user_id = leash::domain::id::UserId::parse(&alice.id).unwrap();
    let now = leash::clock::Clock::now(&*app.clock);
    let sessions: Vec<_> = (0..20_000)
        .map(|i| leash::store::user_sessions::NewUserSession {
            session: leash::domain::user_session::UserSession {
                id: leash::domain::id::UserSessionId::generate(),
                user_id: user_id.clone(),
                ip_address: None,
                user_agent: None,
                created_at: now,
                last_seen_at: now,
                expires_at: now + TimeDelta::days(1),
                idle_timeout: TimeDelta::hours(1),
                revoked: None,
            },
            token_hash: leash::domain::token::TokenHash::of(&format!("leash_ust_{i}")),
        })
        .collect();
    let mut tx = app.db.begin().await.unwrap();
    store::user_sessions::insert(&mut tx, &sessions)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let path = format!("/v1/users/{}/sign-out-everywhere", alice.id);
    let hung_up =
        tokio::time::timeout(std::time::Duration::from_millis(5), app.post_empty(&path)).await;
    assert!(hung_up.is_err(), "answered before the caller hung up");
    let started = std::time::Instant::now();
    loop {
        let mut tx = app.db.begin().await.unwrap();
        let active = store::user_sessions::count_active(&mut tx, &user_id, now, 1)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        if active == 0 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{active} sessions still active: the act stopped when its caller went away"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
