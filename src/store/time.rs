//! Timestamps are stored as Unix milliseconds on both engines.

use chrono::{DateTime, TimeDelta, Utc};

use super::StoreError;

pub fn to_ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms}")))
}

pub fn delta_from_ms(ms: i64) -> TimeDelta {
    TimeDelta::milliseconds(ms)
}
