//! Risk signals: the shipped policy's rules, each acted on; signals sent twice acted on
//! once; dry runs changing nothing; subjects Leash does not know accepted and skipped;
//! and address blocks refusing sign-ins and token exchanges until they expire or are
//! lifted.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use chrono::TimeDelta;
use leash::domain::api_key::Role;
use serde_json::{Value, json};

use crate::support::agents::{AgentTokens, TestAgent, form};
use crate::support::database::{snapshot_but_key_use, text_of};
use crate::support::{TestApp, TestSession, TestUser};

/// Alice on a laptop (203.0.113.7) and a phone, each with an agent session of coder;
/// bob on a laptop behind the same address, with one too.
struct People {
    app: TestApp,
    risk_key: String,
    alice: TestUser,
    bob: TestUser,
    coder: TestAgent,
    laptop: TestSession,
    phone: TestSession,
    bobs_laptop: TestSession,
    from_laptop: AgentTokens,
    from_phone: AgentTokens,
    bobs_agent: AgentTokens,
}

const HOSTILE: &str = "203.0.113.7";

impl People {
    async fn new() -> Self {
        let app = TestApp::start().await;
        let risk_key = app.key(Role::Risk).await;
        let alice = user(&app, "alice", "Alice@Example.com").await;
        let bob = user(&app, "bob", "bob@example.com").await;
        let coder = app.register_agent("coder", &["calendar.read"]).await;
        app.consent(&alice, &coder, &["calendar.read"]).await;
        app.consent(&bob, &coder, &["calendar.read"]).await;
        let device = |ip: &str| json!({ "ip_address": ip, "user_agent": "Firefox/140" });
        let laptop = app.sign_in_with(&alice, device(HOSTILE)).await;
        let phone = app.sign_in_with(&alice, device("198.51.100.9")).await;
        let bobs_laptop = app.sign_in_with(&bob, device(HOSTILE)).await;
        let from_laptop = app.delegate(&coder, &laptop, None).await;
        let from_phone = app.delegate(&coder, &phone, None).await;
        let bobs_agent = app.delegate(&coder, &bobs_laptop, None).await;
        Self {
            app,
            risk_key,
            alice,
            bob,
            coder,
            laptop,
            phone,
            bobs_laptop,
            from_laptop,
            from_phone,
            bobs_agent,
        }
    }

    async fn signal(&self, body: Value) -> Value {
        self.signal_to("/v1/risk/signals", body).await
    }

    async fn signal_to(&self, path: &str, body: Value) -> Value {
        let answer = self
            .app
            .send(
                Method::POST,
                path,
                Some(&self.risk_key),
                Some("application/json"),
                Body::from(body.to_string()),
            )
            .await;
        answer.assert_status(StatusCode::OK).clone()
    }

