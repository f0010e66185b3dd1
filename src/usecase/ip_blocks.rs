//! Address blocks: sign-ins and token exchanges from a blocked address are refused until
//! the block expires or is lifted. A risk rule's `block_ip` makes them; a `risk` or
//! `admin` key may also make, list and lift them.

use core::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::id::{IpBlockId, RiskSignalId};
use crate::domain::ip_range::IpRange;
use crate::domain::pagination::{Cursor, Page, PageSize};
use crate::domain::risk_policy::MAX_BLOCK;
use crate::domain::risk_signal::IpBlock;
use crate::store::{self, Reader, Tx};
use crate::usecase::revoke_sessions::checked_reason;
use crate::usecase::{App, UsecaseError};

/// What a new block is for, and until when.
pub(super) struct NewBlock<'a> {
    pub range: &'a IpRange,
    pub now: DateTime<Utc>,
    pub duration: TimeDelta,
    pub reason: Option<String>,
    pub risk_signal_id: Option<&'a RiskSignalId>,
}

/// Blocks an address or a block in `tx`.
pub(super) async fn block_in(
    tx: &mut Tx,
    actor: &Actor,
    new: NewBlock<'_>,
) -> Result<IpBlock, UsecaseError> {
    let block = IpBlock {
        id: IpBlockId::generate(),
        ip_range: new.range.to_string(),
        reason: new.reason,
        actor: actor.label(),
        risk_signal_id: new.risk_signal_id.cloned(),
        created_at: new.now,
        expires_at: new.now + new.duration,
        lifted_at: None,
    };
    store::ip_blocks::insert(tx, &block, new.range).await?;
    store::audit::append(
        tx,
        &AuditEntry::new(actor, AuditAction::IpBlocked, block.id.as_str(), new.now),
    )
    .await?;
    Ok(block)
}

/// Blocks `range` for `seconds` (1 s to 30 days).
pub async fn block(
    app: &App,
    actor: &Actor,
    range: &IpRange,
    seconds: i64,
    reason: Option<&str>,
) -> Result<IpBlock, UsecaseError> {
    if !(1..=MAX_BLOCK.num_seconds()).contains(&seconds) {
        return Err(UsecaseError::OutOfRange {
            field: "duration_seconds",
            detail: format!("must be from 1 to {}", MAX_BLOCK.num_seconds()),
        });
    }
    let reason = checked_reason(reason)?;
    let mut tx = app.db.begin().await?;
    let new = NewBlock {
        range,
        now: app.clock.now(),
        duration: TimeDelta::seconds(seconds),
        reason,
        risk_signal_id: None,
    };
    let block = block_in(&mut tx, actor, new).await?;
    tx.commit().await?;
    Ok(block)
}

/// Lifts a block in force.
pub async fn lift(app: &App, actor: &Actor, id: &IpBlockId) -> Result<IpBlock, UsecaseError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let block = store::ip_blocks::lift(&mut tx, id, &actor.label(), now)
        .await?
        .ok_or(UsecaseError::IpBlockNotFound)?;
    store::audit::append(
        &mut tx,
        &AuditEntry::new(actor, AuditAction::IpBlockLifted, id.as_str(), now),
    )
    .await?;
    tx.commit().await?;
    Ok(block)
}

/// One page of the blocks in force, newest first.
pub async fn list(
    app: &App,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<IpBlock>, UsecaseError> {
    let size = PageSize::new(limit)?;
    let after = cursor.map(Cursor::decode).transpose()?;
    let rows = store::ip_blocks::list_in_force(
        &app.db,
        app.clock.now(),
        after.as_ref().map(Cursor::key),
        size.get() + 1,
    )
    .await?;
    Ok(Page::from_overfetch(rows, size, |b| b.id.as_str()))
}

/// Refuses `ip` when a block in force holds it.
pub(super) async fn refuse_if_blocked(
    reader: Reader<'_>,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<(), UsecaseError> {
    let Some(ip) = ip else {
        return Ok(());
    };
    match store::ip_blocks::in_force(reader, ip, now).await? {
        Some(block) => Err(UsecaseError::IpBlocked {
            until: block.expires_at,
        }),
        None => Ok(()),
    }
}
