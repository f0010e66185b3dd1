//! One act of revoking: its cause, who did it, and which sessions it selects.
//!
//! A selector says what an act hits; everything else about the act follows from it: the
//! rows it locks and so whose caches go stale ([`Reach`]), its audit action, and what its
//! preview shows. The store turns a selector into SQL (`crate::store::selection`), the
//! revocation core (`crate::usecase::revoke_sessions`) does the rest, so a new way to
//! revoke is one `Selector` case and its SQL.

use chrono::{DateTime, Utc};

use super::audit::AuditAction;
use super::id::{
    AgentId, AgentSessionId, ConnectionId, GrantId, RevocationId, UserId, UserSessionId,
};
use super::invalidation::Invalidation;
use super::provider::ProviderId;
use super::risk_selector::{RiskSelector, SelectedKinds};
use super::scope::ScopeSet;
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
    /// One agent session was revoked (by the host, or by its agent through RFC 7009).
    AgentSessionRevoked,
    AgentDisabled,
    GrantRevoked,
    /// A grant or an agent's ceiling was narrowed below what a session holds.
    ScopeReduced,
    /// A rotated refresh token was presented again after the grace window.
    RefreshTokenReused,
    /// The person (or an operator) disconnected an upstream provider the sessions could
    /// use.
    IntegrationDisconnected,
    /// The provider refused the connection's refresh token (`invalid_grant`): the grant
    /// is gone there.
    UpstreamRevoked,
    /// A security system revoked by selector.
    RiskRevocation,
}

impl RevocationCause {
    pub const ALL: [RevocationCause; 12] = [
        RevocationCause::UserSessionRevoked,
        RevocationCause::SignOutEverywhere,
        RevocationCause::CredentialChanged,
        RevocationCause::UserDisabled,
        RevocationCause::AgentSessionRevoked,
        RevocationCause::AgentDisabled,
        RevocationCause::GrantRevoked,
        RevocationCause::ScopeReduced,
        RevocationCause::RefreshTokenReused,
        RevocationCause::IntegrationDisconnected,
        RevocationCause::UpstreamRevoked,
        RevocationCause::RiskRevocation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RevocationCause::UserSessionRevoked => "user_session_revoked",
            RevocationCause::SignOutEverywhere => "sign_out_everywhere",
            RevocationCause::CredentialChanged => "credential_changed",
            RevocationCause::UserDisabled => "user_disabled",
            RevocationCause::AgentSessionRevoked => "agent_session_revoked",
            RevocationCause::AgentDisabled => "agent_disabled",
            RevocationCause::GrantRevoked => "grant_revoked",
            RevocationCause::ScopeReduced => "scope_reduced",
            RevocationCause::RefreshTokenReused => "refresh_token_reused",
            RevocationCause::IntegrationDisconnected => "integration_disconnected",
            RevocationCause::UpstreamRevoked => "upstream_revoked",
            RevocationCause::RiskRevocation => "risk_revocation",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|cause| cause.as_str() == raw)
    }
}

/// What an act revokes, as the cascade table of DESIGN.md says. Only sessions still
/// active at the moment of the act are hit; expired ones keep their state. Every
/// variant that names agent sessions takes their descendants too (invariant 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// One user session and every agent session delegated from it.
    UserSession(UserSessionId),
    /// Every user session of the user but `except`, and every agent session of the user.
    AllOfUser {
        user_id: UserId,
        except: Option<UserSessionId>,
    },
    /// Agent sessions, possibly of several users (a refresh family is one agent
    /// session).
    AgentSessions(Vec<AgentSessionId>),
    /// Every agent session under a grant.
    Grant(GrantId),
    /// The agent sessions under a grant holding a scope outside `allowed`.
    GrantNarrowed {
        grant_id: GrantId,
        allowed: ScopeSet,
    },
    /// Every agent session of an agent, for all users.
    Agent(AgentId),
    /// The agent sessions of an agent holding a scope outside its new ceiling.
    CeilingNarrowed {
        agent_id: AgentId,
        allowed: ScopeSet,
    },
    /// The agent sessions of a user holding a scope of one provider (`github:…`): what
    /// could use the user's connection to it.
    Connection {
        connection_id: ConnectionId,
        user_id: UserId,
        provider: ProviderId,
    },
    /// The agent sessions of a user holding a scope of one provider that its connection
    /// no longer grants (`allowed`: the upstream scopes it still grants).
    ConnectionNarrowed {
        connection_id: ConnectionId,
        user_id: UserId,
        provider: ProviderId,
        allowed: Vec<String>,
    },
    /// The sub-delegations of an agent session whose scopes narrowed (on refresh)
    /// holding a scope outside its new scopes; the session itself stays.
    SessionNarrowed {
        agent_session_id: AgentSessionId,
        allowed: ScopeSet,
    },
    /// What a security system names: the sessions matching every field of a checked
    /// [`RiskSelector`], and their descendants.
    Risk(RiskSelector),
}

