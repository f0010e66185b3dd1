//! A Shared Signals transmitter for the tests: RSA and EC keys made at test time (by
//! `openssl`), a JWKS and an SSF configuration document served on loopback (the key set
//! can be rotated, and fetches are counted), a poll endpoint (RFC 8936) that hands out
//! queued tokens and records acknowledgements and errors, and Security Event Tokens
//! signed with any of it.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use leash::domain::secret::Secret;
use leash::upstream::ssf_transmitter::{Delivery, TransmitterConfig};
use serde_json::{Value, json};

pub const AUDIENCE: &str = "https://leash.example/ssf";
pub const SESSION_REVOKED: &str =
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
pub const ACCOUNT_DISABLED: &str =
    "https://schemas.openid.net/secevent/risc/event-type/account-disabled";

/// A private key (PEM) and the algorithm it signs with.
#[derive(Clone)]
pub struct SigningKey {
    pub pem: Vec<u8>,
    pub alg: Algorithm,
    pub kid: String,
}

impl SigningKey {
    fn encoding(&self) -> EncodingKey {
        match self.alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(&self.pem).unwrap(),
            _ => EncodingKey::from_rsa_pem(&self.pem).unwrap(),
        }
    }

    pub fn public_jwk(&self) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(&self.encoding(), self.alg).unwrap();
        jwk.common.key_id = Some(self.kid.clone());
        jwk
    }

    /// The same key under another id.
    pub fn with_kid(&self, kid: &str) -> Self {
        Self {
            kid: kid.to_owned(),
            ..self.clone()
        }
    }
}

fn openssl_key(args: &[&str]) -> Vec<u8> {
    let output = Command::new("openssl")
        .arg("genpkey")
        .args(args)
        .output()
        .expect("openssl is installed (.ci/run installs it)");
    assert!(output.status.success(), "{output:?}");
    output.stdout
}

/// An RSA 2048 key (made once per test run: making one takes a while).
pub fn rsa_key(kid: &str) -> SigningKey {
    static PEM: OnceLock<Vec<u8>> = OnceLock::new();
    rsa_from(&PEM, kid)
}

/// Another RSA key, a stranger to every key set.
pub fn other_rsa_key(kid: &str) -> SigningKey {
    static PEM: OnceLock<Vec<u8>> = OnceLock::new();
    rsa_from(&PEM, kid)
}

fn rsa_from(made: &OnceLock<Vec<u8>>, kid: &str) -> SigningKey {
    let pem = made
        .get_or_init(|| openssl_key(&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]));
    SigningKey {
        pem: pem.clone(),
        alg: Algorithm::RS256,
        kid: kid.to_owned(),
    }
}

pub fn ec_key(kid: &str) -> SigningKey {
    SigningKey {
        pem: openssl_key(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
        alg: Algorithm::ES256,
        kid: kid.to_owned(),
    }
}

#[derive(Clone, Default)]
struct Shared {
    keys: Arc<Mutex<Vec<Jwk>>>,
    jwks_fetches: Arc<AtomicUsize>,
    base: Arc<Mutex<String>>,
    queued: Arc<Mutex<BTreeMap<String, String>>>,
    acked: Arc<Mutex<Vec<String>>>,
    errors: Arc<Mutex<Value>>,
}

pub struct TestTransmitter {
    /// `http://127.0.0.1:<port>/tenants/acme`: a path, so discovery must insert the
    /// well-known segment before it.
    pub issuer: String,
    shared: Shared,
}

impl TestTransmitter {
    pub async fn start(keys: &[&SigningKey]) -> Self {
        let shared = Shared::default();
        *shared.keys.lock().unwrap() = keys.iter().map(|k| k.public_jwk()).collect();
        let router = Router::new()
            .route(
                "/.well-known/ssf-configuration/tenants/acme",
                get(configuration),
            )
            .route("/jwks.json", get(jwks))
            .route("/poll", post(poll))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        *shared.base.lock().unwrap() = base.clone();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            issuer: format!("{base}/tenants/acme"),
            shared,
        }
    }

    /// As Leash's configuration names it: push delivery, keys found by discovery.
    pub fn config(&self) -> TransmitterConfig {
        TransmitterConfig {
            issuer: self.issuer.clone(),
            audience: AUDIENCE.to_owned(),
            jwks_uri: None,
            delivery: Delivery::Push,
            allow_private_network: true,
            extra_roots_pem: None,
        }
    }

    /// The same, polled.
    pub fn poll_config(&self) -> TransmitterConfig {
        let base = self.shared.base.lock().unwrap().clone();
        TransmitterConfig {
            delivery: Delivery::Poll {
                url: format!("{base}/poll").parse().unwrap(),
                token: Secret::new("poll-token".to_owned()),
            },
            ..self.config()
        }
    }

    pub fn rotate_to(&self, keys: &[&SigningKey]) {
        *self.shared.keys.lock().unwrap() = keys.iter().map(|k| k.public_jwk()).collect();
    }

    pub fn jwks_fetches(&self) -> usize {
        self.shared.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn queue(&self, jti: &str, token: String) {
        self.shared
            .queued
            .lock()
            .unwrap()
            .insert(jti.to_owned(), token);
    }

    pub fn acked(&self) -> Vec<String> {
        self.shared.acked.lock().unwrap().clone()
    }

    pub fn set_errors(&self) -> Value {
        self.shared.errors.lock().unwrap().clone()
    }

    /// Claims of a SET from this transmitter about `subject`, with one event.
    pub fn claims(&self, jti: &str, iat: i64, event: &str, subject: Value) -> Value {
        json!({
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": iat,
            "jti": jti,
            "sub_id": subject,
            "events": { event: {} },
        })
    }
}

/// `claims` signed with `key` as a SET (`typ: secevent+jwt`).
pub fn sign(key: &SigningKey, claims: &Value) -> String {
    sign_with_typ(key, claims, Some("secevent+jwt"))
}

pub fn sign_with_typ(key: &SigningKey, claims: &Value, typ: Option<&str>) -> String {
    let mut header = Header::new(key.alg);
    header.typ = typ.map(str::to_owned);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding()).unwrap()
}

async fn configuration(State(shared): State<Shared>) -> Json<Value> {
    let base = shared.base.lock().unwrap().clone();
    Json(json!({
        "spec_version": "1_0",
        "issuer": format!("{base}/tenants/acme"),
        "jwks_uri": format!("{base}/jwks.json"),
        "delivery_methods_supported": ["urn:ietf:rfc:8935", "urn:ietf:rfc:8936"],
    }))
}

async fn jwks(State(shared): State<Shared>) -> Json<JwkSet> {
    shared.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    Json(JwkSet {
        keys: shared.keys.lock().unwrap().clone(),
    })
}

async fn poll(State(shared): State<Shared>, Json(request): Json<Value>) -> Json<Value> {
    let mut queued = shared.queued.lock().unwrap();
    for jti in request["ack"].as_array().into_iter().flatten() {
        let jti = jti.as_str().unwrap().to_owned();
        queued.remove(&jti);
        shared.acked.lock().unwrap().push(jti);
    }
    if let Some(errors) = request["setErrs"].as_object() {
        let mut recorded = shared.errors.lock().unwrap();
        if recorded.is_null() {
            *recorded = json!({});
        }
        for (jti, error) in errors {
            queued.remove(jti);
            recorded[jti] = error.clone();
        }
    }
    let sets: serde_json::Map<String, Value> = queued
        .iter()
        .map(|(jti, token)| (jti.clone(), Value::String(token.clone())))
        .collect();
    Json(json!({ "sets": sets, "moreAvailable": false }))
}
