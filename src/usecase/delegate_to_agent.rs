//! Issuing agent sessions: by token exchange (RFC 8693) from a user session token or,
//! for a sub-delegation, from another agent's access token; or minted by the host
//! application for a signed-in user. All follow the same rules
//! (`crate::domain::agent_session::delegate`), planned from reads made under locks that
//! keep any revocation or narrowing of what the new session hangs from out of the way.
//! Concurrent exchanges are issued together (`crate::usecase::issuance_batch`): the
//! same reads and rules per exchange, one statement per kind of read and one multi-row
//! insert per table for the batch, one commit for all.
//!
//! - on SQLite, which runs one write transaction at a time anyway, the batch's
//!   transaction excludes every other writer;
//! - on PostgreSQL, the batch holds the users' and the chains' agents' rows in share
//!   mode (revoking acts take them for update); an exchange under a row held for update
//!   is issued alone, in a transaction of its own that waits for the lock.
//!
//! When a pre-issuance hook is configured (`crate::usecase::pre_issuance`), it is asked
//! before any of that, outside every transaction, about the session unlocked reads
//! plan; the issuance then asks for no more than the scopes the hook saw.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};

use crate::domain::actor::Actor;
use crate::domain::agent::{Agent, AgentStatus};
use crate::domain::agent_session::{
    self, AgentSession, Consent, DelegationRules, ParentSession, Upstream,
};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::grant::Grant;
use crate::domain::id::{AgentId, AgentSessionId, UserId, UserSessionId};
use crate::domain::issuance_hook::{IssuanceKind, RequestOrigin};
use crate::domain::limits::Room;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::Secret;
use crate::domain::session::SessionValidity;
use crate::domain::token::{SecretToken, TokenHash, TokenKind};
use crate::domain::user::UserStatus;
use crate::domain::user_session::{Liveness, UserSession};
use crate::store::agent_sessions::{AccessToken, NewAgentSession};
use crate::store::{self, Backend, LockMode, Reader, Tx};
use crate::upstream::issuance_hook::IssuanceHook;
use crate::usecase::App;
use crate::usecase::UsecaseError;
use crate::usecase::introspect::{active_subject, if_active, kind_of, record_use};
use crate::usecase::ip_blocks;
use crate::usecase::pre_issuance;

/// A new agent session and its tokens, shown once.
#[derive(Debug)]
pub struct IssuedAgentSession {
    pub session: AgentSession,
    pub access_token: SecretToken,
    pub refresh_token: SecretToken,
    pub access_expires_at: DateTime<Utc>,
}

/// A token exchange to issue.
#[derive(Debug)]
pub struct Exchange {
    pub client: Agent,
    pub actor: Actor,
    pub subject_token: Secret,
    pub requested: Option<ScopeSet>,
    /// The pre-issuance hook's decision to audit with the session, when one was asked.
    pub decided: Option<AuditEntry>,
}

/// Token exchange: `client` (authenticated; `actor` says so) delegates from
/// `subject_token`, asking for `scope` (space-separated; all it may hold when absent).
/// An exchange from a blocked address (`origin.ip`) is refused before anything else.
#[tracing::instrument(skip_all, fields(client_id = %client.id))]
pub async fn exchange(
    app: &App,
    client: &Agent,
    actor: &Actor,
    subject_token: &str,
    scope: Option<&str>,
    origin: RequestOrigin,
) -> Result<IssuedAgentSession, UsecaseError> {
    ip_blocks::refuse_if_blocked((&app.db).into(), origin.ip, app.clock.now()).await?;
    app.issuance_rate
        .check(&client.id)
        .map_err(|retry_after| UsecaseError::RateLimited { retry_after })?;
    let mut exchange = Exchange {
        client: client.clone(),
        actor: actor.clone(),
        subject_token: Secret::new(subject_token.to_owned()),
        requested: scope.map(ScopeSet::from_space_separated).transpose()?,
        decided: None,
    };
    if let Some(hook) = &app.settings.issuance_hook {
        put_to_hook(app, hook, &mut exchange, origin).await?;
    }
    crate::usecase::issuance_batch::issue(app, exchange).await
}

