//! Connecting an upstream provider, against a provider over TLS: the person's session
//! starts it, the provider's redirect finishes it, the tokens are stored sealed, and
//! every refusal stores nothing.

use axum::http::StatusCode;
use chrono::TimeDelta;

use crate::support::connections::{Carrying, app_with, get};
use crate::support::fake_provider::{FakeProvider, TokenMode};
use crate::support::{database, urlencode};

#[tokio::test]
async fn connecting_stores_what_the_provider_granted_with_its_tokens_sealed() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let started = app
        .authorize(
            "?scopes=repo%20read%3Auser",
            &Carrying::Bearer(&session.token),
        )
        .await;
    assert_eq!(started.status, StatusCode::FOUND, "{}", started.body);
    let location = started.header("location").unwrap();
    assert!(location.starts_with(&format!("{}/authorize?", provider.base)));
    assert!(location.contains("code_challenge_method=S256"));
    assert!(
        location.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fv1%2Foauth%2Fcallback")
    );
    let back = provider.consent(location).await;
    // The browser comes back with no Leash credential at all.
    let finished = app.callback(&back, &Carrying::Nothing, None).await;
    assert_eq!(finished.status, StatusCode::OK, "{}", finished.body);
    assert!(
        finished
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(finished.body.contains("acme is connected"));
    assert_eq!(finished.header("referrer-policy"), Some("no-referrer"));

    let connections = app.connections(&alice).await;
    assert_eq!(connections.as_array().unwrap().len(), 1);
    let connection = &connections[0];
    assert_eq!(connection["provider"], "acme");
    assert_eq!(connection["status"], "connected");
    assert_eq!(
        connection["granted_scopes"],
        serde_json::json!(["repo", "read:user"])
    );
    assert!(connection["token_expires_at"].is_string());
    let id = connection["id"].as_str().unwrap();
    let one = app.get(&format!("/v1/connections/{id}")).await;
    assert_eq!(one.assert_status(StatusCode::OK)["id"], id);

    // No upstream token, in any table, in plain text; the audit names the person.
    let stored = format!("{:?}", database::snapshot(&app.db).await);
    assert!(!provider.issued_tokens().is_empty());
    for token in provider.issued_tokens() {
        assert!(!stored.contains(&token), "{token} stored in plain text");
        assert!(!connection.to_string().contains(&token));
    }
    let audit = app.get("/v1/audit?action=connection.connected").await;
    let entries = &audit.assert_status(StatusCode::OK)["data"];
    assert_eq!(entries[0]["actor"], format!("user:{}", alice.id));
    assert_eq!(entries[0]["target"], id);
}

#[tokio::test]
async fn the_granted_scopes_are_the_providers_answer_and_a_reconnect_updates_the_connection() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let bearer = Carrying::Bearer(&session.token);
    let back = app.consented(&provider, "", &bearer).await;
    app.callback(&back, &Carrying::Nothing, None).await;
    let first = app.connections(&alice).await[0].clone();
    assert_eq!(
        first["granted_scopes"],
        serde_json::json!(["repo"]),
        "the provider's defaults"
    );

    provider.grant_only("read:user");
    app.advance(TimeDelta::seconds(5));
    let back = app
        .consented(&provider, "?scopes=repo%20read%3Auser", &bearer)
        .await;
    let again = app.callback(&back, &Carrying::Nothing, None).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let connections = app.connections(&alice).await;
    assert_eq!(connections.as_array().unwrap().len(), 1);
    assert_eq!(connections[0]["id"], first["id"]);
    assert_eq!(
        connections[0]["granted_scopes"],
        serde_json::json!(["read:user"])
    );
    assert_ne!(connections[0]["connected_at"], first["connected_at"]);
}

#[tokio::test]
async fn return_to_gets_the_connection_and_only_an_allowed_origin_is_accepted() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let bearer = Carrying::Bearer(&session.token);
    let back = app
        .consented(
            &provider,
            &format!("?return_to={}", urlencode("https://app.example/done?x=1")),
            &bearer,
        )
        .await;
    let finished = app.callback(&back, &Carrying::Nothing, None).await;
    assert_eq!(finished.status, StatusCode::FOUND, "{}", finished.body);
    let id = app.connections(&alice).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        finished.header("location"),
        Some(format!("https://app.example/done?x=1&connection_id={id}&status=connected").as_str())
    );
    for refused in [
        "https://evil.example/done",
        "https://app.example.evil.example/",
        "javascript:alert(1)",
        "/relative",
    ] {
        let answer = app
            .authorize(&format!("?return_to={}", urlencode(refused)), &bearer)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{refused}: {}",
            answer.body
        );
        assert_eq!(answer.json()["code"], "invalid_return_to");
    }
}

