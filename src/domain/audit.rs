//! Audit entries: one per security-relevant act, append-only, never holding a secret.

use chrono::{DateTime, Utc};

use super::actor::Actor;
use super::id::{AuditEntryId, RevocationId};
use super::revocation::RevocationCause;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    ApiKeyCreated,
    ApiKeyRevoked,
    AgentRegistered,
    AgentSecretRotated,
    AgentUpdated,
    AgentDisabled,
    AgentEnabled,
    /// An agent session was issued (token exchange, sub-delegation or host mint).
    AgentSessionCreated,
    /// One act that revoked agent sessions (and no user session directly).
    AgentSessionsRevoked,
    /// A user connected an upstream provider (or connected it again).
    ConnectionConnected,
    /// A connection was disconnected (its sessions revoked, its tokens destroyed).
    ConnectionDisconnected,
    /// The provider refused a connection's grant (its sessions revoked).
    ConnectionNeedsReauthorization,
    /// A connection's upstream token was handed to an agent session (the actor).
    CredentialVended,
    GrantCreated,
    GrantUpdated,
    GrantRevoked,
    /// An address or block was blocked (by a risk rule or by hand).
    IpBlocked,
    /// An address block was lifted before it expired.
    IpBlockLifted,
    /// A host application made a one-time login link to the self-service page (the
    /// target is the user session it opens).
    LoginLinkCreated,
    /// A login link was used: the person's browser holds the session cookie.
    LoginLinkUsed,
    /// The pre-issuance hook allowed an issuance (the target is the session delegated
    /// from); the `agent_session.created` entry follows.
    IssuanceHookAllowed,
    /// The pre-issuance hook denied an issuance.
    IssuanceHookDenied,
    /// The hook gave no usable answer and the failure policy allowed the issuance.
    IssuanceHookFailedOpen,
    /// The hook gave no usable answer and the failure policy refused the issuance.
    IssuanceHookFailedClosed,
    /// A risk signal was received and the policy applied (the target is the signal).
    RiskSignalProcessed,
    UserCreated,
    UserDisabled,
    UserEnabled,
    UserSessionCreated,
    /// One act that revoked user sessions; the revocation record holds the counts.
    UserSessionsRevoked,
    WebhookEndpointCreated,
    WebhookEndpointUpdated,
    WebhookEndpointDisabled,
    WebhookEndpointEnabled,
    WebhookEndpointDeleted,
    WebhookEndpointSecretRotated,
    WebhookEndpointReplayed,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ApiKeyCreated => "api_key.created",
            AuditAction::ApiKeyRevoked => "api_key.revoked",
            AuditAction::AgentRegistered => "agent.registered",
            AuditAction::AgentSecretRotated => "agent.secret_rotated",
            AuditAction::AgentUpdated => "agent.updated",
            AuditAction::AgentDisabled => "agent.disabled",
            AuditAction::AgentEnabled => "agent.enabled",
            AuditAction::AgentSessionCreated => "agent_session.created",
            AuditAction::AgentSessionsRevoked => "agent_sessions.revoked",
            AuditAction::ConnectionConnected => "connection.connected",
            AuditAction::ConnectionDisconnected => "connection.disconnected",
            AuditAction::ConnectionNeedsReauthorization => "connection.needs_reauthorization",
            AuditAction::CredentialVended => "credential.vended",
            AuditAction::GrantCreated => "grant.created",
            AuditAction::GrantUpdated => "grant.updated",
            AuditAction::GrantRevoked => "grant.revoked",
            AuditAction::IpBlocked => "ip.blocked",
            AuditAction::IpBlockLifted => "ip_block.lifted",
            AuditAction::LoginLinkCreated => "login_link.created",
            AuditAction::LoginLinkUsed => "login_link.used",
            AuditAction::IssuanceHookAllowed => "issuance_hook.allowed",
            AuditAction::IssuanceHookDenied => "issuance_hook.denied",
            AuditAction::IssuanceHookFailedOpen => "issuance_hook.failed_open",
            AuditAction::IssuanceHookFailedClosed => "issuance_hook.failed_closed",
            AuditAction::RiskSignalProcessed => "risk_signal.processed",
            AuditAction::UserCreated => "user.created",
            AuditAction::UserDisabled => "user.disabled",
            AuditAction::UserEnabled => "user.enabled",
            AuditAction::UserSessionCreated => "user_session.created",
            AuditAction::UserSessionsRevoked => "user_sessions.revoked",
            AuditAction::WebhookEndpointCreated => "webhook_endpoint.created",
            AuditAction::WebhookEndpointUpdated => "webhook_endpoint.updated",
            AuditAction::WebhookEndpointDisabled => "webhook_endpoint.disabled",
            AuditAction::WebhookEndpointEnabled => "webhook_endpoint.enabled",
            AuditAction::WebhookEndpointDeleted => "webhook_endpoint.deleted",
            AuditAction::WebhookEndpointSecretRotated => "webhook_endpoint.secret_rotated",
            AuditAction::WebhookEndpointReplayed => "webhook_endpoint.replayed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: AuditEntryId,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub request_id: Option<String>,
    pub action: AuditAction,
    /// The id of what was acted on (`usr_…`, `uss_…`, `key_…`).
    pub target: String,
    pub cause: Option<RevocationCause>,
    pub revocation_id: Option<RevocationId>,
}

