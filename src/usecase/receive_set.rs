//! A Security Event Token (RFC 8417) from a Shared Signals transmitter, pushed (RFC
//! 8935) or polled (RFC 8936): verified, then each event Leash understands becomes a
//! risk signal that goes through the risk policy like any other, before the token is
//! acknowledged. Its `jti` is the signals' id among the transmitter's (by its issuer), so
//! a token delivered again, to this instance or another, after a restart or not, acts
//! nothing a second time.

use chrono::DateTime;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::domain::actor::Actor;
use crate::domain::risk_signal::RiskSignal;
use crate::domain::ssf::{self, SetErr, SetRefused};
use crate::upstream::ssf_transmitter::{KeyUnavailable, Transmitter};
use crate::usecase::process_risk_signal;
use crate::usecase::{App, UsecaseError};

/// How far in the future a token's `iat` may be.
const IAT_FUTURE_LEEWAY_SECONDS: i64 = 300;

/// The longest `jti` accepted.
const JTI_MAX_LEN: usize = 150;

/// What a token led to.
#[derive(Debug)]
pub enum Received {
    /// Its events Leash understands were acted on (a token of other events only is
    /// accepted and ignored).
    Accepted,
    Refused(SetRefused),
}

/// Verifies `token` and acts on its events. `Err` only for Leash's own failures (the
/// transmitter should deliver again later).
pub async fn receive(
    app: &App,
    token: &str,
    request_id: Option<String>,
) -> Result<Received, UsecaseError> {
    let (transmitter, claims) = match verified(app, token).await {
        Ok(verified) => verified,
        Err(refused) => return Ok(Received::Refused(refused)),
    };
    let issuer = &transmitter.config.issuer;
    let (jti, events) = match parts(&claims) {
        Ok(parts) => parts,
        Err(refused) => return Ok(Received::Refused(refused)),
    };
    let actor = Actor::transmitter(issuer, request_id);
    for (event_type, payload) in events {
        let Some((kind, severity)) = ssf::kind_of(event_type) else {
            continue;
        };
        let identifier = claims.get("sub_id").or_else(|| payload.get("subject"));
        let subject = identifier.and_then(ssf::subject_of).unwrap_or_default();
        let occurred_at = payload
            .get("event_timestamp")
            .and_then(Value::as_i64)
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0));
        let signal = RiskSignal {
            signal_id: Some(format!("{jti} {kind}")),
            kind: kind.to_owned(),
            severity: app
                .settings
                .ssf_severities
                .get(kind)
                .copied()
                .unwrap_or(severity),
            subject,
            evidence: Some(payload.clone()),
            occurred_at,
        };
        process_risk_signal::process_risk_signal(app, &actor, signal, false).await?;
    }
    Ok(Received::Accepted)
}

/// The transmitter that signed `token`, and its claims, once every check holds.
async fn verified<'a>(app: &'a App, token: &str) -> Result<(&'a Transmitter, Value), SetRefused> {
    let malformed = |what: &str| SetRefused::new(SetErr::InvalidRequest, what);
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| malformed("not a signed JWT with a supported algorithm"))?;
    let typ = header.typ.as_deref().unwrap_or("");
    if !typ.eq_ignore_ascii_case("secevent+jwt")
        && !typ.eq_ignore_ascii_case("application/secevent+jwt")
    {
        return Err(malformed("the header's typ must be secevent+jwt"));
    }
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
        return Err(malformed("the algorithm must be RS256 or ES256"));
    }
    let unverified: Value = jsonwebtoken::dangerous::insecure_decode(token)
        .map(|data| data.claims)
        .map_err(|_| malformed("the claims are not a JSON object"))?;
    let issuer = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("iss is missing"))?;
    let transmitter = app
        .settings
        .ssf_transmitters
        .by_issuer(issuer)
        .ok_or_else(|| SetRefused::new(SetErr::InvalidIssuer, "no transmitter has this issuer"))?;
    let jwk = transmitter
        .key(header.kid.as_deref(), app.clock.now())
        .await
        .map_err(|unavailable| match unavailable {
            KeyUnavailable::Unknown(_) => {
                SetRefused::new(SetErr::InvalidKey, unavailable.to_string())
            }
            KeyUnavailable::Fetch(cause) => {
                tracing::warn!(%cause, issuer, "could not fetch a transmitter's keys");
                SetRefused::new(
                    SetErr::InvalidKey,
                    "the transmitter's keys could not be fetched",
                )
            }
        })?;
    let key = decoding_key(&jwk, header.alg)?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.required_spec_claims = ["iss", "aud"].map(str::to_owned).into();
    validation.leeway = 0;
    validation.set_issuer(&[&transmitter.config.issuer]);
    validation.set_audience(&[&transmitter.config.audience]);
    let claims: Value = jsonwebtoken::decode(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|error| {
            use jsonwebtoken::errors::ErrorKind as K;
            match error.kind() {
                K::InvalidSignature => SetRefused::new(
                    SetErr::AuthenticationFailed,
                    "the signature does not verify",
                ),
                K::InvalidAudience | K::MissingRequiredClaim(_) => {
                    SetRefused::new(SetErr::InvalidAudience, "aud does not name this receiver")
                }
                K::InvalidIssuer => SetRefused::new(SetErr::InvalidIssuer, "iss does not match"),
                _ => malformed("the token does not verify"),
            }
        })?;
    let now = app.clock.now();
    let issued = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| malformed("iat is missing"))?;
    let age = now.timestamp() - issued;
    if age > app.settings.ssf_max_age.num_seconds() {
        return Err(malformed("iat is too old"));
    }
    if -age > IAT_FUTURE_LEEWAY_SECONDS {
        return Err(malformed("iat is in the future"));
    }
    Ok((transmitter, claims))
}

