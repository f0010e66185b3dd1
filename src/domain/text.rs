//! Limits on the free text callers send: length and no control characters.

/// These rules as JSON Schema patterns, for the API's contract: free text holds no
/// control character ([`optional`]); required text also holds something besides white
/// space ([`required`]).
pub const PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
pub const REQUIRED_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

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