impl AuditEntry {
    pub fn new(
        actor: &Actor,
        action: AuditAction,
        target: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: AuditEntryId::generate(),
            at,
            actor: actor.label(),
            request_id: actor.request_id.clone(),
            action,
            target: target.into(),
            cause: None,
            revocation_id: None,
        }
    }

    pub fn for_revocation(mut self, cause: RevocationCause, revocation_id: RevocationId) -> Self {
        self.cause = Some(cause);
        self.revocation_id = Some(revocation_id);
        self
    }

    /// The fields the chain hash covers, as they will be stored.
    pub fn chained_fields(&self) -> ChainedFields<'_> {
        ChainedFields {
            id: self.id.as_str(),
            at_ms: self.at.timestamp_millis(),
            actor: &self.actor,
            action: self.action.as_str(),
            target: &self.target,
            cause: self.cause.map(|cause| cause.as_str()),
            revocation_id: self.revocation_id.as_ref().map(|id| id.as_str()),
            request_id: self.request_id.as_deref(),
        }
    }
}

/// The hash before the first entry of the chain.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// The fields of an audit entry that its chain hash covers, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainedFields<'a> {
    pub id: &'a str,
    pub at_ms: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub cause: Option<&'a str>,
    pub revocation_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

/// SHA-256 of the previous entry's hash, this entry's position and its fields encoded as
/// a JSON array (unambiguous: every string is quoted and escaped).
pub fn chain_hash(prev: &[u8; 32], position: i64, fields: &ChainedFields<'_>) -> [u8; 32] {
    use sha2::{Digest as _, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(prev);
    serde_json::to_writer(
        &mut hasher,
        &(
            position,
            fields.id,
            fields.at_ms,
            fields.actor,
            fields.action,
            fields.target,
            fields.cause,
            fields.revocation_id,
            fields.request_id,
        ),
    )
    .unwrap_or_else(|_| unreachable!("hashing strings and numbers cannot fail"));
    hasher.finalize().into()
}

/// The chain's last sealed position and hash, advanced by one entry per link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    pub position: i64,
    pub hash: [u8; 32],
}

/// One entry's place in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainLink {
    pub position: i64,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

impl Default for ChainHead {
    /// The head of an empty chain.
    fn default() -> Self {
        Self {
            position: 0,
            hash: GENESIS_HASH,
        }
    }
}

impl ChainHead {
    /// Links the entry with `fields` after the head, which then ends at it.
    pub fn link(&mut self, fields: &ChainedFields<'_>) -> ChainLink {
        let position = self.position + 1;
        let hash = chain_hash(&self.hash, position, fields);
        let link = ChainLink {
            position,
            prev_hash: self.hash,
            hash,
        };
        *self = ChainHead { position, hash };
        link
    }
}

/// Where a chain read in position order stops being what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("position {expected} is missing (the next entry found is at {found})")]
    Missing { expected: i64, found: i64 },
    #[error("entry {id} at position {position} does not link to the entry before it")]
    Unlinked { position: i64, id: String },
    #[error("entry {id} at position {position} was changed: its hash does not match its fields")]
    Altered { position: i64, id: String },
    #[error("the chain ends at position {last} but its head says {head}")]
    Truncated { last: i64, head: i64 },
}

/// Walks a chain entry by entry, in position order, remembering the last good link.
#[derive(Debug, Clone, Default)]
pub struct ChainVerifier {
    last: ChainHead,
}

