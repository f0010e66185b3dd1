use axum::body::Body;
use axum::http::{Method, StatusCode};
use chrono::TimeDelta;
use leash::domain::api_key::Role;
use leash::domain::id::UserSessionId;
use leash::domain::user_session::LAST_SEEN_WRITE_INTERVAL;
use leash::store;
use serde_json::json;

use crate::support::{TestApp, epoch};

#[tokio::test]
async fn an_active_token_introspects_with_its_user_session_and_expiry() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let session = app
        .sign_in_with(&alice, json!({ "ttl_seconds": 3600 }))
        .await;
    let key = app.key(Role::Introspect).await;
    let answer = app.introspect_with(&key, &session.token).await;
    let body = answer.assert_status(StatusCode::OK);
    assert_eq!(body["active"], true);
    assert_eq!(body["sub"], alice.id.as_str());
    assert_eq!(body["session_id"], session.id.as_str());
    assert_eq!(body["session_kind"], "user_session");
    assert_eq!(body["iat"], epoch().timestamp());
    assert_eq!(body["exp"], epoch().timestamp() + 3600);
}

#[tokio::test]
async fn unknown_and_garbage_tokens_are_inactive() {
    let app = TestApp::start().await;
    for token in [
        "",
        "leash_ust_nope",
        "not a token at all",
        &"x".repeat(4000),
    ] {
        assert!(!app.is_active(token).await, "{token:?}");
    }
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_expiry_even_when_used() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let session = app
        .sign_in_with(
            &alice,
            json!({ "ttl_seconds": 1200, "idle_timeout_seconds": 600 }),
        )
        .await;
    for _ in 0..3 {
        app.advance(TimeDelta::seconds(399));
        assert!(app.is_active(&session.token).await);
    }
    app.advance(TimeDelta::seconds(3));
    assert!(!app.is_active(&session.token).await);
}

#[tokio::test]
async fn the_idle_timeout_slides_with_use() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let session = app
        .sign_in_with(
            &alice,
            json!({ "ttl_seconds": 86400, "idle_timeout_seconds": 600 }),
        )
        .await;
    app.advance(TimeDelta::seconds(500));
    assert!(app.is_active(&session.token).await);
    app.advance(TimeDelta::seconds(500));
    assert!(
        app.is_active(&session.token).await,
        "used 500 s ago, within the 600 s idle timeout"
    );
    app.advance(TimeDelta::seconds(600));
    assert!(!app.is_active(&session.token).await);
}

#[tokio::test]
async fn last_use_reaches_the_database_at_most_once_per_write_interval() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let session = app.sign_in(&alice).await;
    let id = UserSessionId::parse(&session.id).unwrap();
    let last_seen = || async {
        store::user_sessions::get(&app.db, &id)
            .await
            .unwrap()
            .unwrap()
            .last_seen_at
    };
    let interval = LAST_SEEN_WRITE_INTERVAL;

    for _ in 0..4 {
        app.advance(interval / 5);
        assert!(app.is_active(&session.token).await);
    }
    assert_eq!(
        last_seen().await,
        epoch(),
        "no write within the first interval"
    );
    app.advance(interval / 5 + TimeDelta::seconds(1));
    assert!(app.is_active(&session.token).await);
    leash::usecase::record_last_use::flush(&app.app)
        .await
        .unwrap();
    assert_eq!(
        last_seen().await,
        epoch() + interval + TimeDelta::seconds(1)
    );
}

#[tokio::test]
async fn the_last_use_writer_records_use_without_being_asked() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let session = app.sign_in(&alice).await;
    let id = UserSessionId::parse(&session.id).unwrap();
    app.advance(TimeDelta::seconds(61));
    let answer = app.introspect_with(&app.admin_key, &session.token).await;
    assert_eq!(answer.assert_status(StatusCode::OK)["active"], true);
    let expected = epoch() + TimeDelta::seconds(61);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while store::user_sessions::get(&app.db, &id)
        .await
        .unwrap()
        .unwrap()
        .last_seen_at
        != expected
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker never wrote last use"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_cached_token_is_inactive_as_soon_as_the_revoke_returns() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let session = app.sign_in(&alice).await;
    for _ in 0..3 {
        assert!(app.is_active(&session.token).await);
    }
    app.sign_out_everywhere(&alice, json!({})).await;
    assert!(!app.is_active(&session.token).await);
}

#[tokio::test]
async fn introspection_needs_an_introspect_or_admin_key() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let session = app.sign_in(&alice).await;
    let form = || Body::from(format!("token={}", session.token));
    let form_type = Some("application/x-www-form-urlencoded");

    app.send(Method::POST, "/oauth2/introspect", None, form_type, form())
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "missing_credentials");
    app.send(
        Method::POST,
        "/oauth2/introspect",
        Some("leash_ak_wrong"),
        form_type,
        form(),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    let risk = app.key(Role::Risk).await;
    app.send(
        Method::POST,
        "/oauth2/introspect",
        Some(&risk),
        form_type,
        form(),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "wrong_role");
    let introspect = app.key(Role::Introspect).await;
    assert_eq!(
        app.introspect_with(&introspect, &session.token)
            .await
            .assert_status(StatusCode::OK)["active"],
        true
    );
    // An introspect key is for introspection only.
    app.send(
        Method::GET,
        &format!("/v1/users/{}", alice.id),
        Some(&introspect),
        None,
        Body::empty(),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "wrong_role");
}

#[tokio::test]
async fn a_malformed_introspection_request_is_a_problem() {
    let app = TestApp::start().await;
    let key = app.admin_key.clone();
    let post = |content_type: &'static str, body: &'static str| {
        app.send(
            Method::POST,
            "/oauth2/introspect",
            Some(&key),
            Some(content_type),
            Body::from(body),
        )
    };
    post("application/x-www-form-urlencoded", "nothing=here")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_request");
    post("application/json", "{\"token\":\"x\"}")
        .await
        .assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let ignored = post(
        "application/x-www-form-urlencoded",
        "token=leash_ust_x&token_type_hint=access_token&extra=1",
    )
    .await;
    assert_eq!(
        ignored.assert_status(StatusCode::OK)["active"],
        false,
        "unknown parameters are ignored, as OAuth asks"
    );
}

/// A use not yet written when a cache invalidation drops its entry still counts: the
/// session is not judged idle from the older `last_seen_at` in the database.
#[tokio::test]
async fn a_recent_use_survives_a_cache_invalidation() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let device = app
        .sign_in_with(
            &alice,
            json!({ "ttl_seconds": 86400, "idle_timeout_seconds": 600 }),
        )
        .await;
    let other = app.sign_in(&alice).await;
    assert!(app.is_active(&device.token).await);
    app.advance(TimeDelta::seconds(570));
    assert!(app.is_active(&device.token).await); // written behind
    leash::usecase::record_last_use::flush(&app.app)
        .await
        .unwrap();
    app.advance(TimeDelta::seconds(30));
    assert!(app.is_active(&device.token).await); // used at 600, not yet written
    // Revoking another session of Alice's drops her cached tokens.
    app.post_empty(&format!("/v1/user-sessions/{}/revoke", other.id))
        .await
        .assert_status(StatusCode::OK);
    app.advance(TimeDelta::seconds(590));
    assert!(
        app.is_active(&device.token).await,
        "used 590 s ago with a 600 s idle timeout, yet judged idle"
    );
    leash::usecase::record_last_use::flush(&app.app)
        .await
        .unwrap();
    app.advance(TimeDelta::seconds(601));
    assert!(!app.is_active(&device.token).await);
}
