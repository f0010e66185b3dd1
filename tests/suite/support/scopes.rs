//! The scopes the delegation properties draw from.

use proptest::prelude::*;
use proptest::sample::subsequence;

/// Every scope agents, grants and sessions hold in the properties.
pub const SCOPES: [&str; 3] = ["a", "b", "c"];

/// A non-empty subset of [`SCOPES`], in order.
pub fn scopes() -> impl Strategy<Value = Vec<&'static str>> {
    subsequence(SCOPES.to_vec(), 1..=3)
}
