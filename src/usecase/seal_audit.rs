//! Sealing appended audit entries into the hash chain, in append order: every entry on
//! PostgreSQL; on SQLite, only those appended while older ones waited (acts seal their
//! own otherwise).

use crate::domain::audit::ChainLink;
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// Entries sealed per transaction.
const SEAL_BATCH: u32 = 500;

/// Seals every entry appended since the last seal into the chain, in append order.
/// Returns how many. The chain's head is locked, so one sealer runs at a time.
pub async fn seal_audit(app: &App) -> Result<u64, UsecaseError> {
    let mut sealed = 0;
    if !store::audit::any_unsealed(&app.db).await? {
        return Ok(0);
    }
    loop {
        let mut tx = app.db.begin().await?;
        let mut head = store::audit::chain_head(&mut tx).await?;
        let entries = store::audit::unsealed(&mut tx, SEAL_BATCH).await?;
        let links: Vec<(i64, ChainLink)> = entries
            .iter()
            .map(|entry| (entry.seq, head.link(&entry.chained_fields())))
            .collect();
        store::audit::seal(&mut tx, &links, &head).await?;
        tx.commit().await?;
        sealed += links.len() as u64;
        if links.len() < SEAL_BATCH as usize {
            return Ok(sealed);
        }
    }
}
