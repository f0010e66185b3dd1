//! An agent asks for the upstream credential of a provider, with its access token: it
//! gets the person's upstream access token only while its session is active (its whole
//! chain, the user session at the root, the user and the agent) and holds a scope of
//! that provider, and while the person's connection to it works.
//!
//! The check and the hand-out are one transaction, judged from the database, and
//! written with the vend's audit entry before the token leaves: a revoke of the
//! session, an ancestor, the connection or the user that returned before it began is
//! seen, on any instance. Vends are group-committed (`crate::usecase::group_commit`):
//! one read of sessions, one of connections, one audit insert and one commit per batch.
//!
//! A token about to expire is refreshed first, once per connection across every
//! instance (`crate::usecase::refresh_connection`), then the vend is judged again.

use std::collections::HashMap;

use crate::domain::actor::Actor;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::connection::{ConnectionStatus, UpstreamToken};
use crate::domain::credential::{self, Credential, VendRefused};
use crate::domain::id::{ConnectionId, UserId};
use crate::domain::provider::ProviderId;
use crate::domain::secret::Secret;
use crate::domain::session::SessionValidity;
use crate::domain::token::{TokenHash, TokenKind};
use crate::store::connections::Vendable;
use crate::store::{self, Tx};
use crate::usecase::finish_connection::token_context;
use crate::usecase::group_commit::{GroupCommit, Outcomes};
use crate::usecase::introspect::{if_active, kind_of, record_use};
use crate::usecase::refresh_connection::{self, Stale};
use crate::usecase::{App, UsecaseError};

/// How many times a vend is judged again after a refresh before it gives up (another
/// refresh can only follow a reconnect racing it).
const ATTEMPTS: usize = 3;

/// One agent's request. No `Debug`: it carries the access token.
pub struct VendJob {
    hash: Option<TokenHash>,
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
    let hash =
        (kind_of(presented) == Some(TokenKind::AccessToken)).then(|| TokenHash::of(presented));
    for _ in 0..ATTEMPTS {
        let job = VendJob {
            hash,
            provider: provider.clone(),
            request_id: request_id.clone(),
        };
        match app.vends.submit(app, WHAT, job, vend_all).await? {
            Vend::Handed(credential) => return Ok(credential),
            Vend::Stale(stale) => refresh_connection::refresh(app, &stale).await?,
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

/// Judges each vend of a batch from what the database holds now: one read of the
/// sessions, one of the connections. A handed-out credential comes with its audit
/// entry, to be written before it leaves.
async fn judge_in(
    tx: &mut Tx,
    app: &App,
    jobs: &[VendJob],
) -> Result<Vec<Result<(Vend, Option<AuditEntry>), UsecaseError>>, UsecaseError> {
    let now = app.clock.now();
    let hashes: Vec<TokenHash> = jobs.iter().filter_map(|j| j.hash).collect();
    let found: HashMap<TokenHash, _> = store::agent_sessions::find_validities(&mut *tx, &hashes)
        .await?
        .into_iter()
        .map(|(hash, validity, last_used)| (hash, (validity, last_used)))
        .collect();
    let sessions: Vec<Result<_, UsecaseError>> = jobs
        .iter()
        .map(|job| {
            let hash = job.hash.ok_or(VendRefused::TokenInactive)?;
            let (validity, last_used) = found.get(&hash).ok_or(VendRefused::TokenInactive)?;
            let active = if_active(
                app,
                &hash,
                SessionValidity::Agent(validity.clone()),
                *last_used,
                now,
            )
            .ok_or(VendRefused::TokenInactive)?;
            record_use(app, &active, now);
            let SessionValidity::Agent(session) = active else {
                return Err(VendRefused::TokenInactive.into());
            };
            if !session
                .scopes
                .iter()
                .any(|s| s.provider() == Some(job.provider.as_str()))
            {
                return Err(VendRefused::NoScopeOfProvider.into());
            }
            Ok(session)
        })
        .collect();
    let pairs: Vec<(&UserId, &ProviderId)> = jobs
        .iter()
        .zip(&sessions)
        .filter_map(|(job, s)| s.as_ref().ok().map(|s| (&s.user_id, &job.provider)))
        .collect();
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
        .zip(sessions)
        .map(|(job, session)| {
            let session = session?;
            let vendable = connections
                .get(&(session.user_id.clone(), job.provider.clone()))
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
                &Actor::agent_session(session.session_id.clone(), job.request_id.clone()),
                AuditAction::CredentialVended,
                connection.id.as_str(),
                now,
            );
            Ok((
                Vend::Handed(Credential {
                    access_token,
                    expires_at: tokens.expires_at,
                    scopes: credential::usable_scopes(&session.scopes, connection),
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
