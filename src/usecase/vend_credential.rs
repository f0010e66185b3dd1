//! An agent asks for the upstream credential of a provider, with its access token: it
//! gets the person's upstream access token only while its session is active (its whole
//! chain, the user session at the root, the user and the agent) and holds a scope of
//! that provider, and while the person's connection to it works.
//!
//! The session is judged as introspection judges it (`crate::usecase::introspect`: the
//! token cache, which a revoke empties on the instance that served it before it returns
//! and on every other instance within milliseconds). The connection is read from the
//! database in the transaction that writes the vend's audit entry, before the token
//! leaves: a disconnect that returned before it is seen on every instance. Vends are
//! group-committed (`crate::usecase::group_commit`): one read of connections, one audit
//! insert and one commit per batch.
//!
//! A token about to expire is refreshed first, once per connection across every
//! instance (`crate::usecase::refresh_connection`), then the vend is judged again.

use std::collections::HashMap;

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::connection::{ConnectionStatus, UpstreamToken};
use crate::domain::credential::{self, Credential, VendRefused};
use crate::domain::id::{AgentSessionId, ConnectionId, UserId};
use crate::domain::provider::ProviderId;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::Secret;
use crate::store::connections::Vendable;
use crate::store::{self, Tx};
use crate::usecase::finish_connection::token_context;
use crate::usecase::group_commit::{GroupCommit, Outcomes};
use crate::usecase::introspect::{Introspection, introspect};
use crate::usecase::refresh_connection::{self, Stale};
use crate::usecase::{App, UsecaseError};

/// How many times a vend is judged again after a refresh before it gives up (another
/// refresh can only follow a reconnect racing it).
const ATTEMPTS: usize = 3;

/// One agent session's request, its session found active.
pub struct VendJob {
    session_id: AgentSessionId,
    user_id: UserId,
    scopes: ScopeSet,
    provider: ProviderId,
    request_id: Option<String>,
}

/// What judging a vend came to, short of a refusal.
pub enum Vend {
    Handed(Credential),
    /// The token must be refreshed first.
    Stale(Stale),
}

/// Vends waiting to be judged together.
pub type VendBatch = GroupCommit<VendJob, Vend>;

const WHAT: &str = "vending credentials";

/// The credential of `provider` for the agent session whose access token is
/// `presented`.
#[tracing::instrument(skip_all, fields(provider = provider))]
pub async fn vend_credential(
    app: &App,
    presented: &str,
    provider: &str,
    request_id: Option<String>,
) -> Result<Credential, UsecaseError> {
    let client = app
        .settings
        .providers
        .find(provider)
        .ok_or(UsecaseError::ProviderNotFound)?;
    let provider = client.provider.id.clone();
    let outcome = vend_fresh(app, presented, &provider, request_id).await;
    app.counters.vended(
        provider.as_str(),
        match &outcome {
            Ok(_) => "vended",
            Err(UsecaseError::ProviderUnavailable { .. }) => "unavailable",
            Err(_) => "refused",
        },
    );
    outcome
}

async fn vend_fresh(
    app: &App,
    presented: &str,
    provider: &ProviderId,
    request_id: Option<String>,
) -> Result<Credential, UsecaseError> {
    let Introspection::ActiveAgentSession {
        session_id,
        user_id,
        scopes,
        ..
    } = introspect(app, presented).await?
    else {
        return Err(VendRefused::TokenInactive.into());
    };
    if !scopes
        .iter()
        .any(|s| s.provider() == Some(provider.as_str()))
    {
        return Err(VendRefused::NoScopeOfProvider.into());
    }
    for _ in 0..ATTEMPTS {
        let job = VendJob {
            session_id: session_id.clone(),
            user_id: user_id.clone(),
            scopes: scopes.clone(),
            provider: provider.clone(),
            request_id: request_id.clone(),
        };
        match app.vends.submit(app, WHAT, job, vend_all).await? {
            Vend::Handed(credential) => return Ok(credential),
            // Boxed: the refresh's future (an upstream HTTP call) is several times the
            // size of the rest, and every vend would carry and move it.
            Vend::Stale(stale) => Box::pin(refresh_connection::refresh(app, &stale)).await?,
        }
    }
    Err(UsecaseError::ProviderUnavailable {
        retry_after: std::time::Duration::from_secs(1),
    })
}