/// Asks `hook` about the session `exchange` would make (judged from reads without
/// locks); on an allow, the exchange asks for no more than the hook saw, and carries
/// the decision to audit.
async fn put_to_hook(
    app: &App,
    hook: &IssuanceHook,
    exchange: &mut Exchange,
    origin: RequestOrigin,
) -> Result<(), UsecaseError> {
    let Some(seen) = active_subject(app, &app.db, exchange.subject_token.expose()).await? else {
        return Err(UsecaseError::SubjectTokenInactive);
    };
    let prospect = prospect(
        app,
        &upstream_of(seen),
        &exchange.client,
        exchange.requested.as_ref(),
    )
    .await?;
    let kind = if prospect.parent_id.is_some() {
        IssuanceKind::SubDelegation
    } else {
        IssuanceKind::TokenExchange
    };
    let approval = pre_issuance::approve(
        app,
        hook,
        &exchange.actor,
        (&prospect, &exchange.client.name),
        origin,
        kind,
    )
    .await?;
    exchange.requested = Some(approval.scopes);
    exchange.decided = Some(approval.audit);
    Ok(())
}

/// One exchange in its own transaction, under row locks that it waits for (PostgreSQL):
/// an exchange that a batch found contended.
pub(super) async fn exchange_alone(
    app: &App,
    exchange: &Exchange,
) -> Result<IssuedAgentSession, UsecaseError> {
    // A first look, without locks, to learn whose token it is and which agents to lock.
    let Some(seen) = active_subject(app, &app.db, exchange.subject_token.expose()).await? else {
        return Err(UsecaseError::SubjectTokenInactive);
    };
    let mut tx = app.db.begin().await?;
    store::users::lock(&mut tx, seen.user_id(), LockMode::Share).await?;
    let agent = lock_agents(
        &mut tx,
        &exchange.client.id,
        &chain_of(&exchange.client, &seen),
    )
    .await?;
    // Judged again under the locks: anything revoked before them is seen now.
    let Some(subject) = active_subject(app, &mut tx, exchange.subject_token.expose()).await? else {
        return Err(UsecaseError::SubjectTokenInactive);
    };
    let upstream = upstream_of(subject);
    read_room(&mut tx, app, [&upstream]).await?.take(
        &app.settings.limits,
        &upstream.user_id,
        parent_id(&upstream),
    )?;
    let planned = plan_in(
        &mut tx,
        app,
        &exchange.actor,
        &upstream,
        &agent,
        exchange.requested.as_ref(),
    )
    .await?
    .decided(exchange.decided.clone());
    write_in(&mut tx, &[&planned]).await?;
    tx.commit().await?;
    Ok(planned.issued)
}

/// What planning one exchange of a batch came to.
#[derive(Debug)]
pub(super) enum Planning {
    Planned(Box<Planned>),
    Refused(UsecaseError),
    /// Its user or an agent of its chain is held for update by another act (a
    /// revocation under way) (PostgreSQL): it is issued alone, waiting for that, so the
    /// rest of the batch does not wait with it.
    Contended,
}

