//! A person acting on their own account, from the self-service page or a host's own UI
//! through `/v1/me`: who they are (their user session, by the page's cookie or its token
//! as Bearer), what they see (their devices, the agents acting for them, their grants,
//! connections and recent activity), what each button would end (the revocation core's
//! preview), and the acts themselves, through the same use cases as the API with the
//! person as the actor. Anything that is not theirs is "not found".

use chrono::{DateTime, Utc};

use crate::domain::actor::Actor;
use crate::domain::agent_session::AgentSession;
use crate::domain::connection::Connection;
use crate::domain::csrf;
use crate::domain::grant::{Grant, GrantStatus};
use crate::domain::id::{AgentId, AgentSessionId, ConnectionId, GrantId, UserId, UserSessionId};
use crate::domain::pagination::ListFilter;
use crate::domain::revocation::{Preview, Revocation, RevocationCause, Selector};
use crate::domain::scope::ScopeSet;
use crate::domain::session::SessionValidity;
use crate::domain::token::{TokenHash, TokenKind};
use crate::domain::user::User;
use crate::domain::user_session::{Liveness, UserSession};
use crate::store;
use crate::store::audit::StoredAuditEntry;
use crate::usecase::introspect::{active_subject, if_active, record_use};
use crate::usecase::{
    App, UsecaseError, connections, disconnect_connection, revoke_agent_session, revoke_grant,
    revoke_user_session, sign_out_everywhere, update_grant,
};

/// The most of each kind the page lists (the limits keep real accounts far below).
pub const LISTED_MAX: u32 = 1000;

/// How many activity entries the page shows.
pub const ACTIVITY_SHOWN: u32 = 25;

/// A person, signed in as one of their user sessions.
#[derive(Debug, Clone)]
pub struct Person {
    pub user_id: UserId,
    pub user_session_id: UserSessionId,
    pub actor: Actor,
}

/// The person whose user session `presented` (the page's cookie, or a user session
/// token) belongs to, if it is active.
pub async fn person(
    app: &App,
    presented: &str,
    request_id: Option<String>,
) -> Result<Person, UsecaseError> {
    let validity = if presented.starts_with(TokenKind::SessionCookie.prefix()) {
        let Some(id) =
            store::user_sessions::id_by_cookie(&app.db, &TokenHash::of(presented)).await?
        else {
            return Err(UsecaseError::UserSessionRequired);
        };
        let Some((hash, validity, last_seen)) =
            store::user_sessions::find_validity_by_id(&app.db, &id).await?
        else {
            return Err(UsecaseError::UserSessionRequired);
        };
        let now = app.clock.now();
        let active = if_active(app, &hash, SessionValidity::User(validity), last_seen, now);
        if let Some(active) = &active {
            record_use(app, active, now);
        }
        active
    } else {
        active_subject(app, &app.db, presented).await?
    };
    match validity {
        Some(SessionValidity::User(v)) => Ok(Person {
            actor: Actor::user(v.user_id.clone(), request_id),
            user_id: v.user_id,
            user_session_id: v.session_id,
        }),
        _ => Err(UsecaseError::UserSessionRequired),
    }
}

/// The token the person's forms carry.
pub fn form_token(app: &App, person: &Person) -> String {
    app.settings
        .encryption_keys
        .csrf_key()
        .token_for(&person.user_session_id)
}

/// Refuses a form without the person's token (another site's form, another session's).
pub fn check_form_token(
    app: &App,
    person: &Person,
    presented: Option<&str>,
) -> Result<(), UsecaseError> {
    let keys = app.settings.encryption_keys.csrf_keys();
    match presented {
        Some(token) if csrf::fits(&keys, &person.user_session_id, token) => Ok(()),
        _ => Err(UsecaseError::FormTokenRefused),
    }
}

