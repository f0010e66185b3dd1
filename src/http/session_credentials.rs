//! A person's user session as their browser or a host backend presents it: the token as
//! `Authorization: Bearer leash_ust_…`, or the session cookie. Nothing is judged here:
//! holding one proves nothing until a use case finds the session active.

use std::convert::Infallible;

use aide::OperationInput;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;

use crate::domain::secret::Secret;
use crate::domain::token::TokenKind;

/// The session cookie's name when Leash is served over https (`__Host-`: set by this
/// host alone, `Secure`, path `/`), and over plain http (local use).
pub const SECURE_COOKIE: &str = "__Host-leash_session";
pub const PLAIN_COOKIE: &str = "leash_session";

/// The name of the user session security scheme in the OpenAPI document: its token as
/// Bearer. The cookie works too (the operations say so) but is not declared a scheme
/// yet: declared, schemathesis sends generated cookie values, and one holding a control
/// byte (0x01, 0x7f; RFC 9110 forbids them in a field value) is refused by hyper's
/// parser with an empty 400 before any of Leash's layers sees the request.
pub const BEARER_SCHEME: &str = "user_session";

/// The user session tokens a request carries, if any (they never print).
#[derive(Debug, Default)]
pub struct SessionCredentials {
    pub bearer: Option<Secret>,
    pub cookie: Option<Secret>,
}

impl<S: Sync> FromRequestParts<S> for SessionCredentials {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let bearer = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| t.starts_with(TokenKind::UserSession.prefix()))
            .map(|t| Secret::new(t.to_owned()));
        let cookie = parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == SECURE_COOKIE || *name == PLAIN_COOKIE)
            .map(|(_, value)| value.trim())
            .filter(|t| !t.is_empty())
            .map(|t| Secret::new(t.to_owned()));
        Ok(Self { bearer, cookie })
    }
}

impl OperationInput for SessionCredentials {}
