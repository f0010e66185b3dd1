//! Asking providers to revoke the tokens disconnects destroyed (RFC 7009), behind the
//! requests that disconnected: lease the due rows, ask (outside any transaction),
//! record the answer. A provider that does not answer is asked again on a schedule of
//! about three days; the refresh and the access token are asked apart, so one failing
//! never keeps the other alive. A worker that dies between lease and record leaves the
//! row to the next once its lease runs out: the provider is asked at least once.

use chrono::{DateTime, Utc};

use crate::domain::connection::{
    ConnectionStatus, ReceiptStatus, UpstreamToken, next_revocation_attempt,
};
use crate::domain::event::EventType;
use crate::domain::secret::Secret;
use crate::store::upstream_revocations::LeasedRevocation;
use crate::store::{self, Tx};
use crate::upstream::oauth_provider::{Revoked, UpstreamTokenKind};
use crate::usecase::disconnect_connection::revocation_context;
use crate::usecase::{App, UsecaseError, connections};

/// Rows leased at once.
const BATCH: u32 = 32;

/// Asks the providers about every due row; answers how many were asked.
pub async fn revoke_due(app: &App) -> Result<usize, UsecaseError> {
    let now = app.clock.now();
    if !store::upstream_revocations::any_due(&app.db, now).await? {
        return Ok(0);
    }
    let mut tx = app.db.begin().await?;
    let leased = store::upstream_revocations::lease_due(
        &mut tx,
        now,
        now + app.settings.upstream_lease,
        BATCH,
    )
    .await?;
    tx.commit().await?;
    let asked = leased.len();
    for row in leased {
        ask(app, row).await?;
    }
    Ok(asked)
}

async fn ask(app: &App, row: LeasedRevocation) -> Result<(), UsecaseError> {
    let attempts = row.attempts.saturating_add(1);
    let answer = match app.settings.providers.get(&row.provider) {
        None => Err("the provider is no longer configured".to_owned()),
        Some(client) => {
            let plain = app
                .settings
                .encryption_keys
                .open(&row.token_sealed, &revocation_context(&row.id))?;
            let token = Secret::new(String::from_utf8_lossy(&plain).into_owned());
            let kind = match row.token {
                UpstreamToken::Access => UpstreamTokenKind::Access,
                UpstreamToken::Refresh => UpstreamTokenKind::Refresh,
            };
            client.revoke(&token, kind).await.map_err(|e| e.to_string())
        }
    };
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    match answer {
        Ok(Revoked::Yes) => {
            store::upstream_revocations::finish(
                &mut tx,
                &row.id,
                ReceiptStatus::Revoked,
                attempts,
                None,
                now,
            )
            .await?;
        }
        Ok(Revoked::Unsupported) => {
            store::upstream_revocations::finish(
                &mut tx,
                &row.id,
                ReceiptStatus::NotSupported,
                attempts,
                Some("unsupported_token_type"),
                now,
            )
            .await?;
        }
        Err(why) => match next_revocation_attempt(attempts, now) {
            Some(next) => {
                store::upstream_revocations::retry_at(&mut tx, &row.id, attempts, &why, next)
                    .await?;
            }
            None => {
                store::upstream_revocations::finish(
                    &mut tx,
                    &row.id,
                    ReceiptStatus::Failed,
                    attempts,
                    Some(&why),
                    now,
                )
                .await?;
            }
        },
    }
    announce_if_final(&mut tx, &row, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes `connection.upstream_revoked` once the connection's last row is finished.
/// The connection's row lock, taken after this row's update, serialises two workers
/// finishing its two rows: the second sees both finished.
async fn announce_if_final(
    tx: &mut Tx,
    row: &LeasedRevocation,
    now: DateTime<Utc>,
) -> Result<(), UsecaseError> {
    let Some((connection, _)) = store::connections::lock(tx, &row.connection_id).await? else {
        return Ok(());
    };
    if connection.status != ConnectionStatus::Disconnected {
        // Tokens a refresh brought after a reconnect: the connection lives on, and its
        // receipt is not what this is about.
        return Ok(());
    }
    let receipt = store::upstream_revocations::receipt(&mut *tx, &row.connection_id).await?;
    if receipt.iter().any(|r| r.status == ReceiptStatus::Pending) {
        return Ok(());
    }
    connections::announce(
        tx,
        EventType::ConnectionUpstreamRevoked,
        &connection,
        &receipt,
        serde_json::json!({}),
        now,
    )
    .await
}
