//! Refreshing a connection's upstream token, once per connection at a time across every
//! instance on the database. An instance claims the refresh with one conditional
//! update (a lease of [`CLAIM`], compared against the tokens' version), calls the
//! provider holding no lock and no transaction, and writes what it got only over the
//! version it read. The others wait for the version to move and use the new token. A
//! crash mid-call strands nothing: the lease runs out.
//!
//! The provider's answer decides what follows:
//! - new tokens: stored in one write (a rotated refresh token replaces the old one);
//! - `invalid_grant`: the grant is dead at the provider, unless the connection changed
//!   meanwhile (a reconnect) — judged under the user's lock against the version read.
//!   Then the connection needs reauthorization, its tokens are destroyed and every
//!   agent session holding a scope of it is revoked (cause `upstream_revoked`);
//! - anything else (down, timed out, refusing Leash's client): nothing is judged dead;
//!   no refresh is tried again for [`BACKOFF`], and the agent is told to retry then.

use std::time::Duration;

use chrono::TimeDelta;
use serde_json::json;

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::connection::{Connection, ConnectionStatus, UpstreamToken};
use crate::domain::credential::VendRefused;
use crate::domain::event::EventType;
use crate::domain::id::ConnectionId;
use crate::domain::provider::ProviderId;
use crate::domain::revocation::{RevocationCause, Selector};
use crate::domain::secret::Secret;
use crate::store::{self, LockMode};
use crate::upstream::oauth_provider::UpstreamError;
use crate::usecase::disconnect_connection::owed_revocations;
use crate::usecase::finish_connection::{seal, token_context};
use crate::usecase::revoke_sessions::{Act, revoke_in};
use crate::usecase::{App, UsecaseError, connections};

/// How long a claim on a refresh lasts: longer than any call to a provider.
pub const CLAIM: TimeDelta = TimeDelta::seconds(30);

/// How long no refresh is tried after a provider failed to answer one.
pub const BACKOFF: Duration = Duration::from_secs(5);

/// How often a waiting vend looks whether the refresh it waits for is done.
const POLL: Duration = Duration::from_millis(20);

/// A connection whose token must be refreshed before it is handed out: the version of
/// the tokens that were judged stale.
#[derive(Debug, Clone)]
pub struct Stale {
    pub connection_id: ConnectionId,
    pub provider: ProviderId,
    pub version: i64,
}

