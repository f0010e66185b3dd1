//! Limits on the text callers send: length and no control characters; and the shape of
//! a date-time.

/// These rules as JSON Schema patterns, for the API's contract: free text holds no
/// control character ([`optional`]); required text also holds something besides white
/// space ([`required`]).
pub const PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
pub const REQUIRED_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// An RFC 3339 date-time, as the API declares the times it takes: a real calendar day
/// (February 29 in leap years only), a time without leap seconds, `Z` or an offset.
/// Whether the time itself makes sense (an expiry ahead, say) no pattern can say; the
/// server checks it.
pub const DATE_TIME_PATTERN: &str = concat!(
    r"^([0-9]{4}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)",
    r"|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)",
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
);

/// Why a piece of caller-supplied text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextRefused {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// Checks a required field: non-empty (after trimming), at most `max` characters, no
/// control characters. Returns the text unchanged.
pub fn required(value: &str, max: usize) -> Result<&str, TextRefused> {
    if value.trim().is_empty() {
        return Err(TextRefused::Empty);
    }
    optional(value, max)
}

/// Checks an optional field's value: at most `max` characters, no control characters.
pub fn optional(value: &str, max: usize) -> Result<&str, TextRefused> {
    if value.chars().count() > max {
        return Err(TextRefused::TooLong(max));
    }
    if value.chars().any(char::is_control) {
        return Err(TextRefused::ControlCharacter);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_checked_for_emptiness_length_and_control_characters() {
        assert_eq!(required(" ", 10), Err(TextRefused::Empty));
        assert_eq!(required("abc", 2), Err(TextRefused::TooLong(2)));
        assert_eq!(optional("a\u{0}b", 10), Err(TextRefused::ControlCharacter));
        assert_eq!(optional("", 10), Ok(""));
        assert_eq!(required("héllo", 5), Ok("héllo"));
    }
}