impl Selector {
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

    /// The audit action of the act: whether it aims at user sessions (agent sessions go
    /// with them) or at agent sessions alone.
    pub fn audit_action(&self) -> AuditAction {
        match self {
            Self::UserSession(_) | Self::AllOfUser { .. } => AuditAction::UserSessionsRevoked,
            Self::Risk(risk) if risk.kinds != SelectedKinds::Agent => {
                AuditAction::UserSessionsRevoked
            }
            _ => AuditAction::AgentSessionsRevoked,
        }
    }

    /// The id of what the act aimed at, for its audit entry.
    pub fn target(&self) -> &str {
        match self {
            Self::UserSession(id) => id.as_str(),
            Self::AllOfUser { user_id, .. } => user_id.as_str(),
            Self::SessionNarrowed {
                agent_session_id: id,
                ..
            } => id.as_str(),
            // The record's selector lists them all.
            Self::AgentSessions(ids) => ids.first().map_or("", AgentSessionId::as_str),
            Self::Grant(id) | Self::GrantNarrowed { grant_id: id, .. } => id.as_str(),
            Self::Agent(id) | Self::CeilingNarrowed { agent_id: id, .. } => id.as_str(),
            Self::Connection { connection_id, .. }
            | Self::ConnectionNarrowed { connection_id, .. } => connection_id.as_str(),
            Self::Risk(risk) => risk.target(),
        }
    }
}

/// The rows an act locked (those issuance holds in share mode): whose cached tokens may
/// be stale once it commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Within these users (none when what the act names does not exist).
    Users(Vec<UserId>),
    /// Across users, under one agent.
    AcrossUsers,
}

/// Past this many users an act's instances forget every cached token rather than each
/// user's: one message instead of thousands.
pub const USERS_FORGOTTEN_ONE_BY_ONE: usize = 100;

impl Reach {
    /// What every instance must forget once the act commits.
    pub fn invalidations(&self) -> Vec<Invalidation> {
        match self {
            Reach::Users(users) if users.len() <= USERS_FORGOTTEN_ONE_BY_ONE => {
                users.iter().cloned().map(Invalidation::User).collect()
            }
            // Tokens of many users: cheaper to forget them all than to find them.
            Reach::Users(_) | Reach::AcrossUsers => vec![Invalidation::Everything],
        }
    }
}

/// Which kind of session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionKind {
    User,
    Agent,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::User => "user",
            SessionKind::Agent => "agent",
        }
    }
}

/// What an act would hit, changing nothing: how many sessions of each kind, and a
/// sample of them (the oldest of each kind).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    pub user_sessions: u64,
    pub agent_sessions: u64,
    pub sample: Vec<PreviewedSession>,
}

/// One session a preview shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewedSession {
    pub kind: SessionKind,
    pub id: String,
    pub user_id: UserId,
    /// The agent holding it (agent sessions only).
    pub agent_id: Option<AgentId>,
    /// Where it signed in from (user sessions only).
    pub ip_address: Option<String>,
    pub created_at: DateTime<Utc>,
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

/// The longest reason a caller may give for a revocation.
pub const REASON_MAX_LEN: usize = 500;

/// Checks the free-text reason a caller may give for a revocation.
pub fn reason(raw: Option<&str>) -> Result<Option<String>, TextRefused> {
    raw.map(|r| text::optional(r, REASON_MAX_LEN).map(str::to_owned))
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
    fn an_act_reaching_many_users_forgets_every_cached_token() {
        let users = |n: usize| Reach::Users((0..n).map(|_| UserId::generate()).collect());
        assert_eq!(
            users(USERS_FORGOTTEN_ONE_BY_ONE).invalidations().len(),
            USERS_FORGOTTEN_ONE_BY_ONE
        );
        assert_eq!(
            users(USERS_FORGOTTEN_ONE_BY_ONE + 1).invalidations(),
            [Invalidation::Everything]
        );
        assert_eq!(
            Reach::AcrossUsers.invalidations(),
            [Invalidation::Everything]
        );
    }

    #[test]
    fn disabling_a_user_spares_no_session() {
        let user = UserId::generate();
        let keep = Some(UserSessionId::generate());
        assert_eq!(
            Selector::for_user(RevocationCause::UserDisabled, user.clone(), keep.clone()),
            Selector::AllOfUser {
                user_id: user.clone(),
                except: None
            }
        );
        assert_eq!(
            Selector::for_user(
                RevocationCause::CredentialChanged,
                user.clone(),
                keep.clone()
            ),
            Selector::AllOfUser {
                user_id: user,
                except: keep
            }
        );
    }
}
