use crate::domain::pagination::{self, PageSize};
use schemars::JsonSchema;
use serde::Deserialize;

/// The query of a paginated list.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page size, 1–200 (default 50).
    #[schemars(range(min = 1, max = PageSize::MAX))]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[schemars(pattern(pagination::KEY_PATTERN))]
    pub cursor: Option<String>,
}
