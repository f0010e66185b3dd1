//! Invariants 1 and 3 of the design, read from the database: every active agent session
//! of a user hangs only from live things and holds only what they allow, its provider
//! scopes included.

use std::collections::HashMap;

use leash::domain::agent::AgentStatus;
use leash::domain::agent_session::AgentSession;
use leash::domain::connection::ConnectionStatus;
use leash::domain::grant::GrantStatus;
use leash::domain::id::UserId;
use leash::domain::pagination::ListFilter;
use leash::domain::scope::ScopeSet;
use leash::domain::user::UserStatus;
use leash::domain::user_session::{Liveness, UserSession};
use leash::store;

use super::{TestApp, TestUser};

async fn all_agent_sessions(app: &TestApp, user: &UserId) -> Vec<AgentSession> {
    let now = app.app.clock.now();
    let mut all: Vec<AgentSession> = Vec::new();
    loop {
        let after = all.last().map(|s| s.id.to_string());
        let page =
            store::agent_sessions::list(&app.db, user, ListFilter::All, now, after.as_deref(), 200)
                .await
                .unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(page.into_iter().map(|(s, _)| s));
    }
}

async fn all_user_sessions(app: &TestApp, user: &UserId) -> Vec<UserSession> {
    let now = app.app.clock.now();
    let mut all: Vec<UserSession> = Vec::new();
    loop {
        let after = all.last().map(|s| s.id.to_string());
        let page =
            store::user_sessions::list(&app.db, user, ListFilter::All, now, after.as_deref(), 200)
                .await
                .unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// The provider scopes (`acme:repo`) `user`'s connected connections grant.
pub async fn connected_scopes(app: &TestApp, user: &UserId) -> ScopeSet {
    store::connections::list(&app.db, user, None, 200)
        .await
        .unwrap()
        .iter()
        .filter(|c| c.status == ConnectionStatus::Connected)
        .flat_map(|c| c.scopes())
        .collect()
}

/// The ids of `user`'s agent sessions active in the database (status and time).
pub async fn active_agent_session_ids(app: &TestApp, user: &TestUser) -> Vec<String> {
    let now = app.app.clock.now();
    let user_id = UserId::parse(&user.id).unwrap();
    all_agent_sessions(app, &user_id)
        .await
        .into_iter()
        .filter(|s| s.liveness(now) == Liveness::Active)
        .map(|s| s.id.to_string())
        .collect()
}

/// Every active agent session of `user` that should not be, each described with the
/// rule it breaks (its id first). Empty when the invariants hold.
pub async fn escapees(app: &TestApp, user: &TestUser) -> Vec<String> {
    let now = app.app.clock.now();
    let user_id = UserId::parse(&user.id).unwrap();
    let user_row = store::users::get(&app.db, &user_id).await.unwrap().unwrap();
    let sessions: HashMap<_, _> = all_agent_sessions(app, &user_id)
        .await
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let roots: HashMap<_, _> = all_user_sessions(app, &user_id)
        .await
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let connected = connected_scopes(app, &user_id).await;
    let mut escaped = Vec::new();
    for s in sessions.values() {
        if s.liveness(now) != Liveness::Active {
            continue;
        }
        let mut broken = Vec::new();
        if user_row.status == UserStatus::Disabled {
            broken.push("its user is disabled".to_owned());
        }
        if roots[&s.user_session_id].liveness(now) != Liveness::Active {
            broken.push(format!(
                "its user session {} is not active",
                s.user_session_id
            ));
        }
        for ancestor in &s.ancestor_ids {
            if sessions[ancestor].liveness(now) != Liveness::Active {
                broken.push(format!("its ancestor {ancestor} is not active"));
            }
        }
        let grant = store::grants::get(&app.db, &s.grant_id)
            .await
            .unwrap()
            .unwrap();
        if grant.status != GrantStatus::Active {
            broken.push("its grant is revoked".to_owned());
        }
        if !s.scopes.is_subset(&grant.scopes) {
            broken.push("it holds scopes beyond its grant".to_owned());
        }
        let agent = store::agents::get(&app.db, &s.agent_id)
            .await
            .unwrap()
            .unwrap();
        if agent.status != AgentStatus::Active {
            broken.push("its agent is disabled".to_owned());
        }
        if !s.scopes.is_subset(&agent.scopes) {
            broken.push("it holds scopes beyond its agent's ceiling".to_owned());
        }
        let unconnected = s
            .scopes
            .missing_from(&s.scopes.connected_within(&connected));
        if !unconnected.is_empty() {
            broken.push(format!(
                "it holds provider scopes no live connection grants: {}",
                unconnected.to_space_separated()
            ));
        }
        if !broken.is_empty() {
            escaped.push(format!("{}: {}", s.id, broken.join("; ")));
        }
    }
    escaped
}
