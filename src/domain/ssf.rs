//! OpenID Shared Signals (SSF 1.0) as Leash receives them: which CAEP and RISC events it
//! understands, as which risk-signal kinds and severities, and whom a subject identifier
//! names. Verifying the Security Event Token is the receiver's (`crate::usecase::ssf`).

use serde_json::Value;

use super::id::{UserId, UserSessionId};
use super::risk_policy::Severity;
use super::risk_signal::RiskSubject;

const CAEP: &str = "https://schemas.openid.net/secevent/caep/event-type/";
const RISC: &str = "https://schemas.openid.net/secevent/risc/event-type/";
const SSF: &str = "https://schemas.openid.net/secevent/ssf/event-type/";

/// The event types Leash acts on, by the kind their signals carry.
const KNOWN: &[(&str, &str, &str, Severity)] = &[
    (
        CAEP,
        "session-revoked",
        "caep.session-revoked",
        Severity::High,
    ),
    (
        CAEP,
        "credential-change",
        "caep.credential-change",
        Severity::High,
    ),
    (
        CAEP,
        "token-claims-change",
        "caep.token-claims-change",
        Severity::Medium,
    ),
    (
        CAEP,
        "assurance-level-change",
        "caep.assurance-level-change",
        Severity::Medium,
    ),
    (
        CAEP,
        "device-compliance-change",
        "caep.device-compliance-change",
        Severity::High,
    ),
    (
        RISC,
        "account-disabled",
        "risc.account-disabled",
        Severity::High,
    ),
    (
        RISC,
        "account-purged",
        "risc.account-purged",
        Severity::High,
    ),
    (
        RISC,
        "account-credential-change-required",
        "risc.account-credential-change-required",
        Severity::High,
    ),
    (
        RISC,
        "sessions-revoked",
        "risc.sessions-revoked",
        Severity::High,
    ),
    (
        RISC,
        "identifier-changed",
        "risc.identifier-changed",
        Severity::Low,
    ),
    (SSF, "verification", "ssf.verification", Severity::Low),
];

/// The risk-signal kind of an event type, and its severity: `None` for a type Leash
/// does not act on (accepted and ignored).
pub fn kind_of(event_type: &str) -> Option<(&'static str, Severity)> {
    KNOWN.iter().find_map(|(prefix, name, kind, severity)| {
        (event_type.strip_prefix(prefix) == Some(name)).then_some((*kind, *severity))
    })
}

/// Every event type Leash acts on, as full URIs, with its kind: for documentation and
/// for a transmitter's stream configuration.
pub fn known_event_types() -> impl Iterator<Item = (String, &'static str, Severity)> {
    KNOWN
        .iter()
        .map(|(prefix, name, kind, severity)| (format!("{prefix}{name}"), *kind, *severity))
}

/// Whom a subject identifier (RFC 9493) names, as a risk signal's subject: `email` by
/// email; `iss_sub` by the host's id for the person (`external_id` = `sub`); `opaque` by
/// a Leash user id, or else an `external_id`; `complex` by its `user`, narrowed to its
/// `session` when that is a Leash user session id. `None` for a format Leash cannot map.
pub fn subject_of(identifier: &Value) -> Option<RiskSubject> {
    let text = |field: &str| identifier.get(field).and_then(Value::as_str);
    match text("format")? {
        "email" => Some(RiskSubject {
            email: Some(text("email")?.to_owned()),
            ..RiskSubject::default()
        }),
        "iss_sub" => Some(RiskSubject {
            external_id: Some(text("sub")?.to_owned()),
            ..RiskSubject::default()
        }),
        "opaque" => {
            let id = text("id")?;
            Some(match UserId::parse(id) {
                Some(user_id) => RiskSubject {
                    user_id: Some(user_id),
                    ..RiskSubject::default()
                },
                None => RiskSubject {
                    external_id: Some(id.to_owned()),
                    ..RiskSubject::default()
                },
            })
        }
        "complex" => {
            let mut subject = identifier.get("user").and_then(subject_of)?;
            subject.user_session_id = identifier
                .get("session")
                .and_then(|session| session.get("id"))
                .and_then(Value::as_str)
                .and_then(UserSessionId::parse);
            Some(subject)
        }
        _ => None,
    }
}

/// Why a Security Event Token is refused (RFC 8935 §2.3): the `err` code and a
/// description for the transmitter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{err}: {description}")]
pub struct SetRefused {
    pub err: SetErr,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetErr {
    InvalidRequest,
    InvalidKey,
    InvalidIssuer,
    InvalidAudience,
    AuthenticationFailed,
}

impl SetErr {
    pub fn as_str(self) -> &'static str {
        match self {
            SetErr::InvalidRequest => "invalid_request",
            SetErr::InvalidKey => "invalid_key",
            SetErr::InvalidIssuer => "invalid_issuer",
            SetErr::InvalidAudience => "invalid_audience",
            SetErr::AuthenticationFailed => "authentication_failed",
        }
    }
}

impl core::fmt::Display for SetErr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl SetRefused {
    pub fn new(err: SetErr, description: impl Into<String>) -> Self {
        Self {
            err,
            description: description.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn caep_and_risc_event_types_map_to_kinds_and_others_to_none() {
        assert_eq!(
            kind_of("https://schemas.openid.net/secevent/caep/event-type/session-revoked"),
            Some(("caep.session-revoked", Severity::High))
        );
        assert_eq!(
            kind_of("https://schemas.openid.net/secevent/risc/event-type/account-disabled")
                .map(|(kind, _)| kind),
            Some("risc.account-disabled")
        );
        assert_eq!(
            kind_of("https://schemas.openid.net/secevent/caep/event-type/unheard-of"),
            None
        );
        assert_eq!(kind_of("session-revoked"), None);
        assert_eq!(known_event_types().count(), KNOWN.len());
    }

    #[test]
    fn subject_identifiers_name_people_and_sessions() {
        let email = subject_of(&json!({ "format": "email", "email": "a@example.com" })).unwrap();
        assert_eq!(email.email.as_deref(), Some("a@example.com"));
        let iss_sub = subject_of(
            &json!({ "format": "iss_sub", "iss": "https://idp.example", "sub": "alice" }),
        )
        .unwrap();
        assert_eq!(iss_sub.external_id.as_deref(), Some("alice"));
        let user = UserId::generate();
        let opaque = subject_of(&json!({ "format": "opaque", "id": user.as_str() })).unwrap();
        assert_eq!(opaque.user_id, Some(user.clone()));
        let other = subject_of(&json!({ "format": "opaque", "id": "e-1234" })).unwrap();
        assert_eq!(other.external_id.as_deref(), Some("e-1234"));
        let session = UserSessionId::generate();
        let complex = subject_of(&json!({
            "format": "complex",
            "user": { "format": "opaque", "id": user.as_str() },
            "session": { "format": "opaque", "id": session.as_str() },
        }))
        .unwrap();
        assert_eq!(
            (complex.user_id, complex.user_session_id),
            (Some(user), Some(session))
        );
        assert_eq!(
            subject_of(&json!({ "format": "phone_number", "phone_number": "+1" })),
            None
        );
        assert_eq!(subject_of(&json!({ "format": "email" })), None);
    }
}
