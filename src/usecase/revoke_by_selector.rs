//! A security system revokes what a selector names (cause `risk_revocation`), or
//! previews it. Under an `Idempotency-Key` a retried request answers the first
//! revocation instead of revoking again.

use chrono::TimeDelta;
use sha2::{Digest, Sha256};

use crate::domain::actor::Actor;
use crate::domain::revocation::{Preview, Revocation, RevocationCause, Selector};
use crate::domain::risk_selector::RiskSelector;
use crate::domain::text;
use crate::store::idempotency_keys::{self, Claim};
use crate::store::{self, StoreError};
use crate::usecase::revoke_sessions::{self, Act, checked_reason};
use crate::usecase::{App, UsecaseError, revocations};

/// How long a used idempotency key answers its first revocation.
pub const IDEMPOTENCY_KEY_KEPT: TimeDelta = TimeDelta::hours(24);

/// The longest idempotency key a caller may send.
pub const IDEMPOTENCY_KEY_MAX_LEN: usize = 255;

/// What a selector revocation answered, and whether it is the answer to an earlier
/// request under the same idempotency key.
#[derive(Debug)]
pub struct Answered {
    pub revocation: Revocation,
    pub replayed: bool,
}

/// Revokes every session `selector` matches, with descendants, in one transaction.
#[tracing::instrument(skip_all)]
pub async fn revoke_by_selector(
    app: &App,
    actor: &Actor,
    selector: RiskSelector,
    reason: Option<&str>,
    idempotency_key: Option<&str>,
) -> Result<Answered, UsecaseError> {
    let selector = Selector::Risk(selector.checked()?);
    let reason = checked_reason(reason)?;
    let key = idempotency_key.map(checked_key).transpose()?;
    let caller = actor.label();
    let mut tx = app.db.begin().await?;
    if let Some(key) = key {
        let hash = request_hash(&selector, reason.as_deref());
        let now = app.clock.now();
        let claim = idempotency_keys::claim(
            &mut tx,
            &caller,
            key,
            &hash,
            now,
            now + IDEMPOTENCY_KEY_KEPT,
        )
        .await?;
        if let Claim::Used {
            request_hash,
            revocation_id,
        } = claim
        {
            if request_hash != hash {
                return Err(UsecaseError::IdempotencyKeyReused);
            }
            let revocation = match revocation_id {
                Some(id) => store::revocations::find(&mut tx, &id).await?,
                None => None,
            }
            .ok_or_else(|| StoreError::Corrupt(format!("idempotency key {key} unanswered")))?;
            tx.commit().await?;
            return Ok(Answered {
                revocation,
                replayed: true,
            });
        }
    }
    let pending = revoke_sessions::revoke_in(
        &mut tx,
        app,
        Act {
            actor,
            cause: RevocationCause::RiskRevocation,
            selector,
            reason,
        },
    )
    .await?;
    if let Some(key) = key {
        idempotency_keys::answered(&mut tx, &caller, key, &pending.revocation().id).await?;
    }
    Ok(Answered {
        revocation: pending.commit(tx, app).await?,
        replayed: false,
    })
}

/// What revoking `selector` now would hit, changing nothing.
pub async fn preview(app: &App, selector: RiskSelector) -> Result<Preview, UsecaseError> {
    revocations::preview(app, &Selector::Risk(selector.checked()?)).await
}

fn checked_key(raw: &str) -> Result<&str, UsecaseError> {
    text::required(raw, IDEMPOTENCY_KEY_MAX_LEN).map_err(|reason| UsecaseError::TextRefused {
        field: "Idempotency-Key",
        reason,
    })
}

/// The request as understood (selector and reason), hashed: a retry hashes the same
/// however its JSON was spelled.
fn request_hash(selector: &Selector, reason: Option<&str>) -> String {
    let understood = serde_json::json!({
        "selector": store::revocations::selector_json(selector),
        "reason": reason,
    });
    Sha256::digest(understood.to_string())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Forgets idempotency keys past their 24 hours; returns how many.
pub async fn prune_idempotency_keys(app: &App) -> Result<u64, UsecaseError> {
    let mut tx = app.db.begin().await?;
    let pruned = idempotency_keys::prune(&mut tx, app.clock.now()).await?;
    tx.commit().await?;
    Ok(pruned)
}
