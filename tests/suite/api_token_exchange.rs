//! The token endpoint: RFC 8693 exchange from a user session and sub-delegation, and
//! every refusal, as an agent runtime sees them.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use chrono::TimeDelta;
use leash::usecase::Settings;
use serde_json::json;

use crate::support::TestApp;
use crate::support::agents::{ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, form};

#[tokio::test]
async fn a_user_delegates_and_the_resource_server_sees_who_acts_for_whom() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let planner = app
        .register_agent("planner", &["calendar.read", "calendar.write", "mail.send"])
        .await;
    app.consent(&alice, &planner, &["calendar.read", "calendar.write"])
        .await;

    let answer = app
        .exchange(&planner, &device.token, Some("calendar.read"))
        .await;
    let body = answer.assert_status(StatusCode::OK);
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN_TYPE);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "calendar.read");
    let access = body["access_token"].as_str().unwrap();
    assert!(access.starts_with("leash_at_"));
    assert!(
        body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("leash_rt_")
    );

    let seen = app.introspect(access).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["sub"], alice.id.as_str());
    assert_eq!(seen["client_id"], planner.id.as_str());
    assert_eq!(seen["scope"], "calendar.read");
    assert_eq!(seen["session_kind"], "agent_session");
    assert!(seen["session_id"].as_str().unwrap().starts_with("ags_"));
    assert_eq!(seen["act"], json!({ "sub": planner.id }));

    // Without a scope, the agent gets all it may hold: grant ∩ ceiling.
    let all = app.delegate(&planner, &device, None).await;
    assert_eq!(all.scope, "calendar.read calendar.write");
}

#[tokio::test]
async fn a_sub_delegation_narrows_and_shows_the_chain_nearest_actor_first() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let planner = app.register_agent("planner", &["a", "b", "c"]).await;
    let booker = app.register_agent("booker", &["a", "b", "c"]).await;
    app.consent(&alice, &planner, &["a", "b"]).await;
    app.consent(&alice, &booker, &["a", "b", "c"]).await;
    let parent = app.delegate(&planner, &device, Some("a b")).await;

    // The child may not exceed its parent, even where its own grant allows more.
    let escalation = app.exchange(&booker, &parent.access, Some("a c")).await;
    escalation.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    assert!(
        escalation.body["error_description"]
            .as_str()
            .unwrap()
            .ends_with(": c")
    );

    let child = app.delegate_from(&booker, &parent.access, Some("a")).await;
    let seen = app.introspect(&child.access).await;
    assert_eq!(seen["client_id"], booker.id.as_str());
    assert_eq!(seen["sub"], alice.id.as_str());
    assert_eq!(
        seen["act"],
        json!({ "sub": booker.id, "act": { "sub": planner.id } })
    );
    let defaulted = app.delegate_from(&booker, &parent.access, None).await;
    assert_eq!(defaulted.scope, "a b");
}