    /// Which of the fixture's tokens are still active, by name.
    async fn active(&self) -> BTreeMap<&'static str, bool> {
        let mut active = BTreeMap::new();
        for (name, token) in [
            ("laptop", &self.laptop.token),
            ("phone", &self.phone.token),
            ("bobs_laptop", &self.bobs_laptop.token),
            ("from_laptop", &self.from_laptop.access),
            ("from_phone", &self.from_phone.access),
            ("bobs_agent", &self.bobs_agent.access),
        ] {
            active.insert(name, self.app.is_active(token).await);
        }
        active
    }

    async fn status_of(&self, user: &TestUser) -> String {
        let answer = self.app.get(&format!("/v1/users/{}", user.id)).await;
        answer.assert_status(StatusCode::OK)["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

async fn user(app: &TestApp, external_id: &str, email: &str) -> TestUser {
    let answer = app
        .post(
            "/v1/users",
            json!({ "external_id": external_id, "email": email }),
        )
        .await;
    TestUser {
        id: answer.assert_status(StatusCode::CREATED)["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    }
}

fn actions(answer: &Value) -> Vec<(String, String)> {
    answer["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_owned(),
                a["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, s)| ((*a).to_owned(), (*s).to_owned()))
        .collect()
}

/// Which tokens each signal leaves active: every token the case does not name stays.
fn all_but(ended: &[&'static str]) -> BTreeMap<&'static str, bool> {
    [
        "laptop",
        "phone",
        "bobs_laptop",
        "from_laptop",
        "from_phone",
        "bobs_agent",
    ]
    .into_iter()
    .map(|name| (name, !ended.contains(&name)))
    .collect()
}

#[tokio::test]
async fn each_rule_of_the_shipped_policy_does_what_it_says() {
    struct Case {
        kind: &'static str,
        severity: &'static str,
        subject: fn(&People) -> Value,
        actions: &'static [(&'static str, &'static str)],
        ended: &'static [&'static str],
        alice_disabled: bool,
    }
    let by_external_id: fn(&People) -> Value = |_| json!({ "external_id": "alice" });
    let cases = [
        Case {
            kind: "risc.account-disabled",
            severity: "low",
            subject: by_external_id,
            actions: &[("disable_user", "done")],
            ended: &["laptop", "phone", "from_laptop", "from_phone"],
            alice_disabled: true,
        },
        Case {
            kind: "risc.account-purged",
            severity: "low",
            subject: |p| json!({ "user_id": p.alice.id }),
            actions: &[("disable_user", "done")],
            ended: &["laptop", "phone", "from_laptop", "from_phone"],
            alice_disabled: true,
        },
        Case {
            kind: "risc.account-credential-change-required",
            severity: "medium",
            subject: |_| json!({ "email": "alice@EXAMPLE.com" }),
            actions: &[("sign_out_everywhere", "done")],
            ended: &["laptop", "phone", "from_laptop", "from_phone"],
            alice_disabled: false,
        },
        Case {
            kind: "risc.sessions-revoked",
            severity: "low",
            subject: by_external_id,
            actions: &[("sign_out_everywhere", "done")],
            ended: &["laptop", "phone", "from_laptop", "from_phone"],
            alice_disabled: false,
        },
        Case {
            kind: "caep.credential-change",
            severity: "low",
            subject: by_external_id,
            actions: &[("sign_out_everywhere", "done")],
            ended: &["laptop", "phone", "from_laptop", "from_phone"],
            alice_disabled: false,
        },
        Case {
            kind: "caep.session-revoked",
            severity: "low",
            subject: |p| json!({ "user_session_id": p.laptop.id }),
            actions: &[
                ("revoke_session", "done"),
                ("revoke_agent_sessions_of_user", "done"),
            ],
            ended: &["laptop", "from_laptop", "from_phone"],
            alice_disabled: false,
        },
        Case {
            kind: "caep.device-compliance-change",
            severity: "medium",
            subject: by_external_id,
            actions: &[("revoke_agent_sessions_of_user", "done")],
            ended: &["from_laptop", "from_phone"],
            alice_disabled: false,
        },
        Case {
            kind: "caep.device-compliance-change",
            severity: "low",
            subject: by_external_id,
            actions: &[("notify_only", "done")],
            ended: &[],
            alice_disabled: false,
        },
        Case {
            kind: "edr.host_compromised",
            severity: "critical",
            subject: |p| json!({ "user_id": p.alice.id, "ip_address": HOSTILE }),
            actions: &[
                ("sign_out_everywhere", "done"),
                ("revoke_sessions_from_ip", "done"),
                ("block_ip", "done"),
            ],
            ended: &[
                "laptop",
                "phone",
                "from_laptop",
                "from_phone",
                "bobs_laptop",
                "bobs_agent",
            ],
            alice_disabled: false,
        },
        Case {
            kind: "edr.host_compromised",
            severity: "high",
            subject: |p| json!({ "user_id": p.alice.id, "ip_address": HOSTILE }),
            actions: &[
                ("revoke_agent_sessions_of_user", "done"),
                ("revoke_sessions_from_ip", "done"),
            ],
            ended: &[
                "laptop",
                "from_laptop",
                "from_phone",
                "bobs_laptop",
                "bobs_agent",
            ],
            alice_disabled: false,
        },
        Case {
            kind: "siem.odd_login",
            severity: "medium",
            subject: by_external_id,
            actions: &[("notify_only", "done")],
            ended: &[],
            alice_disabled: false,
        },
    ];
    for case in cases {
        let people = People::new().await;
        let answer = people
            .signal(json!({
                "kind": case.kind,
                "severity": case.severity,
                "subject": (case.subject)(&people),
            }))
            .await;
        let what = format!("{} ({}): {answer}", case.kind, case.severity);
        assert_eq!(actions(&answer), pairs(case.actions), "{what}");
        assert_eq!(answer["replayed"], false);
        assert_eq!(people.active().await, all_but(case.ended), "{what}");
        let expected_status = if case.alice_disabled {
            "disabled"
        } else {
            "active"
        };
        assert_eq!(
            people.status_of(&people.alice).await,
            expected_status,
            "{what}"
        );
        assert_eq!(people.status_of(&people.bob).await, "active", "{what}");
    }
}

#[tokio::test]
async fn a_signal_sent_again_is_answered_and_not_acted_on_twice() {
    let people = People::new().await;
    let body = json!({
        "signal_id": "edr-991",
        "kind": "caep.device-compliance-change",
        "severity": "high",
        "subject": { "user_id": people.alice.id },
        "evidence": { "device": "laptop-7", "reasons": ["disk unencrypted"] },
    });
    let first = people.signal(body.clone()).await;
    let again_agent = people
        .app
        .delegate(&people.coder, &people.phone, None)
        .await;
    let second = people.signal(body).await;
    assert_eq!(second["replayed"], true);
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["actions"], first["actions"]);
    assert!(
        people.app.is_active(&again_agent.access).await,
        "nothing was done the second time"
    );
    let recorded = text_of(
        &people.app.db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM risk_signals",
    )
    .await;
    assert_eq!(recorded, "1");
    let events = people
        .app
        .get("/v1/events?types=risk_signal.processed")
        .await;
    let events = events.assert_status(StatusCode::OK)["data"].clone();
    assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events[0]["data"]["risk_signal_id"], first["id"]);
    assert_eq!(events[0]["data"]["kind"], "caep.device-compliance-change");
    let audited = text_of(
        &people.app.db,
        "SELECT target FROM audit_log WHERE action = 'risk_signal.processed'",
    )
    .await;
    assert_eq!(json!(audited), first["id"]);
}

#[tokio::test]
async fn a_dry_run_answers_what_would_be_done_and_changes_nothing() {
    let people = People::new().await;
    let before = snapshot_but_key_use(&people.app.db).await;
    let answer = people
        .signal_to(
            "/v1/risk/signals?dry_run=true",
            json!({
                "kind": "edr.host_compromised",
                "severity": "critical",
                "subject": { "user_id": people.alice.id, "ip_address": HOSTILE },
            }),
        )
        .await;
    assert_eq!(answer["dry_run"], true);
    assert!(answer.get("id").is_none());
    assert_eq!(
        actions(&answer),
        pairs(&[
            ("sign_out_everywhere", "would_do"),
            ("revoke_sessions_from_ip", "would_do"),
            ("block_ip", "would_do"),
        ])
    );
    assert_eq!(answer["actions"][0]["user_sessions"], 2);
    assert_eq!(answer["actions"][0]["agent_sessions"], 2);
    assert_eq!(answer["actions"][1]["user_sessions"], 2);
    assert!(answer["actions"][2]["blocked_until"].is_string());
    assert!(snapshot_but_key_use(&people.app.db).await == before);
}

#[tokio::test]
async fn subjects_leash_does_not_know_or_that_disagree_are_accepted_and_skipped() {
    let people = People::new().await;
    for subject in [
        json!({ "external_id": "nobody" }),
        json!({ "email": "nobody@example.com" }),
        json!({ "user_id": people.alice.id, "user_session_id": people.bobs_laptop.id }),
    ] {
        let answer = people
            .signal(
                json!({ "kind": "risc.sessions-revoked", "severity": "high", "subject": subject }),
            )
            .await;
        assert_eq!(
            actions(&answer),
            pairs(&[("sign_out_everywhere", "skipped")]),
            "{subject}"
        );
        assert!(answer["actions"][0]["detail"].is_string());
    }
    assert_eq!(people.active().await, all_but(&[]));
    let refused = people
        .app
        .send(
            Method::POST,
            "/v1/risk/signals",
            Some(&people.risk_key),
            Some("application/json"),
            Body::from(json!({ "kind": "Bad Kind", "severity": "low", "subject": {} }).to_string()),
        )
        .await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
}

#[tokio::test]
async fn a_blocked_address_cannot_sign_in_nor_exchange_until_the_block_ends() {
    let people = People::new().await;
    people
        .signal(json!({
            "kind": "edr.c2_beacon",
            "severity": "critical",
            "subject": { "ip_address": HOSTILE },
        }))
        .await;
    let sign_in = people
        .app
        .post(
            &format!("/v1/users/{}/sessions", people.bob.id),
            json!({ "ip_address": HOSTILE }),
        )
        .await;
    sign_in.assert_problem(StatusCode::FORBIDDEN, "ip_blocked");
    let elsewhere = people
        .app
        .sign_in_with(&people.bob, json!({ "ip_address": "192.0.2.1" }))
        .await;
    let exchange = exchange_from(&people, &elsewhere, HOSTILE).await;
    assert_eq!(exchange.status, StatusCode::FORBIDDEN, "{}", exchange.body);
    assert_eq!(exchange.json()["error"], "access_denied");
    assert_eq!(
        exchange_from(&people, &elsewhere, "192.0.2.1").await.status,
        StatusCode::OK
    );

    let listed = people
        .app
        .send(
            Method::GET,
            "/v1/risk/ip-blocks",
            Some(&people.risk_key),
            None,
            Body::empty(),
        )
        .await;
    let listed = listed.assert_status(StatusCode::OK)["data"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["ip_address"], HOSTILE);

    // The default rule blocks for an hour.
    people.app.advance(TimeDelta::minutes(61));
    people
        .app
        .sign_in_with(&people.bob, json!({ "ip_address": HOSTILE }))
        .await;

    // A block by hand, lifted by hand.
    let made = people
        .app
        .send(
            Method::POST,
            "/v1/risk/ip-blocks",
            Some(&people.risk_key),
            Some("application/json"),
            Body::from(
                json!({ "ip_address": "203.0.113.0/24", "duration_seconds": 600 }).to_string(),
            ),
        )
        .await;
    let id = made.assert_status(StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = people
        .app
        .post(
            &format!("/v1/users/{}/sessions", people.bob.id),
            json!({ "ip_address": "203.0.113.200" }),
        )
        .await;
    refused.assert_problem(StatusCode::FORBIDDEN, "ip_blocked");
    let lift = format!("/v1/risk/ip-blocks/{id}/lift");
    let lifted = people
        .app
        .send(
            Method::POST,
            &lift,
            Some(&people.risk_key),
            None,
            Body::empty(),
        )
        .await;
    assert!(lifted.assert_status(StatusCode::OK)["lifted_at"].is_string());
    people
        .app
        .sign_in_with(&people.bob, json!({ "ip_address": "203.0.113.200" }))
        .await;
    let again = people
        .app
        .send(
            Method::POST,
            &lift,
            Some(&people.risk_key),
            None,
            Body::empty(),
        )
        .await;
    again.assert_problem(StatusCode::NOT_FOUND, "ip_block_not_found");
}

/// A token exchange as an agent runtime connecting from `ip` makes it.
async fn exchange_from(
    people: &People,
    session: &TestSession,
    ip: &str,
) -> crate::support::RawAnswer {
    let body = form(&[
        ("grant_type", crate::support::agents::TOKEN_EXCHANGE),
        ("subject_token", &session.token),
        (
            "subject_token_type",
            crate::support::agents::ACCESS_TOKEN_TYPE,
        ),
    ]);
    let mut request = Request::post("/oauth2/token")
        .header(header::AUTHORIZATION, people.coder.basic())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let peer: SocketAddr = format!("{ip}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    people.app.send_raw(request).await
}
