//! Revocation by selector: a security system names sessions by person, agent, session,
//! address, user agent, time or scope, previews what that hits, and revokes it with
//! every descendant, once however often the request is retried.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, TimeDelta, Utc};
use leash::domain::api_key::Role;
use serde_json::{Value, json};

use crate::support::agents::{AgentTokens, TestAgent};
use crate::support::connections::app_with;
use crate::support::database::{run_sql, snapshot_but_key_use, text_of};
use crate::support::fake_provider::FakeProvider;
use crate::support::{RawAnswer, TestApp, TestSession, TestUser};

/// Two people's devices and a delegation tree, each made a minute after the last:
/// alice on a laptop (us1) and a phone (us2), bob on a server (us3) and a laptop whose
/// host sent no address (us4); coder acting for alice from the laptop (a1) with helper
/// below it (a2), coder from alice's phone (a3) and from bob's server (b1).
struct Fixture {
    app: TestApp,
    risk_key: String,
    start: DateTime<Utc>,
    alice: TestUser,
    bob: TestUser,
    coder: TestAgent,
    helper: String,
    us1: TestSession,
    us2: TestSession,
    us3: TestSession,
    us4: TestSession,
    a1: AgentTokens,
    a2: AgentTokens,
    a3: AgentTokens,
    b1: AgentTokens,
    /// The agent sessions' ids, by name.
    agent_session_ids: BTreeMap<&'static str, String>,
}

impl Fixture {
    async fn new() -> Self {
        let app = TestApp::start().await;
        let risk_key = app.key(Role::Risk).await;
        let start = app.clock_now();
        // Apart enough to bound by time, close enough that no access token expires.
        let minute = TimeDelta::minutes(1);
        let alice = app.create_user("alice").await;
        let bob = app.create_user("bob").await;
        let coder = app
            .register_agent("coder", &["calendar.read", "mail.send"])
            .await;
        let helper = app.register_agent("helper", &["calendar.read"]).await;
        app.consent(&alice, &coder, &["calendar.read", "mail.send"])
            .await;
        app.consent(&alice, &helper, &["calendar.read"]).await;
        app.consent(&bob, &coder, &["calendar.read"]).await;
        let device = |ip: &str, agent: &str| json!({ "ip_address": ip, "user_agent": agent });
        let us1 = app
            .sign_in_with(&alice, device("203.0.113.7", "Mozilla/5.0 Firefox/140"))
            .await;
        app.advance(minute);
        let us2 = app
            .sign_in_with(&alice, device("198.51.100.9", "Mozilla/5.0 Chrome/120"))
            .await;
        app.advance(minute);
        let us3 = app
            .sign_in_with(&bob, device("2001:db8::5", "curl/8.0_beta%"))
            .await;
        let us4 = app
            .sign_in_with(&bob, json!({ "user_agent": "Mozilla/5.0 Firefox/141" }))
            .await;
        app.advance(minute);
        let a1 = app
            .delegate(&coder, &us1, Some("calendar.read mail.send"))
            .await;
        app.advance(minute);
        let a2 = app
            .delegate_from(&helper, &a1.access, Some("calendar.read"))
            .await;
        app.advance(minute);
        let a3 = app.delegate(&coder, &us2, Some("calendar.read")).await;
        app.advance(minute);
        let b1 = app.delegate(&coder, &us3, Some("calendar.read")).await;
        let mut agent_session_ids = BTreeMap::new();
        for (name, tokens) in [("a1", &a1), ("a2", &a2), ("a3", &a3), ("b1", &b1)] {
            let id = app.introspect(&tokens.access).await["session_id"].clone();
            agent_session_ids.insert(name, id.as_str().unwrap().to_owned());
        }
        Self {
            risk_key,
            start,
            coder,
            helper: helper.id.clone(),
            agent_session_ids,
            app,
            alice,
            bob,
            us1,
            us2,
            us3,
            us4,
            a1,
            a2,
            a3,
            b1,
        }
    }

