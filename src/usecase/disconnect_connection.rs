//! Disconnecting a provider, in one transaction: every agent session of the person
//! holding one of the provider's scopes is revoked with its descendants (cause
//! `integration_disconnected`), the connection is marked disconnected and its tokens
//! destroyed, and the provider is owed a revocation of each token (RFC 7009), carried
//! out by `revoke_upstream_tokens` behind the request, retried until it answers. The
//! answer holds the revocation and the receipt as it starts; so does the
//! `connection.disconnected` event.

use serde_json::json;

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::connection::{Connection, ConnectionStatus, ReceiptStatus, UpstreamToken};
use crate::domain::event::EventType;
use crate::domain::id::{ConnectionId, UpstreamRevocationId};
use crate::domain::revocation::{Preview, Revocation, RevocationCause, Selector};
use crate::store::upstream_revocations::NewUpstreamRevocation;
use crate::store::{self, LockMode};
use crate::usecase::finish_connection::token_context;
use crate::usecase::revoke_sessions::{Act, revoke_in};
use crate::usecase::{App, UsecaseError, connections, revocations};

/// What a disconnect did.
#[derive(Debug)]
pub struct Disconnected {
    /// With its receipt as it stands.
    pub connection: Connection,
    /// None when the connection was already disconnected: nothing more was revoked.
    pub revocation: Option<Revocation>,
}

/// The connection as it is, and what disconnecting it would revoke, changing nothing.
pub async fn preview(app: &App, id: &ConnectionId) -> Result<(Connection, Preview), UsecaseError> {
    let connection = connections::get(app, id).await?;
    let preview = revocations::preview(app, &selector_of(&connection)).await?;
    Ok((connection, preview))
}

pub(super) fn selector_of(connection: &Connection) -> Selector {
    Selector::Connection {
        connection_id: connection.id.clone(),
        user_id: connection.user_id.clone(),
        provider: connection.provider.clone(),
    }
}

#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn disconnect_connection(
    app: &App,
    actor: &Actor,
    id: &ConnectionId,
) -> Result<Disconnected, UsecaseError> {
    let known = connections::get(app, id).await?;
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    // The user first, as issuance and connecting take it: then the connection.
    store::users::lock(&mut tx, &known.user_id, LockMode::Update).await?;
    let (connection, tokens) = store::connections::lock(&mut tx, id)
        .await?
        .ok_or(UsecaseError::ConnectionNotFound)?;
    if connection.status == ConnectionStatus::Disconnected {
        tx.commit().await?;
        return Ok(Disconnected {
            connection: connections::get(app, id).await?,
            revocation: None,
        });
    }
    let act = Act {
        actor,
        cause: RevocationCause::IntegrationDisconnected,
        selector: selector_of(&connection),
        reason: None,
    };
    let pending = revoke_in(&mut tx, app, act).await?;
    store::connections::disconnect(&mut tx, id, now).await?;
    let owed = owed_revocations(app, &connection, tokens)?;
    store::upstream_revocations::insert(&mut tx, &owed, now).await?;
    store::audit::append(
        &mut tx,
        &AuditEntry::new(actor, AuditAction::ConnectionDisconnected, id.as_str(), now),
    )
    .await?;
    let mut connection = store::connections::get(&mut tx, id)
        .await?
        .ok_or(UsecaseError::ConnectionNotFound)?;
    connection.receipt = store::upstream_revocations::receipt(&mut tx, id).await?;
    connections::announce(
        &mut tx,
        EventType::ConnectionDisconnected,
        &connection,
        &connection.receipt,
        json!({ "revocation_id": pending.revocation().id, "actor": actor.label() }),
        now,
    )
    .await?;
    if connection
        .receipt
        .iter()
        .all(|r| r.status != ReceiptStatus::Pending)
    {
        // Nothing to ask the provider: the receipt is final already.
        connections::announce(
            &mut tx,
            EventType::ConnectionUpstreamRevoked,
            &connection,
            &connection.receipt,
            json!({}),
            now,
        )
        .await?;
    }
    let revocation = pending.commit(tx, app).await?;
    Ok(Disconnected {
        connection,
        revocation: Some(revocation),
    })
}

/// One row per token the connection held, refresh token first: each with its own copy
/// of the token sealed to it, or born `not_supported` when the provider cannot revoke.
pub(super) fn owed_revocations(
    app: &App,
    connection: &Connection,
    tokens: Option<store::connections::SealedTokens>,
) -> Result<Vec<NewUpstreamRevocation>, UsecaseError> {
    let Some(tokens) = tokens else {
        return Ok(Vec::new());
    };
    let can_revoke = app
        .settings
        .providers
        .get(&connection.provider)
        .is_some_and(|client| client.can_revoke());
    let key = &app.settings.encryption_keys;
    let held = [
        (UpstreamToken::Refresh, tokens.refresh_token),
        (UpstreamToken::Access, Some(tokens.access_token)),
    ];
    let mut owed = Vec::new();
    for (token, sealed) in held {
        let Some(sealed) = sealed else { continue };
        let id = UpstreamRevocationId::generate();
        let token_sealed = if can_revoke {
            let plain = key.open(&sealed, &token_context(&connection.id, token.as_str()))?;
            Some(key.seal(&plain, &revocation_context(&id)))
        } else {
            None
        };
        owed.push(NewUpstreamRevocation {
            status: if can_revoke {
                ReceiptStatus::Pending
            } else {
                ReceiptStatus::NotSupported
            },
            id,
            connection_id: connection.id.clone(),
            provider: connection.provider.clone(),
            token,
            token_sealed,
        });
    }
    Ok(owed)
}

/// The context an owed revocation's copy of its token is sealed under.
pub(super) fn revocation_context(id: &UpstreamRevocationId) -> String {
    format!("upstream_revocation/{id}/token")
}