/// Everything the page shows of one person.
#[derive(Debug)]
pub struct Account {
    pub user: User,
    /// Active user sessions, newest first.
    pub sessions: Vec<UserSession>,
    /// The latest user sessions, ended ones too (what activity about them names),
    /// newest first; the active ones are `sessions`.
    pub every_session: Vec<UserSession>,
    /// Active agent sessions with their agents' names, each after its parent.
    pub agent_sessions: Vec<(AgentSession, String)>,
    /// Active grants with their agents' names, newest first.
    pub grants: Vec<(Grant, String)>,
    /// Every connection, newest first (disconnected ones with their receipts).
    pub connections: Vec<Connection>,
    /// The latest audit entries about the person, newest first.
    pub activity: Vec<Activity>,
}

/// One audit entry about the person.
#[derive(Debug, Clone)]
pub struct Activity {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
}

impl From<StoredAuditEntry> for Activity {
    fn from(entry: StoredAuditEntry) -> Self {
        Self {
            at: DateTime::from_timestamp_millis(entry.at).unwrap_or_default(),
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
        }
    }
}

pub async fn account(app: &App, person: &Person) -> Result<Account, UsecaseError> {
    let now = app.clock.now();
    let user = store::users::get(&app.db, &person.user_id)
        .await?
        .ok_or(UsecaseError::UserNotFound)?;
    let every_session = store::user_sessions::list(
        &app.db,
        &person.user_id,
        ListFilter::All,
        now,
        None,
        LISTED_MAX,
    )
    .await?;
    let sessions: Vec<UserSession> = every_session
        .iter()
        .filter(|s| s.liveness(now) == Liveness::Active)
        .cloned()
        .collect();
    let mut agent_sessions = store::agent_sessions::list(
        &app.db,
        &person.user_id,
        ListFilter::Active,
        now,
        None,
        LISTED_MAX,
    )
    .await?;
    agent_sessions.sort_by_cached_key(|(s, _)| tree_position(s));
    let grants: Vec<Grant> =
        store::grants::list_for_user(&app.db, &person.user_id, None, LISTED_MAX)
            .await?
            .into_iter()
            .filter(|g| g.status == GrantStatus::Active)
            .collect();
    let agents: Vec<&AgentId> = grants.iter().map(|g| &g.agent_id).collect();
    let mut names = store::agents::names(&app.db, &agents).await?;
    let grants: Vec<(Grant, String)> = grants
        .into_iter()
        .map(|g| {
            let name = names
                .remove(&g.agent_id)
                .unwrap_or_else(|| g.agent_id.to_string());
            (g, name)
        })
        .collect();
    let connections = connections::list(app, &person.user_id, None, Some(200))
        .await?
        .items;
    let mut targets: Vec<String> = vec![person.user_id.to_string()];
    targets.extend(every_session.iter().map(|s| s.id.to_string()));
    targets.extend(grants.iter().map(|(g, _)| g.id.to_string()));
    targets.extend(connections.iter().map(|c| c.id.to_string()));
    let activity = store::audit::about(&app.db, &person.actor.label(), &targets, ACTIVITY_SHOWN)
        .await?
        .into_iter()
        .map(Activity::from)
        .collect();
    Ok(Account {
        user,
        sessions,
        every_session,
        agent_sessions,
        grants,
        connections,
        activity,
    })
}

/// Where a session stands in its tree: its ancestors root first, then itself. Ids sort
/// by creation, so sorting by this lists each session after its parent and siblings in
/// the order they were made.
fn tree_position(session: &AgentSession) -> Vec<AgentSessionId> {
    let mut path: Vec<AgentSessionId> = session.ancestor_ids.iter().rev().cloned().collect();
    path.push(session.id.clone());
    path
}

/// What a person may do from their page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// Sign out one device (its agent sessions go with it).
    SignOut(UserSessionId),
    /// Sign out every device but the one acting.
    SignOutOthers,
    /// End one agent session and its sub-delegations.
    RevokeAgentSession(AgentSessionId),
    /// Withdraw a consent.
    RevokeGrant(GrantId),
    /// Keep only these scopes of a consent.
    NarrowGrant(GrantId, Vec<String>),
    /// Disconnect an integration.
    Disconnect(ConnectionId),
}

