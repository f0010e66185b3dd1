//! Write-behind buffer for sessions' last use. Introspection never writes the
//! database: when a session's last use is due to be recorded (at most once a minute, see
//! `LAST_SEEN_WRITE_INTERVAL`), it lands here, and `workers::last_use_writer` writes the
//! whole buffer with set-based statements about once a second. A million live sessions
//! then cost a few statements a second, not sixteen thousand commits.
//!
//! Losing the buffer in a crash loses at most the last second of recorded use, which
//! can only make an idle timeout end a session earlier, never later.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::domain::session::UsedSession;

#[derive(Debug, Default)]
pub struct LastUseBuffer {
    pending: Mutex<HashMap<UsedSession, DateTime<Utc>>>,
}

impl LastUseBuffer {
    /// Notes that `session` was used at `at`; keeps the latest use per session.
    pub fn record(&self, session: &UsedSession, at: DateTime<Utc>) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = pending.entry(session.clone()).or_insert(at);
        *entry = (*entry).max(at);
    }

    /// The latest use of `session` waiting to be written, if any.
    pub fn pending(&self, session: &UsedSession) -> Option<DateTime<Utc>> {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(session)
            .copied()
    }

    /// Everything recorded since the last call.
    pub fn take(&self) -> Vec<(UsedSession, DateTime<Utc>)> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner))
            .into_iter()
            .collect()
    }

    /// Puts back uses whose write failed, unless newer ones arrived meanwhile.
    pub fn restore(&self, uses: Vec<(UsedSession, DateTime<Utc>)>) {
        for (session, at) in uses {
            self.record(&session, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::domain::id::{AgentSessionId, UserSessionId};

    #[test]
    fn the_latest_use_of_each_session_is_kept_once() {
        let buffer = LastUseBuffer::default();
        let a = UsedSession::User(UserSessionId::generate());
        let b = UsedSession::Agent(AgentSessionId::generate());
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        buffer.record(&a, at + TimeDelta::seconds(5));
        buffer.record(&a, at);
        buffer.record(&b, at);
        let mut taken = buffer.take();
        taken.sort();
        let mut expected = vec![(a, at + TimeDelta::seconds(5)), (b, at)];
        expected.sort();
        assert_eq!(taken, expected);
        assert!(buffer.take().is_empty());
    }

    #[test]
    fn uses_whose_write_failed_come_back_unless_newer_ones_arrived() {
        let buffer = LastUseBuffer::default();
        let a = UsedSession::User(UserSessionId::generate());
        let b = UsedSession::Agent(AgentSessionId::generate());
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        buffer.record(&a, at);
        buffer.record(&b, at);
        let failed = buffer.take();
        buffer.record(&a, at + TimeDelta::seconds(3));
        buffer.restore(failed);
        assert_eq!(buffer.pending(&a), Some(at + TimeDelta::seconds(3)));
        assert_eq!(buffer.pending(&b), Some(at));
    }
}