/// Reads and plans a batch of exchanges in one transaction. One statement per kind of
/// read for the whole batch: subjects by token hash, the agents of every chain, the
/// grants. The outer error (the database failed) fails the batch; a refusal refuses
/// that exchange alone.
///
/// On SQLite the transaction already excludes every other writer, so nothing can change
/// between these reads and the commit. On PostgreSQL the users and the chains' agents
/// are locked in share mode first (as an exchange alone locks them), then the subjects
/// are judged under those locks; a row another act holds for update is not waited for
/// ([`LockMode::ShareIfFree`]): the exchanges under it are [`Planning::Contended`].
pub(super) async fn plan_exchanges_in(
    tx: &mut Tx,
    app: &App,
    exchanges: &[Exchange],
) -> Result<Vec<Planning>, UsecaseError> {
    let now = app.clock.now();
    let hashes: Vec<(Option<TokenKind>, TokenHash)> = exchanges
        .iter()
        .map(|e| {
            let token = e.subject_token.expose();
            (kind_of(token), TokenHash::of(token))
        })
        .collect();
    let postgres = tx.backend() == Backend::Postgres;
    // Whose the subjects are and which chains they carry never change: a first read
    // learns what to lock.
    let seen = read_subjects(tx, &hashes).await?;
    let held_users: HashSet<UserId> = if postgres {
        let mut users: Vec<&UserId> = seen.values().map(|(s, _)| s.user_id()).collect();
        users.sort();
        users.dedup();
        store::users::lock_all(tx, &users, LockMode::ShareIfFree)
            .await?
            .into_iter()
            .collect()
    } else {
        HashSet::new()
    };
    let chains: Vec<Vec<AgentId>> = exchanges
        .iter()
        .zip(&hashes)
        .map(|(e, (_, hash))| {
            seen.get(hash).map_or_else(
                || vec![e.client.id.clone()],
                |(s, _)| chain_of(&e.client, s),
            )
        })
        .collect();
    let mut agent_ids: Vec<AgentId> = chains.iter().flatten().cloned().collect();
    agent_ids.sort();
    agent_ids.dedup();
    let agents: HashMap<AgentId, Agent> =
        store::agents::lock(tx, &agent_ids, LockMode::ShareIfFree)
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
    // Judged under the locks: anything revoked before them is seen now.
    let subjects = if postgres {
        read_subjects(tx, &hashes).await?
    } else {
        seen
    };
    let subjects: Vec<Option<SessionValidity>> = hashes
        .iter()
        .map(|(_, hash)| {
            let (validity, seen) = subjects.get(hash)?.clone();
            let active = if_active(app, hash, validity, seen, now)?;
            record_use(app, &active, now);
            Some(active)
        })
        .collect();
    let contended = |subject: &SessionValidity, chain: &[AgentId]| {
        postgres
            && (!held_users.contains(subject.user_id())
                || chain.iter().any(|id| !agents.contains_key(id)))
    };

    let users: Vec<&UserId> = subjects
        .iter()
        .flatten()
        .map(SessionValidity::user_id)
        .collect();
    let issuing: Vec<&AgentId> = exchanges.iter().map(|e| &e.client.id).collect();
    let grants: HashMap<(UserId, AgentId), Grant> =
        store::grants::active_among(tx, &users, &issuing)
            .await?
            .into_iter()
            .map(|g| ((g.user_id.clone(), g.agent_id.clone()), g))
            .collect();
    let mut naming_providers: Vec<&UserId> = grants
        .values()
        .filter(|g| g.scopes.has_provider_scopes())
        .map(|g| &g.user_id)
        .collect();
    naming_providers.sort();
    naming_providers.dedup();
    let connected = connected_scopes(&mut *tx, &naming_providers).await?;
    let none = ScopeSet::default();

    let contended: Vec<bool> = subjects
        .iter()
        .zip(&chains)
        .map(|(subject, chain)| subject.as_ref().is_some_and(|s| contended(s, chain)))
        .collect();
    let upstreams: Vec<Option<Upstream>> =
        subjects.into_iter().map(|s| s.map(upstream_of)).collect();
    let mut room = read_room(tx, app, upstreams.iter().flatten()).await?;
    let mut plan_one = |exchange: &Exchange, upstream: Option<Upstream>| {
        let upstream = upstream.ok_or(UsecaseError::SubjectTokenInactive)?;
        let agent = agents
            .get(&exchange.client.id)
            .ok_or(UsecaseError::AgentNotFound)?;
        if agent.status == AgentStatus::Disabled {
            return Err(UsecaseError::AgentDisabled);
        }
        let grant = grants.get(&(upstream.user_id.clone(), agent.id.clone()));
        let planned = plan(
            app,
            &exchange.actor,
            &upstream,
            agent,
            grant,
            connected.get(&upstream.user_id).unwrap_or(&none),
            exchange.requested.as_ref(),
        )?
        .decided(exchange.decided.clone());
        room.take(
            &app.settings.limits,
            &upstream.user_id,
            parent_id(&upstream),
        )?;
        Ok(planned)
    };
    Ok(exchanges
        .iter()
        .zip(upstreams)
        .zip(contended)
        .map(|((exchange, upstream), contended)| {
            if contended {
                return Planning::Contended;
            }
            match plan_one(exchange, upstream) {
                Ok(planned) => Planning::Planned(Box::new(planned)),
                Err(refused) => Planning::Refused(refused),
            }
        })
        .collect())
}

/// The sessions behind the batch's subject tokens, by hash, with their latest use in
/// the database: one statement per kind of token.
async fn read_subjects(
    tx: &mut Tx,
    hashes: &[(Option<TokenKind>, TokenHash)],
) -> Result<HashMap<TokenHash, (SessionValidity, DateTime<Utc>)>, UsecaseError> {
    let of_kind = |wanted: TokenKind| -> Vec<TokenHash> {
        hashes
            .iter()
            .filter(|(kind, _)| *kind == Some(wanted))
            .map(|(_, hash)| *hash)
            .collect()
    };
    let mut subjects = HashMap::new();
    for (hash, v, seen) in
        store::user_sessions::find_validities(&mut *tx, &of_kind(TokenKind::UserSession)).await?
    {
        subjects.insert(hash, (SessionValidity::User(v), seen));
    }
    for (hash, v, seen) in
        store::agent_sessions::find_validities(&mut *tx, &of_kind(TokenKind::AccessToken)).await?
    {
        subjects.insert(hash, (SessionValidity::Agent(Box::new(v)), seen));
    }
    Ok(subjects)
}