#[tokio::test]
async fn chains_stop_at_the_configured_depth() {
    let app = TestApp::start_with(Settings {
        delegation_depth_limit: 2,
        ..Settings::default()
    })
    .await;
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let agent = app.register_agent("relay", &["a"]).await;
    app.consent(&alice, &agent, &["a"]).await;
    let first = app.delegate(&agent, &device, None).await;
    let second = app.delegate_from(&agent, &first.access, None).await;
    app.exchange(&agent, &second.access, None)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_child_never_outlives_its_parent_and_an_expired_parent_delegates_nothing() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    // The user session lives two minutes: everything under it must too.
    let device = app
        .sign_in_with(&alice, json!({ "ttl_seconds": 120 }))
        .await;
    let agent = app.register_agent("planner", &["a"]).await;
    app.consent(&alice, &agent, &["a"]).await;
    let answer = app.exchange(&agent, &device.token, None).await;
    assert_eq!(answer.assert_status(StatusCode::OK)["expires_in"], 120);
    let tokens = app.delegate(&agent, &device, None).await;
    app.advance(TimeDelta::seconds(121));
    assert!(!app.is_active(&tokens.access).await);
    app.exchange(&agent, &tokens.access, None)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    app.exchange(&agent, &device.token, None)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn the_token_endpoint_refuses_each_bad_request_as_rfc_6749_says() {
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let planner = app.register_agent("planner", &["a", "b"]).await;
    let stranger = app.register_agent("stranger", &["a"]).await;
    app.consent(&alice, &planner, &["a"]).await;

    // Wrong secret: 401 with the scheme to use.
    let mut wrong = planner.clone();
    wrong.secret = "leash_cs_wrong".to_owned();
    let answer = app.exchange(&wrong, &device.token, None).await;
    answer.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!(
        answer.www_authenticate.as_deref(),
        Some("Basic realm=\"leash\"")
    );
    // No credentials at all.
    let params = form(&[
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", &device.token),
        ("subject_token_type", ACCESS_TOKEN_TYPE),
    ]);
    let send = |authorization: Option<String>, content_type: &'static str, body: String| {
        app.send_authorized(
            Method::POST,
            "/oauth2/token",
            authorization,
            Some(content_type),
            Body::from(body),
        )
    };
    send(None, "application/x-www-form-urlencoded", params.clone())
        .await
        .assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    // client_secret_post works; both methods at once do not.
    let posted = format!(
        "{params}&{}",
        form(&[
            ("client_id", &planner.id),
            ("client_secret", &planner.secret)
        ])
    );
    send(None, "application/x-www-form-urlencoded", posted.clone())
        .await
        .assert_status(StatusCode::OK);
    send(
        Some(planner.basic()),
        "application/x-www-form-urlencoded",
        posted,
    )
    .await
    .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    // Malformed bodies: JSON instead of a form, a repeated parameter, a missing one.
    send(Some(planner.basic()), "application/json", "{}".to_owned())
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    send(
        Some(planner.basic()),
        "application/x-www-form-urlencoded",
        format!("{params}&scope=a&scope=b"),
    )
    .await
    .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    app.oauth(
        "/oauth2/token",
        &planner,
        &[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
        ],
    )
    .await
    .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    app.oauth(
        "/oauth2/token",
        &planner,
        &[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &device.token),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
        ],
    )
    .await
    .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    // Unknown grant types.
    for grant_type in ["password", "client_credentials", ""] {
        app.oauth("/oauth2/token", &planner, &[("grant_type", grant_type)])
            .await
            .assert_oauth_error(
                StatusCode::BAD_REQUEST,
                if grant_type.is_empty() {
                    "invalid_request"
                } else {
                    "unsupported_grant_type"
                },
            );
    }
    // No grant for this agent; scopes beyond the grant; a bad scope string; junk subject.
    app.exchange(&stranger, &device.token, None)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "consent_required");
    app.exchange(&planner, &device.token, Some("a b"))
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    app.exchange(&planner, &device.token, Some("a  b"))
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    app.exchange(&planner, "leash_ust_not-a-token", None)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    // A disabled agent cannot authenticate.
    app.post_empty(&format!("/v1/agents/{}/disable", planner.id))
        .await
        .assert_status(StatusCode::OK);
    app.exchange(&planner, &device.token, None)
        .await
        .assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
}

#[tokio::test]
async fn an_agent_verified_before_a_rotation_or_an_enable_is_judged_by_the_change_at_once() {
    // Verified client credentials are remembered; every change to the agent forgets
    // them before it is answered.
    let app = TestApp::start().await;
    let alice = app.create_user("alice").await;
    let device = app.sign_in(&alice).await;
    let mut planner = app.register_agent("planner", &["a"]).await;
    app.consent(&alice, &planner, &["a"]).await;
    app.delegate(&planner, &device, None).await;

    let rotated = app
        .post_empty(&format!("/v1/agents/{}/rotate-secret", planner.id))
        .await;
    let rotated = rotated.assert_status(StatusCode::OK);
    app.exchange(&planner, &device.token, None)
        .await
        .assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    rotated["client_secret"]
        .as_str()
        .unwrap()
        .clone_into(&mut planner.secret);
    app.delegate(&planner, &device, None).await;

    app.post_empty(&format!("/v1/agents/{}/disable", planner.id))
        .await
        .assert_status(StatusCode::OK);
    app.exchange(&planner, &device.token, None)
        .await
        .assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    app.post_empty(&format!("/v1/agents/{}/enable", planner.id))
        .await
        .assert_status(StatusCode::OK);
    app.delegate(&planner, &device, None).await;
}
