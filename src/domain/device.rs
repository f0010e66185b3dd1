//! What a person calls a device: "Firefox on macOS", from the user agent a session was
//! signed in with. Parsed by the `ua-parser` crate with the uap-core regexes
//! (`uap_regexes.json`: uap-core's `regexes.yaml` as the crate ships it, converted to
//! JSON so no YAML parser is needed; Apache-2.0, `uap_regexes.LICENSE`). The regexes
//! are compiled once, on first use.

use std::sync::OnceLock;

/// uap-core's regexes, as JSON.
const REGEXES: &str = include_str!("uap_regexes.json");

/// The longest user agent parsed; the rest is not looked at.
const PARSED_MAX: usize = 1024;

/// A device as the page names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// "Firefox", "Chrome Mobile"; `None` when unrecognised.
    pub browser: Option<String>,
    /// "macOS", "Android 14"; `None` when unrecognised.
    pub os: Option<String>,
    /// "iPhone", "Pixel 8"; `None` for a computer or when unrecognised.
    pub device: Option<String>,
}

impl Device {
    /// "Firefox on macOS", "Chrome Mobile on Android 14 (Pixel 8)", or "Unknown device".
    pub fn describe(&self) -> String {
        let mut text = match (&self.browser, &self.os) {
            (Some(browser), Some(os)) => format!("{browser} on {os}"),
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => "Unknown device".to_owned(),
        };
        if let Some(device) = &self.device {
            text.push_str(&format!(" ({device})"));
        }
        text
    }
}

fn extractor() -> Option<&'static ua_parser::Extractor<'static>> {
    static EXTRACTOR: OnceLock<Option<ua_parser::Extractor<'static>>> = OnceLock::new();
    EXTRACTOR
        .get_or_init(|| {
            let regexes: ua_parser::Regexes<'static> = serde_json::from_str(REGEXES).ok()?;
            ua_parser::Extractor::try_from(regexes).ok()
        })
        .as_ref()
}

/// The device `user_agent` names.
pub fn of(user_agent: Option<&str>) -> Device {
    let unknown = Device {
        browser: None,
        os: None,
        device: None,
    };
    let (Some(user_agent), Some(extractor)) = (user_agent, extractor()) else {
        return unknown;
    };
    let cut = user_agent
        .char_indices()
        .nth(PARSED_MAX)
        .map_or(user_agent, |(at, _)| &user_agent[..at]);
    let (browser, os, device) = extractor.extract(cut);
    let known = |name: &str| name != "Other";
    Device {
        browser: browser
            .map(|b| b.family.into_owned())
            .filter(|name| known(name)),
        os: os.and_then(|os| {
            let family = os.os.into_owned();
            let family = if family == "Mac OS X" {
                "macOS".to_owned()
            } else {
                family
            };
            known(&family).then(|| match os.major {
                Some(major) if family != "macOS" => format!("{family} {major}"),
                _ => family,
            })
        }),
        device: device
            .map(|d| d.device.into_owned())
            .filter(|name| known(name) && name != "Mac" && !name.starts_with("Generic")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_are_named_as_a_person_would() {
        let cases = [
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:140.0) Gecko/20100101 Firefox/140.0",
                "Firefox on macOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on Windows 10",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Mobile Safari on iOS 17 (iPhone)",
            ),
        ];
        for (user_agent, expected) in cases {
            assert_eq!(of(Some(user_agent)).describe(), expected, "{user_agent}");
        }
        assert_eq!(of(None).describe(), "Unknown device");
        assert_eq!(of(Some("curl/8.5.0")).describe(), "curl");
        assert_eq!(of(Some(&"x".repeat(100_000))).describe(), "Unknown device");
    }
}