/// How many of each kind a blast radius lists by name.
pub const BLAST_RADIUS_LISTED: u32 = 500;

/// What `act` would end now, changing nothing; refused as it would be done.
pub async fn preview(app: &App, person: &Person, act: &Act) -> Result<Preview, UsecaseError> {
    let selector = selector_of(app, person, act).await?;
    let now = app.clock.now();
    Ok(store::revocations::preview((&app.db).into(), &selector, now, BLAST_RADIUS_LISTED).await?)
}

/// Does `act` as the person; answers the revocation it made, if any.
pub async fn perform(
    app: &App,
    person: &Person,
    act: &Act,
) -> Result<Option<Revocation>, UsecaseError> {
    // The ownership checks, as the preview makes them.
    selector_of(app, person, act).await?;
    let actor = &person.actor;
    Ok(match act {
        Act::SignOut(id) => {
            Some(revoke_user_session::revoke_user_session(app, actor, id, None).await?)
        }
        Act::SignOutOthers => Some(
            sign_out_everywhere::sign_out_everywhere(
                app,
                actor,
                RevocationCause::SignOutEverywhere,
                &person.user_id,
                Some(&person.user_session_id),
                None,
            )
            .await?,
        ),
        Act::RevokeAgentSession(id) => {
            Some(revoke_agent_session::revoke_agent_session(app, actor, id, None).await?)
        }
        Act::RevokeGrant(id) => Some(revoke_grant::revoke_grant(app, actor, id).await?),
        Act::NarrowGrant(id, scopes) => {
            update_grant::update_scopes(app, actor, id, scopes).await?.1
        }
        Act::Disconnect(id) => {
            disconnect_connection::disconnect_connection(app, actor, id)
                .await?
                .revocation
        }
    })
}

/// The act's selector, once what it names is known to be the person's.
async fn selector_of(app: &App, person: &Person, act: &Act) -> Result<Selector, UsecaseError> {
    let theirs = |owner: &UserId| owner == &person.user_id;
    Ok(match act {
        Act::SignOut(id) => {
            store::user_sessions::get(&app.db, id)
                .await?
                .filter(|s| theirs(&s.user_id))
                .ok_or(UsecaseError::UserSessionNotFound)?;
            Selector::UserSession(id.clone())
        }
        Act::SignOutOthers => Selector::for_user(
            RevocationCause::SignOutEverywhere,
            person.user_id.clone(),
            Some(person.user_session_id.clone()),
        ),
        Act::RevokeAgentSession(id) => {
            store::agent_sessions::get(&app.db, id)
                .await?
                .filter(|s| theirs(&s.user_id))
                .ok_or(UsecaseError::AgentSessionNotFound)?;
            Selector::AgentSessions(vec![id.clone()])
        }
        Act::RevokeGrant(id) => {
            own_grant(app, person, id).await?;
            Selector::Grant(id.clone())
        }
        Act::NarrowGrant(id, scopes) => {
            own_grant(app, person, id).await?;
            Selector::GrantNarrowed {
                grant_id: id.clone(),
                allowed: ScopeSet::from_list(scopes)?,
            }
        }
        Act::Disconnect(id) => {
            let connection = store::connections::get(&app.db, id)
                .await?
                .filter(|c| theirs(&c.user_id))
                .ok_or(UsecaseError::ConnectionNotFound)?;
            disconnect_connection::selector_of(&connection)
        }
    })
}

async fn own_grant(app: &App, person: &Person, id: &GrantId) -> Result<Grant, UsecaseError> {
    store::grants::get(&app.db, id)
        .await?
        .filter(|g| g.user_id == person.user_id)
        .ok_or(UsecaseError::GrantNotFound)
}

/// The person's revocation `id`, for the notice after an act: `None` when it is not
/// one the person made.
pub async fn receipt(
    app: &App,
    person: &Person,
    id: &crate::domain::id::RevocationId,
) -> Result<Option<Revocation>, UsecaseError> {
    let found = store::revocations::find(&app.db, id).await?;
    Ok(found.filter(|r| r.actor == person.actor.label()))
}
