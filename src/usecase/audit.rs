//! Reading the audit log: listing it, and verifying the hash chain. Entries are
//! appended by every act in its own transaction. On SQLite the act seals them into the
//! chain as it appends them (`store::audit::append_all`); on PostgreSQL sealing
//! (`seal_audit`) runs apart from the acts (a worker, about once a second) so acts
//! never wait on one another for the chain's head.

use chrono::{DateTime, Utc};

use crate::domain::audit::{AuditFilter, ChainBreak, ChainVerifier};
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::domain::text;
use crate::store::audit::StoredAuditEntry;
use crate::store::{self, Db, StoreError};
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Entries read per page when verifying.
const VERIFY_PAGE: u32 = 10_000;
/// The longest filter value accepted.
pub const FILTER_MAX_LEN: usize = 200;

/// One page of entries matching `filter`, oldest first.
pub async fn list(
    app: &App,
    filter: &AuditFilter<'_>,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<ListedAuditEntry>, UsecaseError> {
    let size = PageSize::new(limit)?;
    for (field, value) in [
        ("actor", filter.actor),
        ("target", filter.target),
        ("action", filter.action),
    ] {
        if let Some(value) = value {
            text::required(value, FILTER_MAX_LEN)
                .map_err(|reason| UsecaseError::TextRefused { field, reason })?;
        }
    }
    let after = Cursor::decode_seq(cursor)?;
    let rows = store::audit::list(&app.db, filter, after, size.get() + 1).await?;
    let page = Page::from_overfetch_seq(rows, size, |e| e.seq);
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(ListedAuditEntry::try_from)
            .collect::<Result<_, StoreError>>()?,
        next: page.next,
    })
}

/// An audit entry as the audit API lists it, with its place in the hash chain once
/// sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedAuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub cause: Option<String>,
    pub revocation_id: Option<String>,
    pub request_id: Option<String>,
    pub chain_position: Option<i64>,
    pub hash: Option<Vec<u8>>,
}

impl TryFrom<StoredAuditEntry> for ListedAuditEntry {
    type Error = StoreError;

    fn try_from(e: StoredAuditEntry) -> Result<Self, StoreError> {
        Ok(Self {
            at: e.at()?,
            id: e.id,
            actor: e.actor,
            action: e.action,
            target: e.target,
            cause: e.cause,
            revocation_id: e.revocation_id,
            request_id: e.request_id,
            chain_position: e.chain_position,
            hash: e.hash,
        })
    }
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Entries checked, from the first to the head.
    pub sealed: i64,
    /// Entries appended but not sealed yet (the sealer runs about once a second).
    pub unsealed: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the audit chain is broken: {0}")]
    Broken(#[from] ChainBreak),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Walks the whole chain from its first entry and checks every link and the head.
/// Reads only; needs no running instance.
pub async fn verify(db: &Db) -> Result<Verified, VerifyError> {
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    loop {
        let page = store::audit::chain_after(db, after, VERIFY_PAGE).await?;
        for entry in &page {
            let (Some(position), Some(prev), Some(hash)) =
                (entry.chain_position, &entry.prev_hash, &entry.hash)
            else {
                return Err(
                    StoreError::Corrupt(format!("audit entry {} half sealed", entry.id)).into(),
                );
            };
            verifier.check(position, prev, hash, &entry.chained_fields())?;
            after = position;
        }
        if page.len() < VERIFY_PAGE as usize {
            break;
        }
    }
    let head = store::audit::chain_head(db).await?;
    let sealed = verifier.finish(&head)?;
    let unsealed = store::audit::count_unsealed(db).await?;
    Ok(Verified { sealed, unsealed })
}