/// Returns once the tokens of `stale.version` were replaced (by this instance or
/// another) or the connection changed: the vend is then judged again.
pub async fn refresh(app: &App, stale: &Stale) -> Result<(), UsecaseError> {
    let give_up = tokio::time::Instant::now() + CLAIM.to_std().unwrap_or(BACKOFF) + BACKOFF;
    loop {
        let now = app.clock.now();
        let id = &stale.connection_id;
        if store::connections::claim_refresh(&app.db, id, stale.version, now, now + CLAIM).await? {
            return refresh_claimed(app, stale).await;
        }
        let Some(current) = store::connections::vendable_by_id(&app.db, id).await? else {
            return Err(VendRefused::NotConnected.into());
        };
        if current.version != stale.version
            || current.connection.status != ConnectionStatus::Connected
        {
            return Ok(());
        }
        if let Some(until) = current.refresh_backoff_until
            && until > now
        {
            return Err(UsecaseError::ProviderUnavailable {
                retry_after: (until - now).to_std().unwrap_or(BACKOFF),
            });
        }
        if tokio::time::Instant::now() >= give_up {
            return Err(UsecaseError::ProviderUnavailable {
                retry_after: BACKOFF,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// This instance holds the claim: ask the provider, and write what it answered.
async fn refresh_claimed(app: &App, stale: &Stale) -> Result<(), UsecaseError> {
    let id = &stale.connection_id;
    let Some(current) = store::connections::vendable_by_id(&app.db, id).await? else {
        return Err(VendRefused::NotConnected.into());
    };
    let client = app
        .settings
        .providers
        .get(&stale.provider)
        .ok_or(UsecaseError::ProviderNotFound)?;
    let Some(sealed) = current
        .tokens
        .as_ref()
        .and_then(|t| t.refresh_token.as_ref())
    else {
        return Ok(());
    };
    let refresh_token = app
        .settings
        .encryption_keys
        .open(sealed, &token_context(id, UpstreamToken::Refresh.as_str()))?;
    let refresh_token = Secret::new(String::from_utf8_lossy(&refresh_token).into_owned());
    let provider = stale.provider.as_str();
    match client.refresh(&refresh_token).await {
        Ok(tokens) => {
            let now = app.clock.now();
            let sealed = seal(app, id, &tokens, now);
            if store::connections::store_refreshed(&app.db, id, stale.version, &sealed, now).await?
            {
                app.counters.refreshed(provider, "refreshed");
            } else {
                // Disconnected or connected again while the provider answered: these
                // fresh tokens belong to nothing, and must not stay alive there.
                app.counters.refreshed(provider, "orphaned");
                orphaned(app, &current.connection, sealed).await?;
            }
            Ok(())
        }
        Err(UpstreamError::InvalidGrant(why)) => {
            app.counters.refreshed(provider, "invalid_grant");
            tracing::warn!(connection_id = %id, %why, "the provider refused a connection's grant");
            grant_died(app, &current.connection, stale.version).await
        }
        Err(UpstreamError::Refused(why) | UpstreamError::Unavailable(why)) => {
            app.counters.refreshed(provider, "failed");
            tracing::warn!(connection_id = %id, %why, "refreshing a connection's token failed");
            let until = app.clock.now() + TimeDelta::from_std(BACKOFF).unwrap_or(CLAIM);
            store::connections::refresh_failed(&app.db, id, stale.version, until).await?;
            Err(UsecaseError::ProviderUnavailable {
                retry_after: BACKOFF,
            })
        }
    }
}

/// The provider refused the grant. Under the user's lock (as disconnects and connects
/// take it), and only if the tokens are still those refused: the connection needs
/// reauthorization, and every session that could use it is revoked.
async fn grant_died(app: &App, connection: &Connection, version: i64) -> Result<(), UsecaseError> {
    let now = app.clock.now();
    let actor = Actor::system();
    let mut tx = app.db.begin().await?;
    store::users::lock(&mut tx, &connection.user_id, LockMode::Update).await?;
    if !store::connections::needs_reauthorization(&mut tx, &connection.id, version, now).await? {
        // Connected again (or disconnected) meanwhile: judge the vend again.
        tx.commit().await?;
        return Ok(());
    }
    let act = Act {
        actor: &actor,
        cause: RevocationCause::UpstreamRevoked,
        selector: Selector::Connection {
            connection_id: connection.id.clone(),
            user_id: connection.user_id.clone(),
            provider: connection.provider.clone(),
        },
        reason: None,
    };
    let pending = revoke_in(&mut tx, app, act).await?;
    store::audit::append(
        &mut tx,
        &AuditEntry::new(
            &actor,
            AuditAction::ConnectionNeedsReauthorization,
            connection.id.as_str(),
            now,
        ),
    )
    .await?;
    let marked = store::connections::get(&mut tx, &connection.id)
        .await?
        .ok_or(UsecaseError::ConnectionNotFound)?;
    connections::announce(
        &mut tx,
        EventType::ConnectionNeedsReauthorization,
        &marked,
        &[],
        json!({ "revocation_id": pending.revocation().id }),
        now,
    )
    .await?;
    pending.commit(tx, app).await?;
    Err(VendRefused::NeedsReauthorization.into())
}

/// Tokens a refresh brought after their connection changed: owed a revocation at the
/// provider, like a disconnect's.
async fn orphaned(
    app: &App,
    connection: &Connection,
    sealed: store::connections::SealedTokens,
) -> Result<(), UsecaseError> {
    let owed = owed_revocations(app, connection, Some(sealed))?;
    let mut tx = app.db.begin().await?;
    store::upstream_revocations::insert(&mut tx, &owed, app.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}
