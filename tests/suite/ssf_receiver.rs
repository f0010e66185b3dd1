//! The Shared Signals receiver: Security Event Tokens signed at test time with RSA and
//! EC keys published on a local JWKS, pushed to `/ssf/events` and polled from a local
//! transmitter. Valid tokens act before they are acknowledged; every way a token can be
//! wrong is refused with its RFC 8935 error; a token delivered again acts nothing, on
//! another instance and after a restart too.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::TimeDelta;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use leash::upstream::ssf_transmitter::Transmitters;
use leash::usecase::Settings;
use leash::usecase::receive_set;
use serde_json::{Value, json};

use crate::support::agents::{AgentTokens, TestAgent};
use crate::support::database::text_of;
use crate::support::ssf::{
    ACCOUNT_DISABLED, SESSION_REVOKED, SigningKey, TestTransmitter, ec_key, other_rsa_key, rsa_key,
    sign, sign_with_typ,
};
use crate::support::{RawAnswer, TestApp, TestSession, TestUser};

struct Receiver {
    app: TestApp,
    transmitter: TestTransmitter,
    rsa: SigningKey,
    alice: TestUser,
    laptop: TestSession,
    agent: AgentTokens,
    coder: TestAgent,
}

impl Receiver {
    async fn start() -> Self {
        let rsa = rsa_key("rsa-1");
        let transmitter = TestTransmitter::start(&[&rsa, &ec_key("ec-1")]).await;
        let app = TestApp::start_with(settings_for(&transmitter, false)).await;
        let alice = app
            .post(
                "/v1/users",
                json!({ "external_id": "alice", "email": "alice@example.com" }),
            )
            .await;
        let alice = TestUser {
            id: alice.assert_status(StatusCode::CREATED)["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        };
        let coder = app.register_agent("coder", &["calendar.read"]).await;
        app.consent(&alice, &coder, &["calendar.read"]).await;
        let laptop = app.sign_in(&alice).await;
        let agent = app.delegate(&coder, &laptop, None).await;
        Self {
            app,
            transmitter,
            rsa,
            alice,
            laptop,
            agent,
            coder,
        }
    }

    fn now(&self) -> i64 {
        self.app.clock_now().timestamp()
    }

    /// A SET about alice (by her id, opaque) with one event.
    fn claims(&self, jti: &str, event: &str) -> Value {
        self.transmitter.claims(
            jti,
            self.now(),
            event,
            json!({ "format": "opaque", "id": self.alice.id }),
        )
    }

    async fn push(&self, token: &str) -> RawAnswer {
        push_to(&self.app, token).await
    }

    async fn signals(&self) -> String {
        text_of(
            &self.app.db,
            "SELECT CAST(COUNT(*) AS TEXT) FROM risk_signals",
        )
        .await
    }
}

fn settings_for(transmitter: &TestTransmitter, poll: bool) -> Settings {
    let config = if poll {
        transmitter.poll_config()
    } else {
        transmitter.config()
    };
    Settings {
        ssf_transmitters: Transmitters::new(&[config], Duration::from_secs(5)).unwrap(),
        ..Settings::default()
    }
}

async fn push_to(app: &TestApp, token: &str) -> RawAnswer {
    let request = Request::post("/ssf/events")
        .header(header::CONTENT_TYPE, "application/secevent+jwt")
        .body(Body::from(token.to_owned()))
        .unwrap();
    app.send_raw(request).await
}

#[track_caller]
fn assert_refused(answer: &RawAnswer, err: &str) {
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["err"], err, "{body}");
    assert!(body["description"].is_string());
}

#[tokio::test]
async fn a_valid_session_revoked_token_ends_the_persons_agent_sessions_before_the_202() {
    let r = Receiver::start().await;
    let answer = r
        .push(&sign(&r.rsa, &r.claims("set-1", SESSION_REVOKED)))
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    assert!(!r.app.is_active(&r.agent.access).await);
    let actor = text_of(
        &r.app.db,
        "SELECT actor FROM revocations WHERE cause = 'risk_revocation'",
    )
    .await;
    assert_eq!(actor, format!("ssf:{}", r.transmitter.issuer));
    let kind = text_of(&r.app.db, "SELECT kind FROM risk_signals").await;
    assert_eq!(kind, "caep.session-revoked");
}

#[tokio::test]
async fn es256_tokens_and_every_subject_format_are_understood() {
    let r = Receiver::start().await;
    let ec = {
        // The EC key the transmitter publishes is made per run; publish a known one.
        let ec = ec_key("ec-2");
        r.transmitter.rotate_to(&[&r.rsa, &ec]);
        r.app.advance(TimeDelta::seconds(61));
        ec
    };
    let subjects = [
        json!({ "format": "email", "email": "ALICE@example.com" }),
        json!({ "format": "iss_sub", "iss": r.transmitter.issuer, "sub": "alice" }),
        json!({ "format": "opaque", "id": "alice" }),
        json!({
            "format": "complex",
            "user": { "format": "opaque", "id": r.alice.id },
            "session": { "format": "opaque", "id": r.laptop.id },
        }),
    ];
    for (i, subject) in subjects.into_iter().enumerate() {
        let agent = r.app.delegate(&r.coder, &r.laptop, None).await;
        let claims = r.transmitter.claims(
            &format!("es-{i}"),
            r.now(),
            SESSION_REVOKED,
            subject.clone(),
        );
        let answer = r.push(&sign(&ec, &claims)).await;
        assert_eq!(
            answer.status,
            StatusCode::ACCEPTED,
            "{subject}: {}",
            answer.body
        );
        assert!(!r.app.is_active(&agent.access).await, "{subject}");
    }
    // The complex subject named the laptop's session: it ended too.
    assert!(!r.app.is_active(&r.laptop.token).await);
}

#[tokio::test]
async fn every_kind_of_bad_token_is_refused_with_its_error_and_acts_nothing() {
    let r = Receiver::start().await;
    let good = r.claims("bad-1", SESSION_REVOKED);
    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("https://someone-else.example");
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("https://idp.example/other");
    let mut stale = good.clone();
    stale["iat"] = json!(r.now() - 3601);
    let mut future = good.clone();
    future["iat"] = json!(r.now() + 301);
    let mut no_jti = good.clone();
    no_jti.as_object_mut().unwrap().remove("jti");
    let mut no_subject = good.clone();
    no_subject.as_object_mut().unwrap().remove("sub_id");
    // The public key's modulus as an HMAC secret: the classic key-confusion forgery.
    let public_as_secret = {
        let jwk = r.rsa.public_jwk();
        serde_json::to_vec(&jwk).unwrap()
    };
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.typ = Some("secevent+jwt".to_owned());
    hs_header.kid = Some("rsa-1".to_owned());
    let hs256 = jsonwebtoken::encode(
        &hs_header,
        &good,
        &EncodingKey::from_secret(&public_as_secret).unwrap(),
    )
    .unwrap();
    let unsigned = {
        use base64::Engine as _;
        let b64 =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            b64(&json!({ "alg": "none", "typ": "secevent+jwt" })),
            b64(&good)
        )
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "bad signature",
            sign(&other_rsa_key("rsa-1"), &good),
            "authentication_failed",
        ),
        ("alg none", unsigned, "invalid_request"),
        ("HS256 with the public key", hs256, "invalid_request"),
        ("wrong aud", sign(&r.rsa, &wrong_aud), "invalid_audience"),
        ("unknown iss", sign(&r.rsa, &wrong_iss), "invalid_issuer"),
        (
            "typ missing",
            sign_with_typ(&r.rsa, &good, None),
            "invalid_request",
        ),
        ("stale iat", sign(&r.rsa, &stale), "invalid_request"),
        ("iat ahead", sign(&r.rsa, &future), "invalid_request"),
        ("no jti", sign(&r.rsa, &no_jti), "invalid_request"),
        ("no subject", sign(&r.rsa, &no_subject), "invalid_request"),
        (
            "unknown kid",
            sign(&r.rsa.with_kid("nobody"), &good),
            "invalid_key",
        ),
        ("malformed", "not.a.jwt".to_owned(), "invalid_request"),
        ("empty", String::new(), "invalid_request"),
    ];
    for (what, token, err) in cases {
        let answer = r.push(&token).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{what}: {}",
            answer.body
        );
        assert_eq!(answer.json()["err"], err, "{what}: {}", answer.body);
    }
    let wrong_type = r
        .app
        .send_raw(
            Request::post("/ssf/events")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(sign(&r.rsa, &good)))
                .unwrap(),
        )
        .await;
    assert_refused(&wrong_type, "invalid_request");
    let oversized = push_to(&r.app, &"a".repeat(70 * 1024)).await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.app.is_active(&r.agent.access).await, "nothing acted");
    assert_eq!(r.signals().await, "0");
}