#[tokio::test]
async fn authorize_needs_an_active_user_session_and_a_configured_provider() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let no_session = app.authorize("", &Carrying::Nothing).await;
    assert_eq!(no_session.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_session.json()["code"], "user_session_required");
    for not_a_session in [app.admin_key.as_str(), "leash_ust_forged"] {
        let answer = app.authorize("", &Carrying::Bearer(not_a_session)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    }
    let unknown = app
        .send_raw(get(
            "/v1/connections/nope/authorize",
            &Carrying::Bearer(&session.token),
            None,
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["code"], "provider_not_found");
    let bad_scope = app
        .authorize("?scopes=%22quoted%22", &Carrying::Bearer(&session.token))
        .await;
    assert_eq!(
        bad_scope.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad_scope.body
    );
    assert_eq!(bad_scope.json()["code"], "invalid_scope");
    app.post_empty(&format!("/v1/user-sessions/{}/revoke", session.id))
        .await;
    let revoked = app.authorize("", &Carrying::Bearer(&session.token)).await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    assert!(app.connections(&alice).await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_state_is_taken_once_and_expires_and_a_forged_one_is_refused() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let bearer = Carrying::Bearer(&session.token);
    let back = app.consented(&provider, "", &bearer).await;
    let pending = "SELECT CAST(COUNT(*) AS TEXT) FROM oauth_states WHERE used_at IS NULL";
    assert_eq!(database::text_of(&app.db, pending).await, "1");
    for forged in [
        String::new(),
        "code=x".to_owned(),
        "code=x&state=leash_os_forged".to_owned(),
        back.replace("state=leash_os_", "state=leash_os_x"),
    ] {
        let answer = app
            .callback(&forged, &Carrying::Nothing, Some("application/json"))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{forged}: {}",
            answer.body
        );
        assert_eq!(answer.json()["code"], "invalid_state", "{forged}");
    }
    assert_eq!(
        database::text_of(&app.db, pending).await,
        "1",
        "a refused callback takes no state"
    );

    assert_eq!(
        app.callback(&back, &Carrying::Nothing, None).await.status,
        StatusCode::OK
    );
    let replayed = app
        .callback(&back, &Carrying::Nothing, Some("application/json"))
        .await;
    assert_eq!(replayed.json()["code"], "invalid_state");

    let late = app.consented(&provider, "", &bearer).await;
    app.advance(TimeDelta::minutes(11));
    let expired = app
        .callback(&late, &Carrying::Nothing, Some("application/json"))
        .await;
    assert_eq!(expired.json()["code"], "invalid_state");
    assert_eq!(app.connections(&alice).await.as_array().unwrap().len(), 1);
    assert_eq!(
        provider.code_exchanges(),
        1,
        "no refused callback reached the provider"
    );
}

#[tokio::test]
async fn started_with_the_cookie_it_is_finished_only_with_the_same_cookie() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let other_device = app.sign_in(&alice).await;
    let cookie = Carrying::Cookie(&session.token);
    for carrying in [
        Carrying::Nothing,
        Carrying::Bearer(&session.token),
        Carrying::Cookie(&other_device.token),
    ] {
        let back = app.consented(&provider, "", &cookie).await;
        let answer = app
            .callback(&back, &carrying, Some("application/json"))
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        assert_eq!(answer.json()["code"], "session_mismatch");
    }
    assert!(app.connections(&alice).await.as_array().unwrap().is_empty());
    let back = app.consented(&provider, "", &cookie).await;
    let answer = app.callback(&back, &cookie, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[tokio::test]
async fn a_callback_carrying_another_users_session_or_after_a_revoke_stores_nothing() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let (bob, bobs) = app.person("bob").await;
    let bearer = Carrying::Bearer(&session.token);
    for carrying in [Carrying::Bearer(&bobs.token), Carrying::Cookie(&bobs.token)] {
        let back = app.consented(&provider, "", &bearer).await;
        let answer = app
            .callback(&back, &carrying, Some("application/json"))
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        assert_eq!(answer.json()["code"], "session_mismatch");
    }
    let back = app.consented(&provider, "", &bearer).await;
    app.post_empty(&format!("/v1/user-sessions/{}/revoke", session.id))
        .await;
    let answer = app
        .callback(&back, &Carrying::Nothing, Some("application/json"))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert_eq!(answer.json()["code"], "user_session_inactive");
    assert!(app.connections(&alice).await.as_array().unwrap().is_empty());
    assert!(app.connections(&bob).await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn every_callback_failure_is_a_page_or_a_problem_never_a_500_and_stores_nothing() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let bearer = Carrying::Bearer(&session.token);

    let back = app.consented(&provider, "", &bearer).await;
    let state = back
        .split('&')
        .find(|p| p.starts_with("state="))
        .unwrap()
        .to_owned();
    let denied = app
        .callback(
            &format!(
                "error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&{state}"
            ),
            &Carrying::Nothing,
            None,
        )
        .await;
    assert_eq!(denied.status, StatusCode::BAD_REQUEST);
    assert!(
        denied
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(denied.body.contains("&lt;script&gt;") && !denied.body.contains("<script>"));
    assert_eq!(
        denied.header("content-security-policy"),
        Some("default-src 'none'; frame-ancestors 'none'")
    );

    let back = app.consented(&provider, "", &bearer).await;
    let wrong_issuer = back.replace("iss=", "iss=https%3A%2F%2Fevil.example&was=");
    let answer = app
        .callback(&wrong_issuer, &Carrying::Nothing, Some("application/json"))
        .await;
    assert_eq!(answer.json()["code"], "invalid_issuer", "{}", answer.body);

    let back = app.consented(&provider, "", &bearer).await;
    let no_code = back.replace("code=", "was=");
    let answer = app
        .callback(&no_code, &Carrying::Nothing, Some("application/json"))
        .await;
    assert_eq!(answer.json()["code"], "invalid_request", "{}", answer.body);

    for (mode, code) in [
        (TokenMode::Down, "provider_unavailable"),
        (TokenMode::Garbage, "provider_unavailable"),
    ] {
        let back = app.consented(&provider, "", &bearer).await;
        provider.token_mode(mode);
        let answer = app
            .callback(&back, &Carrying::Nothing, Some("application/json"))
            .await;
        provider.token_mode(TokenMode::Normal);
        assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.body);
        assert_eq!(answer.json()["code"], code);
        assert_eq!(
            answer.header("content-type"),
            Some("application/problem+json")
        );
    }
    assert!(app.connections(&alice).await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn authorizations_long_expired_are_forgotten() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (_, session) = app.person("alice").await;
    app.consented(&provider, "", &Carrying::Bearer(&session.token))
        .await;
    let count = "SELECT CAST(COUNT(*) AS TEXT) FROM oauth_states";
    app.advance(TimeDelta::hours(2));
    let pruned = leash::usecase::prune_authorizations::prune_authorizations(&app.app)
        .await
        .unwrap();
    assert_eq!(
        (pruned, database::text_of(&app.db, count).await),
        (0, "1".to_owned())
    );
    app.advance(TimeDelta::days(1));
    let pruned = leash::usecase::prune_authorizations::prune_authorizations(&app.app)
        .await
        .unwrap();
    assert_eq!(
        (pruned, database::text_of(&app.db, count).await),
        (1, "0".to_owned())
    );
}

#[tokio::test]
async fn a_reconnect_granting_less_revokes_the_sessions_holding_what_was_lost() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let (alice, session) = app.person("alice").await;
    let bearer = Carrying::Bearer(&session.token);
    let back = app
        .consented(&provider, "?scopes=repo%20read%3Auser", &bearer)
        .await;
    app.callback(&back, &Carrying::Nothing, None).await;
    let coder = app
        .register_agent("coder", &["acme:repo", "acme:read:user"])
        .await;
    app.consent(&alice, &coder, &["acme:repo", "acme:read:user"])
        .await;
    let reader = app.delegate(&coder, &session, Some("acme:read:user")).await;
    let below = app
        .delegate_from(&coder, &reader.access, Some("acme:read:user"))
        .await;
    let repo = app.delegate(&coder, &session, Some("acme:repo")).await;

    provider.grant_only("repo");
    let back = app
        .consented(&provider, "?scopes=repo%20read%3Auser", &bearer)
        .await;
    let again = app.callback(&back, &Carrying::Nothing, None).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert!(!app.is_active(&reader.access).await, "held a lost scope");
    assert!(
        !app.is_active(&below.access).await,
        "hung from one that did"
    );
    assert!(
        app.is_active(&repo.access).await,
        "holds only what is still granted"
    );
    let audit = app
        .get(&format!(
            "/v1/audit?actor=user:{}&action=agent_sessions.revoked",
            alice.id
        ))
        .await;
    let entries = &audit.assert_status(StatusCode::OK)["data"];
    assert_eq!(entries.as_array().unwrap().len(), 1, "{entries}");
    assert_eq!(entries[0]["cause"], "scope_reduced");
}
