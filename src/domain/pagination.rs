//! Keyset pagination: a cursor naming the last item of the previous page, and a bounded
//! page size.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How earlier releases wrapped a key: base64url of `v1:` and the key. Such cursors are
/// still accepted, since event consumers keep theirs across upgrades.
const LEGACY_PREFIX: &str = "v1:";
const LEGACY_ENCODED_PREFIX: &str = "djE6";
const KEY_MAX_LEN: usize = 200;

/// What a list's cursor looks like: the id of the last item of the previous page.
pub const KEY_PATTERN: &str = "^[A-Za-z0-9_]{1,200}$";
/// What a feed's cursor (events, audit) looks like: the position of the last item read.
pub const SEQ_PATTERN: &str = "^[0-9]{1,18}$";

/// Where the next page starts: after the item with this key. The key is the cursor
/// itself, in the open: knowing it gives a caller nothing, since a list shows only what
/// the caller may read whatever the position it starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not one this API issued")]
pub struct CursorInvalid;

impl Cursor {
    pub fn after(key: &str) -> Self {
        Self(key.to_owned())
    }

    pub fn key(&self) -> &str {
        &self.0
    }

    pub fn encode(&self) -> String {
        self.0.clone()
    }

    /// The position a feed's cursor (events, audit) stands after; 0, the start, when
    /// there is none.
    pub fn decode_seq(raw: Option<&str>) -> Result<i64, CursorInvalid> {
        match raw {
            Some(raw) => {
                let key = Self::decode(raw)?;
                let digits = key.key();
                if digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(CursorInvalid);
                }
                digits.parse().map_err(|_| CursorInvalid)
            }
            None => Ok(0),
        }
    }

    pub fn decode(raw: &str) -> Result<Self, CursorInvalid> {
        let key = Self::legacy_key(raw).unwrap_or_else(|| raw.to_owned());
        if key.is_empty()
            || key.len() > KEY_MAX_LEN
            || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(CursorInvalid);
        }
        Ok(Self(key))
    }

    /// The key inside a cursor of an earlier release, if `raw` is one.
    fn legacy_key(raw: &str) -> Option<String> {
        if !raw.starts_with(LEGACY_ENCODED_PREFIX) {
            return None;
        }
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
        text.strip_prefix(LEGACY_PREFIX).map(str::to_owned)
    }
}

/// A page size: 1 to 200, 50 when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("limit must be between 1 and {max}")]
pub struct PageSizeInvalid {
    pub max: u32,
}

impl PageSize {
    pub const DEFAULT: u32 = 50;
    pub const MAX: u32 = 200;

    pub fn new(requested: Option<u32>) -> Result<Self, PageSizeInvalid> {
        match requested.unwrap_or(Self::DEFAULT) {
            n @ 1..=Self::MAX => Ok(Self(n)),
            _ => Err(PageSizeInvalid { max: Self::MAX }),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// One page of items and the cursor for the next page, if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `size + 1` fetched items: the extra one only tells that
    /// another page exists.
    pub fn from_overfetch(mut items: Vec<T>, size: PageSize, key: impl Fn(&T) -> &str) -> Self {
        let more = items.len() > size.get() as usize;
        items.truncate(size.get() as usize);
        let next = more
            .then(|| items.last().map(|last| Cursor::after(key(last))))
            .flatten();
        Self { items, next }
    }

    /// [`Page::from_overfetch`] for items in a feed's `seq` order.
    pub fn from_overfetch_seq(items: Vec<T>, size: PageSize, seq: impl Fn(&T) -> i64) -> Self {
        let mut page = Self::from_overfetch(items, size, |_| "");
        page.next = page.next.and_then(|_| {
            page.items
                .last()
                .map(|last| Cursor::after(&seq(last).to_string()))
        });
        page
    }
}

/// Which sessions a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFilter {
    /// Not revoked, not expired, not idle at `now`.
    Active,
    All,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let cursor = Cursor::after("uss_0123");
        assert_eq!(cursor.encode(), "uss_0123");
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        assert_eq!(Cursor::decode("not a key!"), Err(CursorInvalid));
        assert_eq!(Cursor::decode(""), Err(CursorInvalid));
        assert_eq!(Cursor::decode(&"a".repeat(201)), Err(CursorInvalid));
        assert_eq!(
            Cursor::decode(&URL_SAFE_NO_PAD.encode("v1:x' OR 1=1")),
            Err(CursorInvalid)
        );
    }

    #[test]
    fn a_cursor_of_an_earlier_release_is_still_read() {
        let legacy = URL_SAFE_NO_PAD.encode("v1:uss_0123");
        assert!(legacy.starts_with(LEGACY_ENCODED_PREFIX));
        assert_eq!(Cursor::decode(&legacy), Ok(Cursor::after("uss_0123")));
        let legacy_seq = URL_SAFE_NO_PAD.encode("v1:42");
        assert_eq!(Cursor::decode_seq(Some(&legacy_seq)), Ok(42));
    }

    #[test]
    fn a_feed_cursor_is_a_position() {
        assert_eq!(Cursor::decode_seq(None), Ok(0));
        assert_eq!(Cursor::decode_seq(Some("0")), Ok(0));
        assert_eq!(
            Cursor::decode_seq(Some("999999999999999999")),
            Ok(999_999_999_999_999_999)
        );
        assert_eq!(
            Cursor::decode_seq(Some("1000000000000000000")),
            Err(CursorInvalid)
        );
        assert_eq!(Cursor::decode_seq(Some("usr_1")), Err(CursorInvalid));
    }

    #[test]
    fn a_page_knows_whether_more_follow() {
        let size = PageSize::new(Some(2)).unwrap();
        let page = Page::from_overfetch(vec!["a", "b", "c"], size, |s| s);
        assert_eq!(page.items, vec!["a", "b"]);
        assert_eq!(page.next, Some(Cursor::after("b")));
        let last = Page::from_overfetch(vec!["a"], size, |s| s);
        assert_eq!(last.next, None);
        assert!(PageSize::new(Some(0)).is_err());
        assert!(PageSize::new(Some(201)).is_err());
    }
}
