//! One act of revoking: its cause, who did it, and which user sessions it selects.
//!
//! The planner here turns an act into a selector; the store applies a selector as one
//! set-based statement. Later causes (agent sessions, integrations, risk) extend both.

use chrono::{DateTime, Utc};

use super::id::{RevocationId, UserId, UserSessionId};
use super::text::{self, TextRefused};

/// Why sessions were revoked. The snake_case names are part of the API and of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevocationCause {
    /// One user session was revoked (the user signed out of one device, or the host did).
    UserSessionRevoked,
    SignOutEverywhere,
    /// A password reset or other credential change.
    CredentialChanged,
    /// Offboarding or deactivation.
    UserDisabled,
}

impl RevocationCause {
    pub const ALL: [RevocationCause; 4] = [
        RevocationCause::UserSessionRevoked,
        RevocationCause::SignOutEverywhere,
        RevocationCause::CredentialChanged,
        RevocationCause::UserDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RevocationCause::UserSessionRevoked => "user_session_revoked",
            RevocationCause::SignOutEverywhere => "sign_out_everywhere",
            RevocationCause::CredentialChanged => "credential_changed",
            RevocationCause::UserDisabled => "user_disabled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|cause| cause.as_str() == raw)
    }
}

/// Which user sessions an act revokes. Only sessions still active at the moment of the
/// act are hit; expired ones keep their state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSessionSelector {
    One(UserSessionId),
    AllOfUser {
        user_id: UserId,
        except: Option<UserSessionId>,
    },
}

impl UserSessionSelector {
    /// What the cascade table says `cause` revokes for this user.
    pub fn for_user(
        cause: RevocationCause,
        user_id: UserId,
        except: Option<UserSessionId>,
    ) -> Self {
        match cause {
            // Disabling keeps nothing, not even the session that asked.
            RevocationCause::UserDisabled => Self::AllOfUser {
                user_id,
                except: None,
            },
            _ => Self::AllOfUser { user_id, except },
        }
    }
}

/// The record of one act, answered to the caller and pointed to by every row it revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub id: RevocationId,
    pub cause: RevocationCause,
    pub actor: String,
    pub reason: Option<String>,
    pub user_sessions_revoked: u64,
    pub agent_sessions_revoked: u64,
    pub created_at: DateTime<Utc>,
}

/// Checks the free-text reason a caller may give for a revocation.
pub fn reason(raw: Option<&str>) -> Result<Option<String>, TextRefused> {
    raw.map(|r| text::optional(r, 500).map(str::to_owned))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_round_trip_through_their_names() {
        for cause in RevocationCause::ALL {
            assert_eq!(RevocationCause::parse(cause.as_str()), Some(cause));
        }
    }

    #[test]
    fn disabling_a_user_spares_no_session() {
        let user = UserId::generate();
        let keep = Some(UserSessionId::generate());
        assert_eq!(
            UserSessionSelector::for_user(
                RevocationCause::UserDisabled,
                user.clone(),
                keep.clone()
            ),
            UserSessionSelector::AllOfUser {
                user_id: user.clone(),
                except: None
            }
        );
        assert_eq!(
            UserSessionSelector::for_user(
                RevocationCause::CredentialChanged,
                user.clone(),
                keep.clone()
            ),
            UserSessionSelector::AllOfUser {
                user_id: user,
                except: keep
            }
        );
    }
}
