//! The scopes the delegation properties draw from.

use proptest::prelude::*;
use proptest::sample::subsequence;

/// Every scope agents, grants and sessions hold in the properties: plain ones, and
/// those of the provider `acme`, held only while a connection grants them.
pub const SCOPES: [&str; 4] = ["a", "b", "acme:x", "acme:y"];

/// What `acme` can grant (its scopes as it names them).
pub const UPSTREAM: [&str; 2] = ["x", "y"];

/// A non-empty subset of [`SCOPES`], in order.
pub fn scopes() -> impl Strategy<Value = Vec<&'static str>> {
    subsequence(SCOPES.to_vec(), 1..=SCOPES.len())
}

/// A non-empty subset of [`UPSTREAM`]: what a connect is granted.
pub fn upstream() -> impl Strategy<Value = Vec<&'static str>> {
    subsequence(UPSTREAM.to_vec(), 1..=UPSTREAM.len())
}