/// The key a JWK is, if it may verify `alg`: RS256 an RSA key of 2048 bits or more,
/// ES256 a P-256 key. Never a symmetric key.
fn decoding_key(jwk: &Jwk, alg: Algorithm) -> Result<DecodingKey, SetRefused> {
    let fits = match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(rsa), Algorithm::RS256) => {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(rsa.n.trim_end_matches('='))
                .map(|n| n.iter().skip_while(|b| **b == 0).count() * 8 >= 2048)
                .unwrap_or(false)
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        _ => false,
    };
    if !fits {
        return Err(SetRefused::new(
            SetErr::InvalidKey,
            "the key does not fit the algorithm (RS256: RSA of 2048 bits or more; ES256: P-256)",
        ));
    }
    DecodingKey::from_jwk(jwk)
        .map_err(|_| SetRefused::new(SetErr::InvalidKey, "the key is malformed"))
}

/// The token's `jti` and its events.
fn parts(claims: &Value) -> Result<(&str, &serde_json::Map<String, Value>), SetRefused> {
    let malformed = |what: &str| SetRefused::new(SetErr::InvalidRequest, what);
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|jti| {
            !jti.is_empty() && jti.len() <= JTI_MAX_LEN && !jti.chars().any(char::is_control)
        })
        .ok_or_else(|| malformed("jti is missing or longer than 150 characters"))?;
    let events = claims
        .get("events")
        .and_then(Value::as_object)
        .filter(|events| !events.is_empty())
        .ok_or_else(|| malformed("events is missing"))?;
    let has_subject = claims.get("sub_id").is_some()
        || events
            .values()
            .all(|payload| payload.get("subject").is_some());
    if !has_subject {
        return Err(malformed("sub_id is missing"));
    }
    Ok((jti, events))
}

/// What one round of polling a transmitter did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollRound {
    pub accepted: usize,
    pub refused: usize,
}

/// The most tokens asked for in one poll.
const POLL_BATCH: u32 = 100;

/// The most polls in one round: a transmitter that keeps answering tokens (the same
/// ones, ignoring acknowledgements) cannot keep a round going.
const POLLS_PER_ROUND: usize = 20;

/// Polls `transmitter` (RFC 8936) until it has nothing more (or for at most
/// [`POLLS_PER_ROUND`] polls): each token received is acted on, then acknowledged in
/// the next request, or reported in `setErrs` when refused. A token Leash failed on
/// (its database) is neither, so it comes again.
pub async fn poll_once(app: &App, transmitter: &Transmitter) -> Result<PollRound, String> {
    let mut round = PollRound::default();
    let mut ack: Vec<String> = Vec::new();
    let mut errors: Vec<(String, String, String)> = Vec::new();
    for _ in 0..POLLS_PER_ROUND {
        let polled = transmitter.poll(&ack, &errors, POLL_BATCH).await?;
        ack.clear();
        errors.clear();
        if polled.sets.is_empty() {
            return Ok(round);
        }
        for (jti, token) in polled.sets {
            let Some(token) = token.as_str() else {
                errors.push((
                    jti,
                    SetErr::InvalidRequest.as_str().to_owned(),
                    "not a JWT".to_owned(),
                ));
                round.refused += 1;
                continue;
            };
            match receive(app, token, None).await {
                Ok(Received::Accepted) => {
                    ack.push(jti);
                    round.accepted += 1;
                }
                Ok(Received::Refused(refused)) => {
                    errors.push((jti, refused.err.as_str().to_owned(), refused.description));
                    round.refused += 1;
                }
                Err(error) => {
                    tracing::warn!(%error, jti, "could not act on a polled event; it will come again")
                }
            }
        }
    }
    // Acknowledge the last batch; what is still waiting waits for the next round.
    transmitter.poll(&ack, &errors, 0).await?;
    Ok(round)
}
