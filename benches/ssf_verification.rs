//! How many Security Event Tokens Leash verifies per second with the transmitter's keys
//! warm: RS256 (2048-bit) and ES256 tokens of an event type Leash ignores (verification
//! alone: header, key, signature, claims), and RS256 session-revoked tokens about a
//! person Leash does not know (verification plus the signal recorded, audited and
//! announced in its transaction). Four tasks share the work, as concurrent pushes
//! would; keys are made with `openssl`.
//!
//!     cargo bench --bench ssf_verification
//!     LEASH_BENCH_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench --bench ssf_verification

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::{Json, Router};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use leash::clock::{Clock as _, SystemClock};
use leash::upstream::ssf_transmitter::{Delivery, TransmitterConfig, Transmitters};
use leash::usecase::Settings;
use leash::usecase::receive_set::{self, Received};
use serde_json::json;

const TOKENS: usize = 4_000;
const TASKS: usize = 4;
const AUDIENCE: &str = "https://leash.example/ssf";
const IGNORED: &str = "https://schemas.openid.net/secevent/caep/event-type/not-acted-on";
const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

fn main() {
    let server = support::server_runtime();
    let rsa = key(Algorithm::RS256, "rsa-1");
    let ec = key(Algorithm::ES256, "ec-1");
    let jwks = JwkSet {
        keys: vec![rsa.1.clone(), ec.1.clone()],
    };
    let base = server.block_on(async {
        let router = Router::new().route("/jwks.json", get(move || async move { Json(jwks) }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        base
    });
    let issuer = format!("{base}/tenants/bench");
    let config = TransmitterConfig {
        issuer: issuer.clone(),
        audience: AUDIENCE.to_owned(),
        jwks_uri: Some(format!("{base}/jwks.json").parse().unwrap()),
        delivery: Delivery::Push,
        allow_private_network: true,
        extra_roots_pem: None,
    };
    println!("Security Event Tokens verified per second, JWKS warm, {TASKS} concurrent tasks");
    for backend in support::backends() {
        let database = server.block_on(backend.fresh());
        let settings = Settings {
            ssf_transmitters: Transmitters::new(
                std::slice::from_ref(&config),
                Duration::from_secs(5),
            )
            .unwrap(),
            ..Settings::default()
        };
        let app = server.block_on(async { support::app(&database.connect().await, settings) });
        let app = Arc::new(app);
        for (what, signing, event, prefix) in [
            (
                "RS256, ignored event (verification)",
                &rsa,
                IGNORED,
                "rs-ignored",
            ),
            (
                "ES256, ignored event (verification)",
                &ec,
                IGNORED,
                "es-ignored",
            ),
            (
                "RS256, session-revoked (+ signal stored)",
                &rsa,
                SESSION_REVOKED,
                "rs-signal",
            ),
        ] {
            let now = SystemClock.now().timestamp();
            let tokens: Vec<String> = (0..TOKENS)
                .map(|i| {
                    let claims = json!({
                        "iss": issuer,
                        "aud": AUDIENCE,
                        "iat": now,
                        "jti": format!("{prefix}-{}-{i}", backend.name()),
                        "sub_id": { "format": "email", "email": format!("nobody-{i}@example.com") },
                        "events": { event: {} },
                    });
                    let mut header = Header::new(signing.2);
                    header.typ = Some("secevent+jwt".to_owned());
                    header.kid = signing.1.common.key_id.clone();
                    jsonwebtoken::encode(&header, &claims, &signing.0).unwrap()
                })
                .collect();
            // Warm: the first token fetches the keys.
            server.block_on(async {
                let first = receive_set::receive(&app, &tokens[0], None).await.unwrap();
                assert!(matches!(first, Received::Accepted), "{first:?}");
            });
            let tokens = Arc::new(tokens);
            let started = Instant::now();
            server.block_on(async {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|task| {
                        let (app, tokens) = (Arc::clone(&app), Arc::clone(&tokens));
                        tokio::spawn(async move {
                            for token in tokens.iter().skip(1 + task).step_by(TASKS) {
                                let received =
                                    receive_set::receive(&app, token, None).await.unwrap();
                                assert!(matches!(received, Received::Accepted));
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            });
            let rate = (TOKENS - 1) as f64 / started.elapsed().as_secs_f64();
            println!("{:<10} {what:<42} {rate:>9.0} SETs/s", backend.name());
        }
    }
}

/// A signing key made by `openssl`, its public JWK (with `kid`), and its algorithm.
fn key(alg: Algorithm, kid: &str) -> (EncodingKey, Jwk, Algorithm) {
    let args: &[&str] = match alg {
        Algorithm::ES256 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        _ => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    };
    let output = Command::new("openssl")
        .arg("genpkey")
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "openssl genpkey failed");
    let encoding = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&output.stdout).unwrap(),
        _ => EncodingKey::from_rsa_pem(&output.stdout).unwrap(),
    };
    let mut jwk = Jwk::from_encoding_key(&encoding, alg).unwrap();
    jwk.common.key_id = Some(kid.to_owned());
    (encoding, jwk, alg)
}
