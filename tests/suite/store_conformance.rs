//! Every store function, against the backend the suite runs on (CI runs both).

use chrono::{DateTime, TimeDelta, Utc};
use leash::domain::actor::Actor;
use leash::domain::api_key::{ApiKey, Role};
use leash::domain::audit::{AuditAction, AuditEntry};
use leash::domain::id::{ApiKeyId, EventId, RevocationId, UserId, UserSessionId};
use leash::domain::invalidation::Invalidation;
use leash::domain::pagination::ListFilter;
use leash::domain::revocation::{Revocation, RevocationCause, Selector};
use leash::domain::token::{SecretToken, TokenHash, TokenKind};
use leash::domain::user::{NewUser, UserStatus};
use leash::domain::user_session::UserSession;
use leash::store::last_use::SessionTable;
use leash::store::user_sessions::NewUserSession;
use leash::store::{self, Db, StoreError};

use crate::support::database::text_of;
use crate::support::{TestDatabase, epoch};

async fn user(db: &Db, external_id: &str) -> UserId {
    let mut tx = db.begin().await.unwrap();
    let new = NewUser::new(external_id, None, None).unwrap();
    let (user, _) = store::users::insert_or_get(&mut tx, &UserId::generate(), &new, epoch())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    user.id
}

fn session(
    user_id: &UserId,
    created_at: DateTime<Utc>,
    ttl: TimeDelta,
) -> (NewUserSession, SecretToken) {
    let token = SecretToken::generate(TokenKind::UserSession);
    let session = UserSession {
        id: UserSessionId::generate(),
        user_id: user_id.clone(),
        ip_address: Some("192.0.2.1".to_owned()),
        user_agent: None,
        created_at,
        last_seen_at: created_at,
        expires_at: created_at + ttl,
        idle_timeout: TimeDelta::hours(1),
        revoked: None,
    };
    (
        NewUserSession {
            session,
            token_hash: token.hash(),
        },
        token,
    )
}