/// The host application mints a session for `agent_id` from the user's signed-in
/// `user_session_id`, without the agent ever holding the user's token. A session
/// signed in from an address now blocked mints nothing.
pub async fn mint_for_user(
    app: &App,
    actor: &Actor,
    user_id: &UserId,
    agent_id: &AgentId,
    scopes: &[String],
    user_session_id: &UserSessionId,
) -> Result<IssuedAgentSession, UsecaseError> {
    let mut requested = ScopeSet::from_list(scopes)?;
    app.issuance_rate
        .check(agent_id)
        .map_err(|retry_after| UsecaseError::RateLimited { retry_after })?;
    let mut decided = None;
    // Without the session, the locked reads below answer what is missing.
    if let Some(seen) = store::user_sessions::get(&app.db, user_session_id)
        .await?
        .filter(|s| &s.user_id == user_id)
    {
        let origin = RequestOrigin {
            ip: seen.ip_address.as_deref().and_then(|ip| ip.parse().ok()),
            user_agent: seen.user_agent.clone(),
        };
        ip_blocks::refuse_if_blocked((&app.db).into(), origin.ip, app.clock.now()).await?;
        if let Some(hook) = &app.settings.issuance_hook {
            let agent = store::agents::get(&app.db, agent_id)
                .await?
                .ok_or(UsecaseError::AgentNotFound)?;
            // What the locked reads would refuse is not the hook's to judge.
            if agent.status == AgentStatus::Disabled {
                return Err(UsecaseError::AgentDisabled);
            }
            if seen.liveness(app.clock.now()) != Liveness::Active {
                return Err(UsecaseError::UserSessionInactive);
            }
            let upstream = upstream_of_session(&seen);
            let prospect = prospect(app, &upstream, &agent, Some(&requested)).await?;
            let approval = pre_issuance::approve(
                app,
                hook,
                actor,
                (&prospect, &agent.name),
                origin,
                IssuanceKind::HostMint,
            )
            .await?;
            requested = approval.scopes;
            decided = Some(approval.audit);
        }
    }
    let mut tx = app.db.begin().await?;
    let user = store::users::lock(&mut tx, user_id, LockMode::Share)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    let agent = lock_agents(&mut tx, agent_id, std::slice::from_ref(agent_id)).await?;
    let session = store::user_sessions::get(&mut tx, user_session_id)
        .await?
        .filter(|s| &s.user_id == user_id)
        .ok_or(UsecaseError::UserSessionNotFound)?;
    if user.status == UserStatus::Disabled || session.liveness(app.clock.now()) != Liveness::Active
    {
        return Err(UsecaseError::UserSessionInactive);
    }
    let upstream = upstream_of_session(&session);
    read_room(&mut tx, app, [&upstream]).await?.take(
        &app.settings.limits,
        &upstream.user_id,
        parent_id(&upstream),
    )?;
    let planned = plan_in(&mut tx, app, actor, &upstream, &agent, Some(&requested))
        .await?
        .decided(decided);
    write_in(&mut tx, &[&planned]).await?;
    tx.commit().await?;
    Ok(planned.issued)
}

/// Reads under the issuance's locks the [`Room`] new sessions would take: each user's
/// active agent sessions and each parent's active children, counted only as far as the
/// limits (so a count costs no more than the limit).
async fn read_room<'a>(
    tx: &mut Tx,
    app: &App,
    upstreams: impl IntoIterator<Item = &'a Upstream>,
) -> Result<Room, UsecaseError> {
    let limits = app.settings.limits;
    let now = app.clock.now();
    let mut room = Room::default();
    // A limit of 0 is none: nothing to count.
    let of_user = NonZeroU32::new(limits.agent_sessions_per_user);
    let of_parent = NonZeroU32::new(limits.children_per_agent_session);
    for upstream in upstreams {
        if let Some(limit) = of_user
            && let Entry::Vacant(slot) = room.of_user.entry(upstream.user_id.clone())
        {
            let count = store::agent_sessions::count_active_of_user(
                tx,
                &upstream.user_id,
                now,
                limit.get(),
            )
            .await?;
            slot.insert(count);
        }
        if let Some(limit) = of_parent
            && let Some(parent) = &upstream.parent
            && let Entry::Vacant(slot) = room.of_parent.entry(parent.id.clone())
        {
            let count =
                store::agent_sessions::count_active_children(tx, &parent.id, now, limit.get())
                    .await?;
            slot.insert(count);
        }
    }
    Ok(room)
}