    /// The instant `seconds` after the first sign-in.
    fn at(&self, seconds: i64) -> String {
        (self.start + TimeDelta::seconds(seconds)).to_rfc3339()
    }

    async fn revoke(&self, body: Value, idempotency_key: Option<&str>) -> RawAnswer {
        revoke_as(&self.app, &self.risk_key, body, idempotency_key).await
    }

    /// The ids a dry run of `selector` would hit, from its sample (complete here).
    async fn would_hit(&self, selector: &Value) -> BTreeSet<String> {
        let answer = self
            .revoke(json!({ "selector": selector, "dry_run": true }), None)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{selector}: {}", answer.body);
        let body = answer.json();
        let preview = &body["would_revoke"];
        let sample: BTreeSet<String> = preview["sample"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        let counted = preview["user_sessions"].as_u64().unwrap()
            + preview["agent_sessions"].as_u64().unwrap();
        assert_eq!(counted, sample.len() as u64, "{selector}: {preview}");
        sample
    }

    fn ids(&self, names: &[&str]) -> BTreeSet<String> {
        names
            .iter()
            .map(|name| match *name {
                "us1" => self.us1.id.clone(),
                "us2" => self.us2.id.clone(),
                "us3" => self.us3.id.clone(),
                "us4" => self.us4.id.clone(),
                other => self.agent_session_ids[other].clone(),
            })
            .collect()
    }
}

async fn revoke_as(
    app: &TestApp,
    key: &str,
    body: Value,
    idempotency_key: Option<&str>,
) -> RawAnswer {
    let mut request = Request::post("/v1/revocations")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    app.send_raw(request.body(Body::from(body.to_string())).unwrap())
        .await
}

#[tokio::test]
async fn each_selector_field_alone_and_combined_matches_exactly_its_sessions() {
    let f = Fixture::new().await;
    let before = snapshot_but_key_use(&f.app.db).await;
    let cases: Vec<(Value, &[&str])> = vec![
        (
            json!({ "user_id": f.alice.id }),
            &["us1", "us2", "a1", "a2", "a3"],
        ),
        (
            json!({ "user_session_ids": [f.us1.id] }),
            &["us1", "a1", "a2"],
        ),
        (json!({ "agent_id": f.helper }), &["a2"]),
        (
            json!({ "agent_session_ids": [f.agent_session_ids["a1"]] }),
            &["a1", "a2"],
        ),
        (
            json!({ "ip_address": "203.0.113.0/24" }),
            &["us1", "a1", "a2"],
        ),
        (json!({ "ip_address": "203.0.113.7" }), &["us1", "a1", "a2"]),
        (
            json!({ "ip_address": "::ffff:203.0.113.7" }),
            &["us1", "a1", "a2"],
        ),
        (json!({ "ip_address": "2001:db8::/32" }), &["us3", "b1"]),
        (json!({ "ip_address": "10.0.0.0/8" }), &[]),
        (
            json!({ "ip_address": "198.51.100.9", "kind": "user" }),
            &["us2", "a3"],
        ),
        (
            json!({ "ip_address": "198.51.100.9", "kind": "agent" }),
            &["a3"],
        ),
        (
            json!({ "user_agent_contains": "FIREFOX", "user_id": f.bob.id }),
            &["us4"],
        ),
        // `_` and `%` are matched literally: `8_0` is not `8.0`.
        (
            json!({ "user_agent_contains": "_beta%", "user_id": f.bob.id }),
            &["us3", "b1"],
        ),
        (
            json!({ "user_agent_contains": "8_0", "user_id": f.bob.id }),
            &[],
        ),
        // A user session created before the bound takes its agent sessions with it.
        (json!({ "created_before": f.at(30) }), &["us1", "a1", "a2"]),
        (
            json!({ "created_after": f.at(270), "kind": "agent" }),
            &["a3", "b1"],
        ),
        (
            json!({ "created_after": f.at(30), "created_before": f.at(150), "kind": "user" }),
            &["us2", "us3", "us4", "a3", "b1"],
        ),
        // A matched agent session takes its descendants, whatever they hold.
        (
            json!({ "user_id": f.alice.id, "scope": "mail.send" }),
            &["a1", "a2"],
        ),
        (
            json!({ "agent_id": f.coder.id, "user_id": f.bob.id }),
            &["b1"],
        ),
        (
            json!({ "user_id": f.alice.id, "created_after": f.at(30) }),
            &["us2", "a1", "a2", "a3"],
        ),
        (
            json!({ "ip_address": "203.0.113.0/24", "agent_id": f.helper }),
            &["a2"],
        ),
        (
            json!({ "user_session_ids": [f.us1.id, f.us3.id], "kind": "agent" }),
            &["a1", "a2", "b1"],
        ),
    ];
    for (selector, expected) in cases {
        assert_eq!(
            f.would_hit(&selector).await,
            f.ids(expected),
            "selector {selector}"
        );
    }
    assert!(
        snapshot_but_key_use(&f.app.db).await == before,
        "dry runs change nothing"
    );
}

#[tokio::test]
async fn a_selector_revocation_revokes_what_its_preview_showed_with_descendants() {
    let f = Fixture::new().await;
    let selector = json!({ "ip_address": "203.0.113.0/24" });
    let preview = f.would_hit(&selector).await;
    let answer = f
        .revoke(
            json!({ "selector": selector, "reason": "EDR: host compromised" }),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let body = answer.json();
    let revocation = &body["revocation"];
    assert_eq!(revocation["cause"], "risk_revocation");
    assert_eq!(revocation["user_sessions_revoked"], 1);
    assert_eq!(revocation["agent_sessions_revoked"], 2);
    assert_eq!(body["dry_run"], false);
    assert_eq!(preview, f.ids(&["us1", "a1", "a2"]));
    for token in [&f.a1.access, &f.a2.access, &f.us1.token] {
        assert!(!f.app.is_active(token).await);
    }
    for token in [&f.a3.access, &f.b1.access, &f.us2.token, &f.us3.token] {
        assert!(f.app.is_active(token).await);
    }
    let risk_key_id = text_of(&f.app.db, "SELECT id FROM api_keys WHERE role = 'risk'").await;
    let id = revocation["id"].as_str().unwrap();
    let actor = text_of(
        &f.app.db,
        &format!("SELECT actor FROM revocations WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(actor, risk_key_id, "the key is the actor");
    let audited = text_of(
        &f.app.db,
        &format!("SELECT actor FROM audit_log WHERE revocation_id = '{id}'"),
    )
    .await;
    assert_eq!(audited, risk_key_id);
}

#[tokio::test]
async fn selectors_that_are_empty_unbounded_or_malformed_are_refused() {
    let f = Fixture::new().await;
    let before = snapshot_but_key_use(&f.app.db).await;
    let refused = [
        json!({}),
        json!({ "kind": "both" }),
        json!({ "provider": "github" }),
        json!({ "user_agent_contains": "Firefox" }),
        json!({ "scope": "calendar.read", "kind": "agent" }),
        json!({ "ip_address": "10.0.0.1/8" }),
        json!({ "ip_address": "not an address" }),
        json!({ "user_id": f.alice.id, "agent_id": f.coder.id, "kind": "user" }),
        json!({ "created_after": f.at(60), "created_before": f.at(60) }),
        json!({ "user_id": f.alice.id, "user_agent_contains": " " }),
    ];
    for selector in refused {
        let answer = f.revoke(json!({ "selector": selector }), None).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{selector}: {}",
            answer.body
        );
        assert_eq!(answer.json()["code"], "invalid_selector", "{selector}");
        let dry = f
            .revoke(json!({ "selector": selector, "dry_run": true }), None)
            .await;
        assert_eq!(dry.status, StatusCode::UNPROCESSABLE_ENTITY, "{selector}");
    }
    let listed: Vec<String> = (0..=leash::domain::risk_selector::MAX_LISTED_SESSIONS)
        .map(|_| f.us1.id.clone())
        .collect();
    let answer = f
        .revoke(json!({ "selector": { "user_session_ids": listed } }), None)
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = f
        .revoke(
            json!({ "selector": { "user_id": f.alice.id, "everyone": true } }),
            None,
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    assert!(snapshot_but_key_use(&f.app.db).await == before);
}

#[tokio::test]
async fn only_risk_and_admin_keys_revoke_by_selector_and_a_risk_key_reaches_nothing_else() {
    let f = Fixture::new().await;
    let selector = json!({ "selector": { "user_id": f.alice.id }, "dry_run": true });
    let introspect_key = f.app.key(Role::Introspect).await;
    let answer = revoke_as(&f.app, &introspect_key, selector.clone(), None).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    let answer = revoke_as(&f.app, &f.app.admin_key, selector.clone(), None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = revoke_as(&f.app, &f.risk_key, selector, None).await;
    assert_eq!(answer.status, StatusCode::OK);

    // Every operation an API key may call but those for security systems, as the OpenAPI
    // document lists them.
    let document = f
        .app
        .send(Method::GET, "/openapi.json", None, None, Body::empty())
        .await
        .body;
    let mut checked = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let by_api_key = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("api_key").is_some()));
            let for_risk = path == "/v1/revocations" || path.starts_with("/v1/risk/");
            if !by_api_key || for_risk {
                continue;
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let path = path
                .replace("{user_id}", &f.alice.id)
                .replace("{session_id}", &f.us1.id)
                .replace("{agent_id}", &f.coder.id)
                .replace("{agent_session_id}", &f.agent_session_ids["a1"]);
            let answer = f
                .app
                .send(
                    method.clone(),
                    &path,
                    Some(&f.risk_key),
                    Some("application/json"),
                    Body::from("{}"),
                )
                .await;
            answer.assert_problem(StatusCode::FORBIDDEN, "wrong_role");
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} operations checked");
    assert!(f.app.is_active(&f.us1.token).await);
}

#[tokio::test]
async fn a_retry_under_the_same_idempotency_key_answers_the_first_revocation() {
    let f = Fixture::new().await;
    let body = json!({ "selector": { "user_id": f.alice.id, "kind": "agent" } });
    let first = f.revoke(body.clone(), Some("incident-42")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    let first = first.json();
    assert_eq!(first["revocation"]["agent_sessions_revoked"], 3);

    // A session that would match now does not make the retry revoke again.
    let later = f
        .app
        .delegate(&f.coder, &f.us2, Some("calendar.read"))
        .await;
    let retry = f
        .revoke(
            json!({ "selector": { "kind": "agent", "user_id": f.alice.id } }),
            Some("incident-42"),
        )
        .await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json()["revocation"], first["revocation"]);
    assert!(f.app.is_active(&later.access).await);

    let other = f
        .revoke(
            json!({ "selector": { "user_id": f.bob.id } }),
            Some("incident-42"),
        )
        .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.json()["code"], "idempotency_key_reused");
    assert!(
        f.app.is_active(&f.b1.access).await,
        "refused: nothing revoked"
    );

    // Another caller's key of the same name is its own.
    let admin = revoke_as(&f.app, &f.app.admin_key, body.clone(), Some("incident-42")).await;
    assert_eq!(admin.status, StatusCode::OK);
    assert_eq!(admin.header("idempotent-replayed"), None);
    assert!(!f.app.is_active(&later.access).await);

    // After a day the key is forgotten.
    f.app.advance(TimeDelta::hours(24));
    let fresh = f
        .revoke(
            json!({ "selector": { "user_id": f.bob.id } }),
            Some("incident-42"),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    assert_eq!(fresh.header("idempotent-replayed"), None);
    assert_ne!(fresh.json()["revocation"]["id"], first["revocation"]["id"]);
}

#[tokio::test]
async fn a_retry_racing_the_first_request_revokes_once() {
    let f = Fixture::new().await;
    for round in 0..5 {
        let key = format!("race-{round}");
        let body = json!({ "selector": { "ip_address": "0.0.0.0/0", "created_after": f.at(-60) } });
        let (one, two) = tokio::join!(
            f.revoke(body.clone(), Some(&key)),
            f.revoke(body.clone(), Some(&key))
        );
        assert_eq!(one.status, StatusCode::OK, "{}", one.body);
        assert_eq!(two.status, StatusCode::OK, "{}", two.body);
        assert_eq!(
            one.json()["revocation"]["id"],
            two.json()["revocation"]["id"],
            "both answer the one revocation"
        );
        let replayed = [
            one.header("idempotent-replayed"),
            two.header("idempotent-replayed"),
        ];
        assert!(replayed.contains(&Some("true")) && replayed.contains(&None));
    }
    let acts = text_of(
        &f.app.db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM revocations WHERE cause = 'risk_revocation'",
    )
    .await;
    assert_eq!(acts, "5");
}

#[tokio::test]
async fn connection_and_provider_selectors_hit_what_could_use_the_connection() {
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    let risk_key = app.key(Role::Risk).await;
    let (alice, alice_session) = app.person("alice").await;
    let (bob, bob_session) = app.person("bob").await;
    let alice_connection = app.connect(&provider, &alice, &alice_session).await;
    app.connect(&provider, &bob, &bob_session).await;
    let coder = app
        .register_agent("coder", &["acme:repo", "calendar.read"])
        .await;
    let helper = app.register_agent("helper", &["calendar.read"]).await;
    for user in [&alice, &bob] {
        app.consent(user, &coder, &["acme:repo", "calendar.read"])
            .await;
        app.consent(user, &helper, &["calendar.read"]).await;
    }
    let with_acme = app
        .delegate(&coder, &alice_session, Some("acme:repo calendar.read"))
        .await;
    let below = app
        .delegate_from(&helper, &with_acme.access, Some("calendar.read"))
        .await;
    let without_acme = app
        .delegate(&coder, &alice_session, Some("calendar.read"))
        .await;
    let bobs = app.delegate(&coder, &bob_session, Some("acme:repo")).await;
    let hit = async |selector: Value| {
        let answer = revoke_as(
            &app,
            &risk_key,
            json!({ "selector": selector, "dry_run": true }),
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let preview = answer.json()["would_revoke"].clone();
        (
            preview["user_sessions"].clone(),
            preview["agent_sessions"].clone(),
        )
    };
    assert_eq!(
        hit(json!({ "connection_id": alice_connection })).await,
        (json!(0), json!(2)),
        "alice's session holding acme:repo and the one below it"
    );
    assert_eq!(
        hit(json!({ "provider": "acme", "user_id": alice.id })).await,
        (json!(0), json!(2))
    );
    assert_eq!(
        hit(json!({ "provider": "acme", "agent_id": coder.id })).await,
        (json!(0), json!(3)),
        "across users: alice's two and bob's"
    );
    let done = revoke_as(
        &app,
        &risk_key,
        json!({ "selector": { "connection_id": alice_connection } }),
        None,
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json()["revocation"]["agent_sessions_revoked"], 2);
    assert!(!app.is_active(&with_acme.access).await);
    assert!(!app.is_active(&below.access).await);
    assert!(app.is_active(&without_acme.access).await);
    assert!(app.is_active(&bobs.access).await);
}

#[tokio::test]
async fn sessions_stored_before_address_keys_existed_are_matched_once_filled_in() {
    let f = Fixture::new().await;
    run_sql(&f.app.db, "UPDATE user_sessions SET ip_key = NULL")
        .await
        .unwrap();
    let selector = json!({ "ip_address": "203.0.113.0/24" });
    assert!(f.would_hit(&selector).await.is_empty());
    f.app.db.migrate().await.unwrap();
    assert_eq!(f.would_hit(&selector).await, f.ids(&["us1", "a1", "a2"]));
    let keys = text_of(
        &f.app.db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM user_sessions WHERE ip_key IS NULL",
    )
    .await;
    assert_eq!(keys, "1", "the session without an address has no key");
}