#[tokio::test]
async fn a_token_delivered_again_is_accepted_and_acts_nothing_even_elsewhere_or_after_a_restart() {
    let r = Receiver::start().await;
    let token = sign(&r.rsa, &r.claims("once", SESSION_REVOKED));
    assert_eq!(r.push(&token).await.status, StatusCode::ACCEPTED);
    let later = r.app.delegate(&r.coder, &r.laptop, None).await;
    assert_eq!(r.push(&token).await.status, StatusCode::ACCEPTED);
    // Another instance on the same database (on PostgreSQL, another process would be
    // the same), started afresh: the replay window is the database's.
    let other = r.app.peer_with(settings_for(&r.transmitter, false)).await;
    assert_eq!(push_to(&other, &token).await.status, StatusCode::ACCEPTED);
    assert!(
        r.app.is_active(&later.access).await,
        "the replays acted nothing"
    );
    assert_eq!(r.signals().await, "1");
}

#[tokio::test]
async fn an_unknown_key_id_fetches_the_keys_again_at_most_once_a_minute() {
    let r = Receiver::start().await;
    assert_eq!(
        r.push(&sign(&r.rsa, &r.claims("k-1", ACCOUNT_DISABLED)))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(r.transmitter.jwks_fetches(), 1);
    let rotated = r.rsa.with_kid("rsa-2");
    r.transmitter.rotate_to(&[&rotated]);
    let token = sign(&rotated, &r.claims("k-2", ACCOUNT_DISABLED));
    // Fetched at the first token, a moment ago: not again yet.
    assert_refused(&r.push(&token).await, "invalid_key");
    assert_eq!(r.transmitter.jwks_fetches(), 1);
    r.app.advance(TimeDelta::seconds(61));
    let token = sign(&rotated, &r.claims("k-3", ACCOUNT_DISABLED));
    assert_eq!(r.push(&token).await.status, StatusCode::ACCEPTED);
    assert_eq!(r.transmitter.jwks_fetches(), 2);
}

#[tokio::test]
async fn unknown_event_types_and_unknown_subjects_are_accepted_and_ignored() {
    let r = Receiver::start().await;
    let unknown_type = r.claims(
        "u-1",
        "https://schemas.openid.net/secevent/caep/event-type/something-new",
    );
    assert_eq!(
        r.push(&sign(&r.rsa, &unknown_type)).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(r.signals().await, "0");
    let stranger = r.transmitter.claims(
        "u-2",
        r.now(),
        SESSION_REVOKED,
        json!({ "format": "email", "email": "stranger@example.com" }),
    );
    assert_eq!(
        r.push(&sign(&r.rsa, &stranger)).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(r.signals().await, "1", "recorded, acting on no one");
    assert!(r.app.is_active(&r.agent.access).await);
    let verification = r.claims(
        "u-3",
        "https://schemas.openid.net/secevent/ssf/event-type/verification",
    );
    assert_eq!(
        r.push(&sign(&r.rsa, &verification)).await.status,
        StatusCode::ACCEPTED
    );
    let kind = text_of(
        &r.app.db,
        "SELECT kind FROM risk_signals WHERE signal_id LIKE 'u-3%'",
    )
    .await;
    assert_eq!(kind, "ssf.verification");
}

#[tokio::test]
async fn polled_tokens_are_acted_on_then_acknowledged_and_refused_ones_reported() {
    let rsa = rsa_key("rsa-1");
    let transmitter = TestTransmitter::start(&[&rsa]).await;
    let app = TestApp::start_with(settings_for(&transmitter, true)).await;
    let alice = app
        .post("/v1/users", json!({ "external_id": "alice" }))
        .await
        .assert_status(StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let coder = app.register_agent("coder", &["calendar.read"]).await;
    let alice = TestUser { id: alice };
    app.consent(&alice, &coder, &["calendar.read"]).await;
    let laptop = app.sign_in(&alice).await;
    let agent = app.delegate(&coder, &laptop, None).await;
    let now = app.clock_now().timestamp();
    let subject = json!({ "format": "opaque", "id": alice.id });
    transmitter.queue(
        "p-good",
        sign(
            &rsa,
            &transmitter.claims("p-good", now, SESSION_REVOKED, subject.clone()),
        ),
    );
    transmitter.queue(
        "p-forged",
        sign(
            &other_rsa_key("rsa-1"),
            &transmitter.claims("p-forged", now, ACCOUNT_DISABLED, subject),
        ),
    );
    let config = app.app.settings.ssf_transmitters.clone();
    let polling = config.all().next().unwrap();
    let round = receive_set::poll_once(&app.app, polling).await.unwrap();
    assert_eq!((round.accepted, round.refused), (1, 1));
    assert_eq!(transmitter.acked(), ["p-good"]);
    assert_eq!(
        transmitter.set_errors()["p-forged"]["err"],
        "authentication_failed"
    );
    assert!(!app.is_active(&agent.access).await);
    let status = app.get(&format!("/v1/users/{}", alice.id)).await;
    assert_eq!(
        status.assert_status(StatusCode::OK)["status"],
        "active",
        "the forged account-disabled token did nothing"
    );
    // Nothing is left: the next round asks and finds nothing.
    let round = receive_set::poll_once(&app.app, polling).await.unwrap();
    assert_eq!((round.accepted, round.refused), (0, 0));
}
