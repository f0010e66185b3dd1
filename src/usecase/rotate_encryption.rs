//! The encryption key set, held against the database: an instance starts only with
//! every key that may have sealed a stored value ([`adopt`]), and a rotation re-seals
//! every sealed value under the current key ([`rotate`]), in batches, while the service
//! runs. Each value is replaced only if it is still what was read, so a concurrent
//! writer (which seals with the current key too) is never overwritten. A rotation
//! stopped half-way is resumed by running it again: what is already under the current
//! key is skipped. Once nothing is sealed with another key, the others are forgotten
//! and may be dropped from every instance.

use std::ops::ControlFlow;

use crate::domain::id::{ConnectionId, UpstreamRevocationId, WebhookEndpointId};
use crate::domain::token::TokenHash;
use crate::secret_box::KeyId;
use crate::store::encryption_keys::{RowKey, SealedColumn};
use crate::store::{self, StoreError};
use crate::usecase::disconnect_connection::revocation_context;
use crate::usecase::finish_connection::token_context;
use crate::usecase::start_connection::verifier_context;
use crate::usecase::webhook_endpoints::seal_context;
use crate::usecase::{App, UsecaseError};

/// Why a key set is refused.
#[derive(Debug, thiserror::Error)]
pub enum KeySetRefused {
    #[error(
        "the database holds values sealed with encryption key(s) {}, which this instance \
         does not hold: give it those keys (--previous-encryption-key-files), or run it \
         with the key set the other instances have",
        ids(.0)
    )]
    Missing(Vec<KeyId>),
    #[error(
        "{0} value(s) are still sealed with another key than the current one: an instance \
         with an older key set is writing; give every instance the current key, then run \
         the rotation again"
    )]
    StillSealedWithOthers(u64),
}

fn ids(keys: &[KeyId]) -> String {
    keys.iter()
        .map(KeyId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks that this instance holds every key the database may need, and records its
/// current key as one that seals from now on.
pub async fn adopt(app: &App) -> Result<(), UsecaseError> {
    let mine = app.settings.encryption_keys.ids();
    let missing: Vec<KeyId> = registered(app)
        .await?
        .into_iter()
        .filter(|id| !mine.contains(id))
        .collect();
    if !missing.is_empty() {
        return Err(KeySetRefused::Missing(missing).into());
    }
    let current = app.settings.encryption_keys.current_id().to_string();
    store::encryption_keys::register(&app.db, &current, app.clock.now()).await?;
    Ok(())
}

async fn registered(app: &App) -> Result<Vec<KeyId>, UsecaseError> {
    store::encryption_keys::registered(&app.db)
        .await?
        .iter()
        .map(|raw| {
            KeyId::parse(raw)
                .ok_or_else(|| StoreError::Corrupt(format!("encryption key id {raw:?}")).into())
        })
        .collect()
}

/// What a finished rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    /// Values re-sealed by this run.
    pub resealed: u64,
    /// Keys nothing is sealed with any more: they may be dropped.
    pub retired: Vec<KeyId>,
}

/// Re-seals every sealed value not under the current key, `batch` rows at a time.
/// `progress` hears each batch (column, values re-sealed so far) and may stop the run
/// (`Ok(None)`: resumable by running again).
pub async fn rotate(
    app: &App,
    batch: u32,
    mut progress: impl FnMut(SealedColumn, u64) -> ControlFlow<()>,
) -> Result<Option<Rotated>, UsecaseError> {
    adopt(app).await?;
    let keys = &app.settings.encryption_keys;
    let mut resealed = 0;
    let mut walk = Walk::default();
    while let Some((column, rows)) = walk.next(app, batch).await? {
        for (key, sealed) in rows.iter().filter(|(_, sealed)| !keys.is_current(sealed)) {
            let context = context_of(column, key)?;
            let fresh = keys.seal(&keys.open(sealed, &context)?, &context);
            // Not replaced: a writer sealed it anew, with the current key.
            if store::encryption_keys::replace(&app.db, column, key, sealed, &fresh).await? {
                resealed += 1;
            }
        }
        if progress(column, resealed).is_break() {
            return Ok(None);
        }
    }
    let left = under_other_keys(app, batch).await?;
    if left > 0 {
        return Err(KeySetRefused::StillSealedWithOthers(left).into());
    }
    let retired: Vec<KeyId> = registered(app)
        .await?
        .into_iter()
        .filter(|id| *id != keys.current_id())
        .collect();
    store::encryption_keys::retire_all_but(&app.db, &keys.current_id().to_string()).await?;
    Ok(Some(Rotated { resealed, retired }))
}

/// How many stored values are sealed with another key than the current one.
pub async fn under_other_keys(app: &App, batch: u32) -> Result<u64, UsecaseError> {
    let keys = &app.settings.encryption_keys;
    let mut count = 0;
    let mut walk = Walk::default();
    while let Some((_, rows)) = walk.next(app, batch).await? {
        count += rows.iter().filter(|(_, s)| !keys.is_current(s)).count() as u64;
    }
    Ok(count)
}

/// Every sealed value, column after column, a batch at a time in key order.
#[derive(Default)]
struct Walk {
    column: usize,
    after: Option<RowKey>,
}

impl Walk {
    async fn next(
        &mut self,
        app: &App,
        batch: u32,
    ) -> Result<Option<(SealedColumn, Vec<(RowKey, Vec<u8>)>)>, UsecaseError> {
        while let Some(&column) = SealedColumn::ALL.get(self.column) {
            let rows =
                store::encryption_keys::batch(&app.db, column, self.after.as_ref(), batch).await?;
            match rows.last() {
                Some((last, _)) => {
                    self.after = Some(last.clone());
                    return Ok(Some((column, rows)));
                }
                None => {
                    self.column += 1;
                    self.after = None;
                }
            }
        }
        Ok(None)
    }
}

/// The context a value of `column` at `key` is sealed under (its row).
fn context_of(column: SealedColumn, key: &RowKey) -> Result<String, UsecaseError> {
    let corrupt = || UsecaseError::Store(StoreError::Corrupt(format!("{} key", column.describe())));
    Ok(match (column, key) {
        (SealedColumn::ConnectionAccessToken, RowKey::Text(id)) => token_context(
            &ConnectionId::from_stored(id.clone()),
            crate::domain::connection::UpstreamToken::Access.as_str(),
        ),
        (SealedColumn::ConnectionRefreshToken, RowKey::Text(id)) => token_context(
            &ConnectionId::from_stored(id.clone()),
            crate::domain::connection::UpstreamToken::Refresh.as_str(),
        ),
        (SealedColumn::UpstreamRevocationToken, RowKey::Text(id)) => {
            revocation_context(&UpstreamRevocationId::from_stored(id.clone()))
        }
        (SealedColumn::WebhookSecret, RowKey::Text(id)) => {
            seal_context(&WebhookEndpointId::from_stored(id.clone()), "current")
        }
        (SealedColumn::WebhookPreviousSecret, RowKey::Text(id)) => {
            seal_context(&WebhookEndpointId::from_stored(id.clone()), "previous")
        }
        (SealedColumn::PkceVerifier, RowKey::Bytes(hash)) => verifier_context(
            &TokenHash::from_bytes(hash.as_slice().try_into().map_err(|_| corrupt())?),
        ),
        _ => return Err(corrupt()),
    })
}