async fn insert(db: &Db, sessions: &[NewUserSession]) {
    let mut tx = db.begin().await.unwrap();
    store::user_sessions::insert(&mut tx, sessions)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn revoke(db: &Db, selector: &Selector, now: DateTime<Utc>) -> (RevocationId, u64) {
    let revocation = Revocation {
        id: RevocationId::generate(),
        cause: RevocationCause::SignOutEverywhere,
        actor: "operator".to_owned(),
        reason: None,
        user_sessions_revoked: 0,
        agent_sessions_revoked: 0,
        created_at: now,
    };
    let mut tx = db.begin().await.unwrap();
    store::revocations::insert(&mut tx, &revocation, selector)
        .await
        .unwrap();
    let hit = store::revocations::revoke(&mut tx, selector, &revocation.id, revocation.cause, now)
        .await
        .unwrap()
        .user_sessions;
    tx.commit().await.unwrap();
    (revocation.id, hit)
}

#[tokio::test]
async fn users_are_unique_by_external_id_and_keep_their_status() {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    let first = user(&db, "alice").await;
    assert_eq!(user(&db, "alice").await, first);

    let mut tx = db.begin().await.unwrap();
    let locked = store::users::lock(&mut tx, &first, store::LockMode::Update)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(locked.status, UserStatus::Active);
    let disabled = store::users::set_status(&mut tx, &first, UserStatus::Disabled, epoch())
        .await
        .unwrap();
    assert_eq!(disabled.disabled_at, Some(epoch()));
    tx.commit().await.unwrap();
    assert_eq!(
        store::users::get(&db, &first)
            .await
            .unwrap()
            .unwrap()
            .status,
        UserStatus::Disabled
    );
    assert!(
        store::users::get(&db, &UserId::generate())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_transaction_dropped_without_commit_leaves_nothing() {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    let id = UserId::generate();
    {
        let mut tx = db.begin().await.unwrap();
        store::users::insert_or_get(
            &mut tx,
            &id,
            &NewUser::new("ghost", None, None).unwrap(),
            epoch(),
        )
        .await
        .unwrap();
    }
    assert!(store::users::get(&db, &id).await.unwrap().is_none());
}

#[tokio::test]
async fn sessions_round_trip_and_are_found_by_token_hash() {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    let alice = user(&db, "alice").await;
    let (new, token) = session(&alice, epoch(), TimeDelta::days(1));
    insert(&db, std::slice::from_ref(&new)).await;

    assert_eq!(
        store::user_sessions::get(&db, &new.session.id)
            .await
            .unwrap(),
        Some(new.session.clone())
    );
    let (validity, last_seen) =
        store::user_sessions::find_validity(&db, &TokenHash::of(token.expose()))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(validity.session_id, new.session.id);
    assert_eq!(validity.user_status, UserStatus::Active);
    assert_eq!(validity.revoked, None);
    assert_eq!(last_seen, epoch());
    assert!(
        store::user_sessions::find_validity(&db, &TokenHash::of("leash_ust_x"))
            .await
            .unwrap()
            .is_none()
    );

    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        store::user_sessions::owner(&mut tx, &new.session.id)
            .await
            .unwrap(),
        Some(alice)
    );
}

#[tokio::test]
async fn a_token_hash_cannot_be_stored_twice() {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    let alice = user(&db, "alice").await;
    let (first, _) = session(&alice, epoch(), TimeDelta::days(1));
    let (mut second, _) = session(&alice, epoch(), TimeDelta::days(1));
    second.token_hash = first.token_hash;
    insert(&db, &[first]).await;
    let mut tx = db.begin().await.unwrap();
    let clash = store::user_sessions::insert(&mut tx, &[second]).await;
    assert!(matches!(clash, Err(StoreError::Conflict)), "{clash:?}");
}

#[tokio::test]
async fn recording_uses_in_bulk_never_moves_last_seen_backwards() {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    let alice = user(&db, "alice").await;
    let (first, _) = session(&alice, epoch(), TimeDelta::days(1));
    let (second, _) = session(&alice, epoch(), TimeDelta::days(1));
    insert(&db, &[first.clone(), second.clone()]).await;
    let later = epoch() + TimeDelta::minutes(5);
    let (a, b) = (first.session.id.clone(), second.session.id.clone());
    store::last_use::record(
        &db,
        SessionTable::UserSessions,
        &[(a.as_str(), later), (b.as_str(), later)],
    )
    .await
    .unwrap();
    store::last_use::record(
        &db,
        SessionTable::UserSessions,
        &[(a.as_str(), epoch() + TimeDelta::minutes(1))],
    )
    .await
    .unwrap();
    for id in [&a, &b] {
        assert_eq!(
            store::user_sessions::get(&db, id)
                .await
                .unwrap()
                .unwrap()
                .last_seen_at,
            later
        );
    }
    // More than one statement's worth, including ids that match nothing.
    let ids: Vec<UserSessionId> = (0..1200).map(|_| UserSessionId::generate()).collect();
    let many: Vec<_> = ids.iter().map(|id| (id.as_str(), later)).collect();
    store::last_use::record(&db, SessionTable::UserSessions, &many)
        .await
        .unwrap();
}

#[tokio::test]
async fn many_sessions_insert_in_chunks_and_list_in_pages() {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    let alice = user(&db, "alice").await;
    let sessions: Vec<NewUserSession> = (0..1203)
        .map(|_| session(&alice, epoch(), TimeDelta::days(1)).0)
        .collect();
    insert(&db, &sessions).await;

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store::user_sessions::list(
            &db,
            &alice,
            ListFilter::All,
            epoch(),
            after.as_deref(),
            500,
        )
        .await
        .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|s| s.id.to_string());
        seen.extend(page.into_iter().map(|s| s.id));
    }
    let mut expected: Vec<UserSessionId> = sessions.iter().map(|s| s.session.id.clone()).collect();
    expected.sort();
    expected.reverse();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn revoking_by_selector_hits_only_live_sessions_it_names() {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    let (alice, bob) = (user(&db, "alice").await, user(&db, "bob").await);
    let keep = session(&alice, epoch(), TimeDelta::days(1)).0;
    let hit = session(&alice, epoch(), TimeDelta::days(1)).0;
    let expired = session(&alice, epoch(), TimeDelta::minutes(1)).0;
    let bobs = session(&bob, epoch(), TimeDelta::days(1)).0;
    insert(
        &db,
        &[keep.clone(), hit.clone(), expired.clone(), bobs.clone()],
    )
    .await;
    let now = epoch() + TimeDelta::minutes(2);

    let all_but_one = Selector::AllOfUser {
        user_id: alice.clone(),
        except: Some(keep.session.id.clone()),
    };
    let (revocation_id, count) = revoke(&db, &all_but_one, now).await;
    assert_eq!(count, 1, "the expired session keeps its state");
    let recorded = text_of(
        &db,
        &format!("SELECT selector FROM revocations WHERE id = '{revocation_id}'"),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&recorded).unwrap(),
        serde_json::json!({
            "user_id": alice,
            "except_user_session_id": keep.session.id,
        }),
        "the record keeps what the act aimed at"
    );
    let revoked = store::user_sessions::get(&db, &hit.session.id)
        .await
        .unwrap()
        .unwrap()
        .revoked
        .unwrap();
    assert_eq!(
        (revoked.at, revoked.revocation_id, revoked.cause),
        (now, revocation_id, RevocationCause::SignOutEverywhere)
    );
    for untouched in [&keep, &expired, &bobs] {
        assert!(
            store::user_sessions::get(&db, &untouched.session.id)
                .await
                .unwrap()
                .unwrap()
                .revoked
                .is_none()
        );
    }

    assert_eq!(
        revoke(&db, &Selector::UserSession(hit.session.id.clone()), now)
            .await
            .1,
        0,
        "revocation is final, once"
    );
    assert_eq!(
        revoke(&db, &Selector::UserSession(keep.session.id.clone()), now)
            .await
            .1,
        1
    );

    let active = store::user_sessions::list(&db, &alice, ListFilter::Active, now, None, 10)
        .await
        .unwrap();
    assert!(active.is_empty());
}