/// The agents a new session's chain holds: the issuing one and the subject's.
fn chain_of(client: &Agent, subject: &SessionValidity) -> Vec<AgentId> {
    let mut agents = vec![client.id.clone()];
    if let SessionValidity::Agent(parent) = subject {
        agents.extend(parent.agent_chain.iter().cloned());
    }
    agents
}

/// What a host mint hangs from: the user session alone.
fn upstream_of_session(session: &UserSession) -> Upstream {
    Upstream {
        user_id: session.user_id.clone(),
        user_session_id: session.id.clone(),
        parent: None,
        expires_at: session.expires_at,
        idle_timeout: session.idle_timeout,
    }
}

fn upstream_of(subject: SessionValidity) -> Upstream {
    match subject {
        SessionValidity::User(v) => Upstream {
            user_id: v.user_id,
            user_session_id: v.session_id,
            parent: None,
            expires_at: v.expires_at,
            idle_timeout: v.idle_timeout,
        },
        SessionValidity::Agent(v) => Upstream {
            user_id: v.user_id,
            user_session_id: v.user_session_id,
            parent: Some(ParentSession {
                id: v.session_id,
                scopes: v.scopes,
                agent_chain: v.agent_chain,
                ancestor_ids: v.ancestor_ids,
            }),
            expires_at: v.expires_at,
            idle_timeout: v.idle_timeout,
        },
    }
}

/// Locks the agents of a new session's chain (share mode) and answers the issuing one,
/// which must be active.
pub(super) async fn lock_agents(
    tx: &mut Tx,
    issuing: &AgentId,
    chain: &[AgentId],
) -> Result<Agent, UsecaseError> {
    let mut ids = chain.to_vec();
    ids.sort();
    ids.dedup();
    let agent = store::agents::lock(tx, &ids, LockMode::Share)
        .await?
        .into_iter()
        .find(|a| &a.id == issuing)
        .ok_or(UsecaseError::AgentNotFound)?;
    if agent.status == AgentStatus::Disabled {
        return Err(UsecaseError::AgentDisabled);
    }
    Ok(agent)
}

/// A session decided on, with what [`write_in`] stores for it.
#[derive(Debug)]
pub(super) struct Planned {
    pub(super) issued: IssuedAgentSession,
    access_issued_at: DateTime<Utc>,
    /// The hook's decision (when one was asked), then the session's creation.
    audit: Vec<AuditEntry>,
}

impl Planned {
    /// The same, audited after the pre-issuance hook's `decision`, if one was asked.
    fn decided(mut self, decision: Option<AuditEntry>) -> Self {
        if let Some(decision) = decision {
            self.audit.insert(0, decision);
        }
        self
    }
}

/// Reads the consent and decides the new session and its tokens; writes nothing.
async fn plan_in(
    tx: &mut Tx,
    app: &App,
    actor: &Actor,
    upstream: &Upstream,
    agent: &Agent,
    requested: Option<&ScopeSet>,
) -> Result<Planned, UsecaseError> {
    let (grant, connected) = read_consent(tx, &upstream.user_id, &agent.id).await?;
    plan(
        app,
        actor,
        upstream,
        agent,
        grant.as_ref(),
        &connected,
        requested,
    )
}

/// The session an issuance from `upstream` would make, judged by the same rules from
/// reads without locks: what the pre-issuance hook is asked about. Nothing is written
/// and no token made.
pub(super) async fn prospect(
    app: &App,
    upstream: &Upstream,
    agent: &Agent,
    requested: Option<&ScopeSet>,
) -> Result<AgentSession, UsecaseError> {
    let (grant, connected) = read_consent(&app.db, &upstream.user_id, &agent.id).await?;
    let now = app.clock.now();
    decide(
        app,
        upstream,
        agent,
        grant.as_ref(),
        &connected,
        requested,
        now,
    )
}

