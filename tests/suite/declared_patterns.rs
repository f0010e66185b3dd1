//! The OpenAPI document declares text fields by patterns, so that a client (or a fuzzer)
//! can tell what the server accepts. Each pattern is checked here against the rule the
//! server applies: what the pattern generates, the rule accepts; and where the contract
//! is exact, what the rule accepts, the pattern matches.

use chrono::{DateTime, Utc};
use leash::domain::event::{self, EventType};
use leash::domain::pagination::{self, Cursor};
use leash::domain::scope::{self, Scope};
use leash::domain::{text, webhook};
use proptest::prelude::*;
use proptest::string::string_regex;
use regex::Regex;

/// Strings the pattern describes (proptest generates from a regex without anchors).
fn described_by(pattern: &str) -> impl Strategy<Value = String> {
    let body = pattern
        .strip_prefix('^')
        .and_then(|p| p.strip_suffix('$'))
        .expect("declared patterns are anchored at both ends");
    string_regex(body).expect("a pattern proptest can generate from")
}

fn matcher(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid pattern")
}

/// Near misses as well as hits: printable ASCII, controls, and a few non-ASCII letters
/// and spaces.
fn any_text() -> impl Strategy<Value = String> {
    string_regex(r"[\x00-\x7F\u{85}\u{A0}\u{E9}\u{2028}\u{3000}]{0,40}").expect("a valid regex")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn a_scope_is_what_its_pattern_and_length_say(raw in prop_oneof![described_by(scope::PATTERN), any_text()]) {
        let declared = matcher(scope::PATTERN).is_match(&raw) && raw.len() <= Scope::MAX_LEN;
        prop_assert_eq!(Scope::parse(&raw).is_ok(), declared, "{:?}", raw);
    }

    #[test]
    fn free_text_is_what_its_patterns_say(raw in prop_oneof![described_by(text::REQUIRED_PATTERN), any_text()]) {
        prop_assert_eq!(text::optional(&raw, 1000).is_ok(), matcher(text::PATTERN).is_match(&raw), "{:?}", raw);
        prop_assert_eq!(text::required(&raw, 1000).is_ok(), matcher(text::REQUIRED_PATTERN).is_match(&raw), "{:?}", raw);
    }

    #[test]
    fn a_cursor_is_what_its_pattern_says(raw in prop_oneof![described_by(pagination::KEY_PATTERN), described_by(pagination::SEQ_PATTERN), any_text()]) {
        // A cursor of an earlier release (base64 of `v1:` and a key) is read as well.
        prop_assume!(!raw.starts_with("djE6"));
        prop_assert_eq!(Cursor::decode(&raw).is_ok(), matcher(pagination::KEY_PATTERN).is_match(&raw), "{:?}", raw);
        prop_assert_eq!(Cursor::decode_seq(Some(&raw)).is_ok(), matcher(pagination::SEQ_PATTERN).is_match(&raw), "{:?}", raw);
    }

    #[test]
    fn event_types_are_what_their_patterns_say(
        names in prop::collection::vec(
            prop_oneof![
                prop::sample::select(EventType::ALL.map(EventType::as_str).to_vec()).prop_map(str::to_owned),
                any_text(),
            ],
            1..4,
        )
    ) {
        let list = names.join(",");
        let known = list.split(',').all(|name| EventType::parse(name).is_some());
        prop_assert_eq!(known, matcher(event::TYPE_LIST_PATTERN).is_match(&list), "{:?}", list);
        for name in &names {
            prop_assert_eq!(EventType::parse(name).is_some(), matcher(event::TYPE_PATTERN).is_match(name), "{:?}", name);
        }
    }

    /// The URL pattern promises less than the server takes (IPv6 literals, international
    /// names): only what it describes must be accepted.
    #[test]
    fn a_url_the_pattern_describes_is_a_webhook_target(raw in described_by(webhook::URL_PATTERN)) {
        prop_assume!(raw.len() <= webhook::URL_MAX_LEN);
        prop_assert!(webhook::target(&raw, true).is_ok(), "{:?}", raw);
    }

    #[test]
    fn a_date_time_the_pattern_describes_is_read(raw in described_by(text::DATE_TIME_PATTERN)) {
        let read = serde_json::from_value::<DateTime<Utc>>(serde_json::Value::String(raw.clone()));
        prop_assert!(read.is_ok(), "{:?}: {:?}", raw, read);
    }
}

#[test]
fn the_date_time_pattern_knows_leap_years() {
    let date_time = matcher(text::DATE_TIME_PATTERN);
    for (raw, valid) in [
        ("2024-02-29T00:00:00Z", true),
        ("2000-02-29T00:00:00Z", true),
        ("2023-02-29T00:00:00Z", false),
        ("2100-02-29T00:00:00Z", false),
        ("2023-04-31T00:00:00Z", false),
        ("2023-12-31T23:59:59.123456789+05:30", true),
        ("", false),
    ] {
        assert_eq!(date_time.is_match(raw), valid, "{raw}");
        let read = serde_json::from_value::<DateTime<Utc>>(serde_json::Value::String(raw.into()));
        assert_eq!(read.is_ok(), valid, "{raw}");
    }
}