#[tokio::test]
async fn events_audit_and_counts_are_written_for_a_revocation() {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    let alice = user(&db, "alice").await;
    let sessions: Vec<NewUserSession> = (0..3)
        .map(|_| session(&alice, epoch(), TimeDelta::days(1)).0)
        .collect();
    insert(&db, &sessions).await;

    let actor = Actor::operator();
    let made_before = EventId::generate();
    let mut revocation = Revocation {
        id: RevocationId::generate(),
        cause: RevocationCause::UserDisabled,
        actor: actor.label(),
        reason: Some("offboarded".to_owned()),
        user_sessions_revoked: 0,
        agent_sessions_revoked: 0,
        created_at: epoch(),
    };
    let selector = Selector::AllOfUser {
        user_id: alice.clone(),
        except: None,
    };
    let mut tx = db.begin().await.unwrap();
    store::revocations::insert(&mut tx, &revocation, &selector)
        .await
        .unwrap();
    revocation.user_sessions_revoked = store::revocations::revoke(
        &mut tx,
        &selector,
        &revocation.id,
        revocation.cause,
        epoch(),
    )
    .await
    .unwrap()
    .user_sessions;
    store::revocations::set_counts(&mut tx, &revocation)
        .await
        .unwrap();
    let events =
        store::events::insert_user_session_revoked(&mut tx, &revocation.id, &actor, epoch())
            .await
            .unwrap();
    let entry = AuditEntry::new(
        &actor,
        AuditAction::UserSessionsRevoked,
        alice.as_str(),
        epoch(),
    )
    .for_revocation(revocation.cause, revocation.id.clone());
    store::audit::append(&mut tx, &entry).await.unwrap();
    store::invalidation::announce(&mut tx, &Invalidation::User(alice.clone()))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!((revocation.user_sessions_revoked, events), (3, 3));
    let stored = store::events::list_after(&db, 0, 10).await.unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(stored[0].data["cause"], "user_disabled");
    assert_eq!(stored[0].data["actor"], "operator");
    // Generated in SQL, the ids have the shape of every other id, differ, and carry the
    // millisecond of the act between ids made before and after it.
    let made_after = EventId::generate();
    let millisecond = |id: &EventId| id.as_str()[4..16].to_owned();
    let mut ids: Vec<&str> = stored.iter().map(|e| e.id.as_str()).collect();
    assert!(ids.iter().all(|id| EventId::parse(id).is_some()), "{ids:?}");
    assert!(stored.iter().all(|e| {
        (millisecond(&made_before)..=millisecond(&made_after)).contains(&millisecond(&e.id))
    }));
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(
        store::events::list_after(&db, stored[1].seq, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let audit = store::audit::list_after(&db, 0, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].at().unwrap(), epoch());
    assert_eq!(audit[0].action, "user_sessions.revoked");
}

#[tokio::test]
async fn api_keys_are_found_by_hash_only() {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    let secret = SecretToken::generate(TokenKind::ApiKey);
    let key = ApiKey {
        id: ApiKeyId::generate(),
        role: Role::Risk,
        created_at: epoch(),
        expires_at: Some(epoch() + chrono::TimeDelta::days(1)),
        revoked_at: None,
        last_used_at: None,
    };
    let mut tx = db.begin().await.unwrap();
    assert_eq!(store::api_keys::count(&mut tx).await.unwrap(), 0);
    store::api_keys::insert(&mut tx, &key, &secret.hash())
        .await
        .unwrap();
    assert_eq!(store::api_keys::count(&mut tx).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let (found, hash) = store::api_keys::find_by_hash(&db, &secret.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, key);
    assert!(hash.matches(&secret.hash()));
    assert!(
        store::api_keys::find_by_hash(&db, &TokenHash::of("leash_ak_other"))
            .await
            .unwrap()
            .is_none()
    );
    // A use and a revocation are kept; the list shows the key, never its hash.
    let used = epoch() + chrono::TimeDelta::minutes(5);
    store::api_keys::touch(&db, &key.id, used).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let locked = store::api_keys::lock_with_admins(&mut tx, &key.id, used)
        .await
        .unwrap();
    assert_eq!(locked.len(), 1, "the risk key, and no admin key");
    assert_eq!(locked[0].last_used_at, Some(used));
    store::api_keys::set_revoked(&mut tx, &key.id, used)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let listed = store::api_keys::list(&db, None, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].revoked_at, Some(used));
}

fn agent(scopes: &[&str]) -> leash::domain::agent::Agent {
    leash::domain::agent::Agent {
        session_lifetime: None,
        id: leash::domain::id::AgentId::generate(),
        name: "planner".to_owned(),
        scopes: leash::domain::scope::ScopeSet::from_list(scopes).unwrap(),
        status: leash::domain::agent::AgentStatus::Active,
        created_at: epoch(),
        secret_rotated_at: epoch(),
    }
}

#[tokio::test]
async fn agents_round_trip_list_in_pages_and_rotate_their_secret() {
    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    let agents = [
        agent(&["calendar.read", "github:repo"]),
        agent(&["mail.send"]),
        agent(&["a"]),
    ];
    let mut tx = db.begin().await.unwrap();
    for agent in &agents {
        let secret = SecretToken::generate(TokenKind::ClientSecret);
        store::agents::insert(&mut tx, agent, &secret.hash())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(
        store::agents::get(&db, &agents[0].id)
            .await
            .unwrap()
            .as_ref(),
        Some(&agents[0])
    );

    let first = store::agents::list(&db, None, 2).await.unwrap();
    let rest = store::agents::list(&db, Some(first[1].id.as_str()), 2)
        .await
        .unwrap();
    let listed: Vec<_> = first.iter().chain(&rest).map(|a| a.id.clone()).collect();
    assert_eq!(
        listed,
        agents
            .iter()
            .rev()
            .map(|a| a.id.clone())
            .collect::<Vec<_>>()
    );

    let later = epoch() + TimeDelta::hours(1);
    let mut tx = db.begin().await.unwrap();
    let rotated = store::agents::set_secret(
        &mut tx,
        &agents[1].id,
        &SecretToken::generate(TokenKind::ClientSecret).hash(),
        later,
    )
    .await
    .unwrap();
    assert_eq!(rotated.secret_rotated_at, later);
    let missing = store::agents::set_secret(
        &mut tx,
        &leash::domain::id::AgentId::generate(),
        &TokenHash::of("x"),
        later,
    )
    .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn one_active_grant_per_user_and_agent_is_enforced_by_the_database() {
    use leash::domain::grant::{Grant, GrantStatus};
    use leash::domain::id::GrantId;

    let database = TestDatabase::fresh().await;
    let db = database.connect().await;
    let alice = user(&db, "alice").await;
    let planner = agent(&["calendar.read"]);
    let mut tx = db.begin().await.unwrap();
    store::agents::insert(
        &mut tx,
        &planner,
        &SecretToken::generate(TokenKind::ClientSecret).hash(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let grant = || Grant {
        id: GrantId::generate(),
        user_id: alice.clone(),
        agent_id: planner.id.clone(),
        scopes: planner.scopes.clone(),
        status: GrantStatus::Active,
        created_at: epoch(),
        updated_at: epoch(),
    };
    let first = grant();
    let mut tx = db.begin().await.unwrap();
    store::grants::insert(&mut tx, &first).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert!(matches!(
        store::grants::insert(&mut tx, &grant()).await,
        Err(StoreError::Conflict)
    ));
    drop(tx);
    assert_eq!(
        store::grants::get(&db, &first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store::grants::list_for_user(&db, &alice, None, 10)
            .await
            .unwrap(),
        vec![first]
    );
}
