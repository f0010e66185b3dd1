use schemars::JsonSchema;
use serde::Serialize;

/// An error, as RFC 9457 problem details with a stable `code`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:leash:problem:<code>`.
    pub r#type: String,
    pub title: String,
    pub status: u16,
    /// Stable, snake_case; what callers should branch on.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request's `x-request-id`, to quote when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}