impl ChainVerifier {
    /// Checks the next entry: it must be at the next position, name the last hash as
    /// its previous one, and hash to what it stores.
    pub fn check(
        &mut self,
        position: i64,
        prev_hash: &[u8],
        hash: &[u8],
        fields: &ChainedFields<'_>,
    ) -> Result<(), ChainBreak> {
        if position != self.last.position + 1 {
            return Err(ChainBreak::Missing {
                expected: self.last.position + 1,
                found: position,
            });
        }
        if prev_hash != self.last.hash {
            return Err(ChainBreak::Unlinked {
                position,
                id: fields.id.to_owned(),
            });
        }
        let expected = chain_hash(&self.last.hash, position, fields);
        if hash != expected {
            return Err(ChainBreak::Altered {
                position,
                id: fields.id.to_owned(),
            });
        }
        self.last = ChainHead {
            position,
            hash: expected,
        };
        Ok(())
    }

    /// Checks that the chain ended where its head says.
    pub fn finish(&self, head: &ChainHead) -> Result<i64, ChainBreak> {
        if *head != self.last {
            return Err(ChainBreak::Truncated {
                last: self.last.position,
                head: head.position,
            });
        }
        Ok(self.last.position)
    }
}

/// Which audit entries to list: each filter matching exactly when given.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter<'a> {
    pub actor: Option<&'a str>,
    pub target: Option<&'a str>,
    pub action: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(id: &str) -> ChainedFields<'_> {
        ChainedFields {
            id,
            at_ms: 1,
            actor: "operator",
            action: "user.created",
            target: "usr_1",
            cause: None,
            revocation_id: None,
            request_id: None,
        }
    }

    fn chain(ids: &[&'static str]) -> Vec<(i64, [u8; 32], [u8; 32], ChainedFields<'static>)> {
        let mut head = ChainHead::default();
        ids.iter()
            .map(|id| {
                let link = head.link(&fields(id));
                (link.position, link.prev_hash, link.hash, fields(id))
            })
            .collect()
    }

    fn verify(links: &[(i64, [u8; 32], [u8; 32], ChainedFields<'_>)]) -> Result<(), ChainBreak> {
        let mut verifier = ChainVerifier::default();
        for (position, prev, hash, fields) in links {
            verifier.check(*position, prev, hash, fields)?;
        }
        Ok(())
    }

    /// The encoding hashed is the JSON array of the position and the fields, exactly as
    /// the chains already stored were sealed.
    #[test]
    fn the_hash_covers_the_fields_as_one_json_array() {
        use sha2::{Digest as _, Sha256};
        let mut odd = fields("aud_\"quoted\"\n\u{e9}\u{1f511}");
        odd.cause = Some("sign_out");
        odd.request_id = Some("req\\1");
        for fields in [fields("aud_a"), odd] {
            let encoded = serde_json::json!([
                7,
                fields.id,
                fields.at_ms,
                fields.actor,
                fields.action,
                fields.target,
                fields.cause,
                fields.revocation_id,
                fields.request_id,
            ])
            .to_string();
            let mut hasher = Sha256::new();
            hasher.update([3u8; 32]);
            hasher.update(encoded.as_bytes());
            let expected: [u8; 32] = hasher.finalize().into();
            assert_eq!(chain_hash(&[3; 32], 7, &fields), expected);
        }
    }

    #[test]
    fn an_intact_chain_verifies_to_its_head() {
        let links = chain(&["aud_a", "aud_b", "aud_c"]);
        let mut verifier = ChainVerifier::default();
        for (position, prev, hash, fields) in &links {
            verifier.check(*position, prev, hash, fields).unwrap();
        }
        let head = |position| ChainHead {
            position,
            hash: links[2].2,
        };
        assert_eq!(verifier.finish(&head(3)), Ok(3));
        assert_eq!(
            verifier.finish(&head(4)),
            Err(ChainBreak::Truncated { last: 3, head: 4 })
        );
    }

    #[test]
    fn a_changed_field_a_removed_entry_and_a_relinked_entry_are_each_named() {
        let mut altered = chain(&["aud_a", "aud_b", "aud_c"]);
        altered[1].3.target = "usr_2";
        assert_eq!(
            verify(&altered),
            Err(ChainBreak::Altered {
                position: 2,
                id: "aud_b".to_owned()
            })
        );
        let mut removed = chain(&["aud_a", "aud_b", "aud_c"]);
        removed.remove(1);
        assert_eq!(
            verify(&removed),
            Err(ChainBreak::Missing {
                expected: 2,
                found: 3
            })
        );
        let mut relinked = chain(&["aud_a", "aud_b", "aud_c"]);
        relinked[2].1 = [7; 32];
        assert_eq!(
            verify(&relinked),
            Err(ChainBreak::Unlinked {
                position: 3,
                id: "aud_c".to_owned()
            })
        );
    }
}