/// The user's active grant to the agent and, when the grant names provider scopes,
/// what the user's live connections grant.
async fn read_consent(
    reader: impl Into<Reader<'_>>,
    user_id: &UserId,
    agent_id: &AgentId,
) -> Result<(Option<Grant>, ScopeSet), UsecaseError> {
    let mut reader = reader.into();
    let grant = store::grants::active_for(reader.reborrow(), user_id, agent_id).await?;
    let connected = match &grant {
        Some(grant) if grant.scopes.has_provider_scopes() => {
            connected_scopes(reader, &[user_id]).await?.remove(user_id)
        }
        _ => None,
    };
    Ok((grant, connected.unwrap_or_default()))
}

/// The provider scopes each of `users`' live connections grants (`acme:repo`); read
/// under the issuance's locks, a disconnect or a narrowing connect takes the user's row
/// for update first.
async fn connected_scopes(
    reader: impl Into<Reader<'_>>,
    users: &[&UserId],
) -> Result<HashMap<UserId, ScopeSet>, UsecaseError> {
    let mut connected: HashMap<UserId, ScopeSet> = HashMap::new();
    for connection in store::connections::connected_of(reader, users).await? {
        connected
            .entry(connection.user_id.clone())
            .or_default()
            .extend(connection.scopes());
    }
    Ok(connected)
}

/// Decides the new session and its tokens from what was read under the locks.
fn plan(
    app: &App,
    actor: &Actor,
    upstream: &Upstream,
    agent: &Agent,
    grant: Option<&Grant>,
    connected: &ScopeSet,
    requested: Option<&ScopeSet>,
) -> Result<Planned, UsecaseError> {
    let now = app.clock.now();
    let settings = &app.settings;
    let session = decide(app, upstream, agent, grant, connected, requested, now)?;
    let audit = AuditEntry::new(
        actor,
        AuditAction::AgentSessionCreated,
        session.id.as_str(),
        now,
    );
    Ok(Planned {
        issued: IssuedAgentSession {
            access_expires_at: agent_session::access_expiry(
                now,
                settings.access_token_ttl,
                session.expires_at,
            ),
            session,
            access_token: SecretToken::generate(TokenKind::AccessToken),
            refresh_token: SecretToken::generate(TokenKind::RefreshToken),
        },
        access_issued_at: now,
        audit: vec![audit],
    })
}

/// The new session, by the delegation rules, from the consent read.
fn decide(
    app: &App,
    upstream: &Upstream,
    agent: &Agent,
    grant: Option<&Grant>,
    connected: &ScopeSet,
    requested: Option<&ScopeSet>,
    now: DateTime<Utc>,
) -> Result<AgentSession, UsecaseError> {
    let grant = grant.ok_or(UsecaseError::ConsentRequired)?;
    let settings = &app.settings;
    let rules = DelegationRules {
        lifetime: agent
            .session_lifetime
            .unwrap_or(settings.agent_session_lifetime),
        access_token_ttl: settings.access_token_ttl,
        max_depth: settings.delegation_depth_limit,
    };
    let consent = Consent {
        agent_id: &agent.id,
        grant_id: &grant.id,
        granted: &grant.scopes,
        ceiling: &agent.scopes,
        connected,
    };
    Ok(agent_session::delegate(
        upstream, consent, requested, &rules, now,
    )?)
}

/// Stores planned sessions with their tokens' hashes and audit entries, in multi-row
/// statements.
pub(super) async fn write_in(tx: &mut Tx, planned: &[&Planned]) -> Result<(), UsecaseError> {
    let sessions: Vec<NewAgentSession> = planned
        .iter()
        .map(|p| NewAgentSession {
            session: p.issued.session.clone(),
            access: AccessToken {
                hash: p.issued.access_token.hash(),
                issued_at: p.access_issued_at,
                expires_at: p.issued.access_expires_at,
            },
        })
        .collect();
    store::agent_sessions::insert(tx, &sessions).await?;
    let refresh: Vec<_> = planned
        .iter()
        .map(|p| {
            (
                p.issued.refresh_token.hash(),
                &p.issued.session.id,
                p.access_issued_at,
            )
        })
        .collect();
    store::refresh_tokens::insert_all(tx, &refresh).await?;
    let entries: Vec<AuditEntry> = planned
        .iter()
        .flat_map(|p| p.audit.iter().cloned())
        .collect();
    store::audit::append_all(tx, &entries).await?;
    Ok(())
}

fn parent_id(upstream: &Upstream) -> Option<&AgentSessionId> {
    upstream.parent.as_ref().map(|parent| &parent.id)
}
