//! The audit log: append-only, and sealed into a hash chain in append order.

use chrono::{DateTime, Utc};

use super::time::{from_ms, to_ms};
use super::{
    Backend, Db, INSERT_CHUNK, LockMode, Reader, SqliteTx, StoreError, Tx, on_pool, on_reader,
    on_tx, values,
};

use crate::domain::audit::{AuditEntry, AuditFilter, ChainHead, ChainLink, ChainedFields};

pub async fn append(tx: &mut Tx, entry: &AuditEntry) -> Result<(), StoreError> {
    append_all(tx, std::slice::from_ref(entry)).await
}

/// Appends entries in order, with multi-row `INSERT`s. On SQLite, whose transactions
/// hold the one write lock from their start, they are sealed into the chain as they are
/// appended (unless older entries still wait for the sealer, which then seals these
/// after them); on PostgreSQL the sealer seals them soon after, so concurrent acts never
/// wait on one another for the chain's head.
pub async fn append_all(tx: &mut Tx, entries: &[AuditEntry]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let Tx::Sqlite(sqlite) = tx else {
        return insert(tx, entries, &[], None).await;
    };
    if let Some(hint) = sqlite.chain_head_hint()
        && let Some(head) = append_after_hint(sqlite, entries, hint).await?
    {
        sqlite.moved_chain_head(head);
        return Ok(());
    }
    let Some(mut head) = head_if_all_sealed(tx).await? else {
        return insert(tx, entries, &[], None).await;
    };
    let links = link_all(&mut head, entries);
    insert(tx, entries, &links, Some(&head)).await?;
    if let Tx::Sqlite(sqlite) = tx {
        sqlite.moved_chain_head(head);
    }
    Ok(())
}