async fn vend_all(
    app: App,
    mut tx: Tx,
    jobs: Vec<VendJob>,
) -> Result<(Tx, Outcomes<Vend>), UsecaseError> {
    let judged = judge_in(&mut tx, &app, &jobs).await?;
    let audits: Vec<AuditEntry> = judged
        .iter()
        .filter_map(|j| match j {
            Ok((_, Some(audit))) => Some(audit.clone()),
            _ => None,
        })
        .collect();
    store::audit::append_all(&mut tx, &audits).await?;
    Ok((
        tx,
        judged
            .into_iter()
            .map(|outcome| outcome.map(|(vend, _)| vend))
            .collect(),
    ))
}

/// Judges each vend of a batch against the connections the database holds now (one
/// read). A handed-out credential comes with its audit entry, to be written before it
/// leaves.
async fn judge_in(
    tx: &mut Tx,
    app: &App,
    jobs: &[VendJob],
) -> Result<Vec<Result<(Vend, Option<AuditEntry>), UsecaseError>>, UsecaseError> {
    let now = app.clock.now();
    let mut pairs: Vec<(&UserId, &ProviderId)> = jobs
        .iter()
        .map(|job| (&job.user_id, &job.provider))
        .collect();
    pairs.sort();
    pairs.dedup();
    let connections: HashMap<(UserId, ProviderId), Vendable> =
        store::connections::vendable(tx, &pairs)
            .await?
            .into_iter()
            .map(|v| {
                let key = (v.connection.user_id.clone(), v.connection.provider.clone());
                (key, v)
            })
            .collect();
    let margin = app.settings.credential_refresh_margin;
    Ok(jobs
        .iter()
        .map(|job| {
            let vendable = connections
                .get(&(job.user_id.clone(), job.provider.clone()))
                .ok_or(VendRefused::NotConnected)?;
            let connection = &vendable.connection;
            if connection.status == ConnectionStatus::NeedsReauthorization {
                return Err(VendRefused::NeedsReauthorization.into());
            }
            let tokens = vendable.tokens.as_ref().ok_or(VendRefused::NotConnected)?;
            if credential::needs_refresh(tokens.expires_at, now, margin) {
                if tokens.refresh_token.is_some() {
                    return Ok((
                        Vend::Stale(Stale {
                            connection_id: connection.id.clone(),
                            provider: connection.provider.clone(),
                            version: vendable.version,
                        }),
                        None,
                    ));
                }
                if tokens.expires_at.is_some_and(|at| at <= now) {
                    return Err(VendRefused::Expired.into());
                }
            }
            let access_token = open(app, &connection.id, &tokens.access_token)?;
            let audit = AuditEntry::new(
                &Actor::agent_session(job.session_id.clone(), job.request_id.clone()),
                AuditAction::CredentialVended,
                connection.id.as_str(),
                now,
            );
            Ok((
                Vend::Handed(Credential {
                    access_token,
                    expires_at: tokens.expires_at,
                    scopes: credential::usable_scopes(&job.scopes, connection),
                }),
                Some(audit),
            ))
        })
        .collect())
}

fn open(app: &App, id: &ConnectionId, sealed: &[u8]) -> Result<Secret, UsecaseError> {
    let plain = app
        .settings
        .encryption_keys
        .open(sealed, &token_context(id, UpstreamToken::Access.as_str()))?;
    Ok(Secret::new(String::from_utf8_lossy(&plain).into_owned()))
}