/// Appends `entries` sealed after `hint`, the head as this writer last moved it, in one
/// round trip instead of two: the head moves only if it is still `hint` and no entry
/// waits for the sealer (another process may have written the file meanwhile), and the
/// rows go in only if it moved. Answers the new head, or `None` when nothing was written.
async fn append_after_hint(
    tx: &mut SqliteTx,
    entries: &[AuditEntry],
    hint: ChainHead,
) -> Result<Option<ChainHead>, StoreError> {
    if entries.len() > INSERT_CHUNK {
        return Ok(None);
    }
    let mut head = hint;
    let links = link_all(&mut head, entries);
    let values = values(Backend::Sqlite, entries.len(), COLUMNS_INSERTED);
    let sql = format!(
        "UPDATE audit_chain_head SET position = ?, hash = ? \
         WHERE id = 1 AND position = ? AND hash = ? \
           AND NOT EXISTS (SELECT 1 FROM audit_log WHERE chain_position IS NULL); \
         INSERT INTO audit_log ({INSERTED}) SELECT * FROM (VALUES {values}) WHERE changes() = 1"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(head.position)
        .bind(head.hash.to_vec())
        .bind(hint.position)
        .bind(hint.hash.to_vec());
    for (entry, link) in entries.iter().zip(&links) {
        query = bind_entry(query, entry, Some(link));
    }
    let written = query.execute(&mut **tx).await?.rows_affected();
    match written {
        0 => Ok(None),
        n if n == entries.len() as u64 + 1 => Ok(Some(head)),
        n => Err(StoreError::Corrupt(format!(
            "audit append wrote {n} rows for {} entries",
            entries.len()
        ))),
    }
}

/// Links `entries` after `head`, in order; `head` then ends at the last.
fn link_all(head: &mut ChainHead, entries: &[AuditEntry]) -> Vec<ChainLink> {
    entries
        .iter()
        .map(|entry| head.link(&entry.chained_fields()))
        .collect()
}

/// Inserts `entries`, each sealed by its link when `links` holds one per entry, and
/// moves the chain's `head` (SQLite only) in the same round trip as the last rows.
async fn insert(
    tx: &mut Tx,
    entries: &[AuditEntry],
    links: &[ChainLink],
    head: Option<&ChainHead>,
) -> Result<(), StoreError> {
    let chunks = entries.len().div_ceil(INSERT_CHUNK);
    for (index, chunk) in entries.chunks(INSERT_CHUNK).enumerate() {
        let values = values(tx.backend(), chunk.len(), COLUMNS_INSERTED);
        let head = head.filter(|_| index + 1 == chunks);
        let move_head = if head.is_some() {
            "; UPDATE audit_chain_head SET position = ?, hash = ? WHERE id = 1"
        } else {
            ""
        };
        let sql = format!("INSERT INTO audit_log ({INSERTED}) VALUES {values}{move_head}");
        let first = index * INSERT_CHUNK;
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (offset, entry) in chunk.iter().enumerate() {
                query = bind_entry(query, entry, links.get(first + offset));
            }
            if let Some(head) = head {
                query = query.bind(head.position).bind(head.hash.to_vec());
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// The columns an append writes, in the order [`bind_entry`] binds them.
const INSERTED: &str = "id, at, actor, action, target, cause, revocation_id, request_id, \
                        chain_position, prev_hash, hash";
const COLUMNS_INSERTED: usize = 11;

fn bind_entry<'q, DB: sqlx::Database>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    entry: &'q AuditEntry,
    link: Option<&ChainLink>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<Vec<u8>>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(entry.id.as_str())
        .bind(to_ms(entry.at))
        .bind(entry.actor.as_str())
        .bind(entry.action.as_str())
        .bind(entry.target.as_str())
        .bind(entry.cause.map(|cause| cause.as_str()))
        .bind(entry.revocation_id.as_ref().map(|id| id.as_str()))
        .bind(entry.request_id.as_deref())
        .bind(link.map(|link| link.position))
        .bind(link.map(|link| link.prev_hash.to_vec()))
        .bind(link.map(|link| link.hash.to_vec()))
}

/// An audit entry as stored, with the action and cause as their names, and its place in
/// the hash chain once sealed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredAuditEntry {
    pub seq: i64,
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub cause: Option<String>,
    pub revocation_id: Option<String>,
    pub request_id: Option<String>,
    pub chain_position: Option<i64>,
    pub prev_hash: Option<Vec<u8>>,
    pub hash: Option<Vec<u8>>,
}

impl StoredAuditEntry {
    pub fn at(&self) -> Result<DateTime<Utc>, StoreError> {
        from_ms(self.at)
    }

    /// The fields the chain hash covers.
    pub fn chained_fields(&self) -> ChainedFields<'_> {
        ChainedFields {
            id: &self.id,
            at_ms: self.at,
            actor: &self.actor,
            action: &self.action,
            target: &self.target,
            cause: self.cause.as_deref(),
            revocation_id: self.revocation_id.as_deref(),
            request_id: self.request_id.as_deref(),
        }
    }
}

const COLUMNS: &str = "seq, id, at, actor, action, target, cause, revocation_id, request_id, \
                       chain_position, prev_hash, hash";

/// Entries after `after_seq` that match `filter`, oldest first.
pub async fn list(
    db: &Db,
    filter: &AuditFilter<'_>,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<StoredAuditEntry>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 AND ($2 = '' OR actor = $2) \
         AND ($3 = '' OR target = $3) AND ($4 = '' OR action = $4) ORDER BY seq LIMIT $5"
    );
    let rows = on_pool!(db, |c| sqlx::query_as::<_, StoredAuditEntry>(
        sqlx::AssertSqlSafe(sql)
    )
    .bind(after_seq)
    .bind(filter.actor.unwrap_or(""))
    .bind(filter.target.unwrap_or(""))
    .bind(filter.action.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(c)
    .await)?;
    Ok(rows)
}

/// Entries after `after_seq`, oldest first.
pub async fn list_after(
    db: &Db,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<StoredAuditEntry>, StoreError> {
    list(db, &AuditFilter::default(), after_seq, limit).await
}

/// The chain's last sealed position and hash; locked until the transaction ends when
/// read through one, so one sealer runs at a time.
pub async fn chain_head(reader: impl Into<Reader<'_>>) -> Result<ChainHead, StoreError> {
    let reader = reader.into();
    let lock = match &reader {
        Reader::Tx(tx) => tx.lock_clause(LockMode::Update),
        Reader::Db(_) => "",
    };
    let sql = format!("SELECT position, hash FROM audit_chain_head WHERE id = 1{lock}");
    let (position, hash) = on_reader!(reader, |c| sqlx::query_as::<_, (i64, Vec<u8>)>(
        sqlx::AssertSqlSafe(sql)
    )
    .fetch_one(c)
    .await)?;
    head(position, hash)
}

/// The chain's head, unless an entry waits to be sealed.
async fn head_if_all_sealed(tx: &mut Tx) -> Result<Option<ChainHead>, StoreError> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, (i64, Vec<u8>)>(
        "SELECT position, hash FROM audit_chain_head WHERE id = 1 \
         AND NOT EXISTS (SELECT 1 FROM audit_log WHERE chain_position IS NULL)"
    )
    .fetch_optional(c)
    .await)?;
    row.map(|(position, hash)| head(position, hash)).transpose()
}

fn head(position: i64, hash: Vec<u8>) -> Result<ChainHead, StoreError> {
    let hash = hash
        .try_into()
        .map_err(|_| StoreError::Corrupt("audit chain head hash length".to_owned()))?;
    Ok(ChainHead { position, hash })
}

/// Up to `limit` entries not sealed yet, in the order they were appended.
pub async fn unsealed(tx: &mut Tx, limit: u32) -> Result<Vec<StoredAuditEntry>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE chain_position IS NULL ORDER BY seq LIMIT $1"
    );
    let rows = on_tx!(tx, |c| sqlx::query_as::<_, StoredAuditEntry>(
        sqlx::AssertSqlSafe(sql)
    )
    .bind(i64::from(limit))
    .fetch_all(c)
    .await)?;
    Ok(rows)
}

/// Writes the links of newly sealed entries (by their `seq`) and the chain's new head.
pub async fn seal(
    tx: &mut Tx,
    links: &[(i64, ChainLink)],
    head: &ChainHead,
) -> Result<(), StoreError> {
    if links.is_empty() {
        return Ok(());
    }
    for chunk in links.chunks(INSERT_CHUNK) {
        let sql = format!(
            "UPDATE audit_log SET chain_position = v.column2, prev_hash = v.column3, \
             hash = v.column4 FROM (VALUES {}) AS v WHERE audit_log.seq = v.column1",
            values(tx.backend(), chunk.len(), 4)
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (seq, link) in chunk {
                query = query
                    .bind(*seq)
                    .bind(link.position)
                    .bind(link.prev_hash.as_slice())
                    .bind(link.hash.as_slice());
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
    }
    on_tx!(tx, |c| sqlx::query(
        "UPDATE audit_chain_head SET position = $1, hash = $2 WHERE id = 1"
    )
    .bind(head.position)
    .bind(head.hash.as_slice())
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Sealed entries after chain position `after`, in chain order.
pub async fn chain_after(
    db: &Db,
    after: i64,
    limit: u32,
) -> Result<Vec<StoredAuditEntry>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE chain_position > $1 ORDER BY chain_position LIMIT $2"
    );
    let rows = on_pool!(db, |c| sqlx::query_as::<_, StoredAuditEntry>(
        sqlx::AssertSqlSafe(sql)
    )
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(c)
    .await)?;
    Ok(rows)
}

/// Whether any entry waits to be sealed: a read, so an idle sealer takes no write lock.
pub async fn any_unsealed(db: &Db) -> Result<bool, StoreError> {
    let waiting = on_pool!(db, |c| {
        sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM (SELECT 1 FROM audit_log WHERE chain_position IS NULL LIMIT 1) AS waiting"
    )
    .fetch_one(c)
    .await
    })?;
    Ok(waiting > 0)
}

/// How many entries wait to be sealed.
pub async fn count_unsealed(db: &Db) -> Result<i64, StoreError> {
    let count = on_pool!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_log WHERE chain_position IS NULL"
    )
    .fetch_one(c)
    .await)?;
    Ok(count)
}

/// The latest `limit` entries, newest first, that `actor` made or whose target is one
/// of `targets`: what a person did, and what was done to them and theirs.
pub async fn about(
    db: &Db,
    actor: &str,
    targets: &[String],
    limit: u32,
) -> Result<Vec<StoredAuditEntry>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE actor = $1 OR target IN ({}) \
         ORDER BY seq DESC LIMIT $2",
        super::placeholders(3, targets.len().max(1))
    );
    let rows = on_pool!(db, |c| {
        let mut query = sqlx::query_as::<_, StoredAuditEntry>(sqlx::AssertSqlSafe(sql))
            .bind(actor)
            .bind(i64::from(limit));
        if targets.is_empty() {
            query = query.bind("");
        }
        for target in targets {
            query = query.bind(target.as_str());
        }
        query.fetch_all(c).await
    })?;
    Ok(rows)
}
