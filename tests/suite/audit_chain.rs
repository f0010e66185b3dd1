//! The audit log: listed and filtered through the API, sealed into a hash chain, and
//! `leash audit verify` naming the first entry someone changed in the database.

use axum::http::StatusCode;
use leash::clock::Clock as _;
use leash::domain::actor::Actor;
use leash::domain::audit::{AuditAction, AuditEntry};
use leash::store::Db;
use serde_json::json;

use crate::cli::leash;
use crate::support::TestApp;
use crate::support::database::run_sql;

/// Three users, one disabled: a few audit entries of different actions.
async fn some_acts(app: &TestApp) -> String {
    for name in ["alice", "bob"] {
        app.create_user(name).await;
    }
    let carol = app.create_user("carol").await;
    app.sign_in(&carol).await;
    app.post_empty(&format!("/v1/users/{}/disable", carol.id))
        .await
        .assert_status(StatusCode::OK);
    carol.id
}

#[tokio::test]
async fn entries_are_listed_oldest_first_filtered_and_sealed_into_the_chain() {
    let app = TestApp::start().await;
    let carol = some_acts(&app).await;
    let by_target = app.get(&format!("/v1/audit?target={carol}")).await;
    let actions: Vec<&str> = by_target.assert_status(StatusCode::OK)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["user.created", "user.disabled", "user_sessions.revoked"]
    );
    let disabled = app.get("/v1/audit?action=user.disabled").await;
    assert_eq!(disabled.body["data"].as_array().unwrap().len(), 1);
    // SQLite, one writer at a time, seals entries as they are appended; PostgreSQL's
    // sealer seals them soon after, so concurrent acts never queue on the chain's head.
    let sealed_at_once = matches!(app.db, Db::Sqlite(..));
    assert_eq!(
        disabled.body["data"][0]["chain_position"] == json!(null),
        !sealed_at_once,
        "{}",
        disabled.body
    );

    let sealed_later = leash::usecase::seal_audit::seal_audit(&app.app)
        .await
        .unwrap();
    let sealed = if sealed_at_once {
        assert_eq!(sealed_later, 0);
        leash::usecase::audit::verify(&app.db).await.unwrap().sealed
    } else {
        i64::try_from(sealed_later).unwrap()
    };
    assert!(sealed >= 6, "sealed {sealed}");
    let page = app.get("/v1/audit?limit=2").await;
    let page = page.assert_status(StatusCode::OK).clone();
    assert_eq!(page["data"][0]["chain_position"], 1);
    assert_eq!(page["data"][1]["chain_position"], 2);
    assert_eq!(page["data"][0]["hash"].as_str().unwrap().len(), 64);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = app.get(&format!("/v1/audit?limit=2&after={cursor}")).await;
    assert_eq!(next.body["data"][0]["chain_position"], 3);

    let verified = leash::usecase::audit::verify(&app.db).await.unwrap();
    assert_eq!((verified.sealed, verified.unsealed), (sealed, 0));
    app.get("/v1/audit?actor=")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
}

#[tokio::test]
async fn entries_appended_after_a_seal_extend_the_chain() {
    let app = TestApp::start().await;
    some_acts(&app).await;
    leash::usecase::seal_audit::seal_audit(&app.app)
        .await
        .unwrap();
    app.create_user("dave").await;
    leash::usecase::seal_audit::seal_audit(&app.app)
        .await
        .unwrap();
    assert_eq!(
        leash::usecase::seal_audit::seal_audit(&app.app)
            .await
            .unwrap(),
        0
    );
    leash::usecase::audit::verify(&app.db).await.unwrap();
}

/// Changes one row as someone who can also drop the append-only triggers would.
async fn tamper(db: &Db, sql: &str) {
    let lift = match db {
        Db::Sqlite(..) => "DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_seal_only",
        Db::Postgres(_) => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
    };
    for statement in lift.split("; ") {
        run_sql(db, statement).await.unwrap();
    }
    assert_eq!(run_sql(db, sql).await.unwrap(), 1);
}

/// An entry appended but not sealed yet: what an act leaves on PostgreSQL until the
/// sealer runs, and on SQLite what a database written before entries were sealed as
/// they are appended still holds.
async fn append_unsealed(db: &Db, id: &str) {
    let sql = format!(
        "INSERT INTO audit_log (id, at, actor, action, target) \
         VALUES ('{id}', 1, 'operator', 'user.created', 'usr_{id}')"
    );
    assert_eq!(run_sql(db, &sql).await.unwrap(), 1);
}

/// On SQLite an act seals its entries as it appends them, unless an older entry still
/// waits for the sealer: the chain keeps the append order either way.
#[tokio::test]
async fn entries_are_chained_in_append_order_when_older_ones_wait_for_the_sealer() {
    let app = TestApp::start().await;
    some_acts(&app).await;
    leash::usecase::seal_audit::seal_audit(&app.app)
        .await
        .unwrap();
    append_unsealed(&app.db, "aud_waiting").await;
    let dave = app.create_user("dave").await;
    assert_eq!(
        leash::usecase::seal_audit::seal_audit(&app.app)
            .await
            .unwrap(),
        2,
        "the waiting entry and the one appended after it"
    );
    let verified = leash::usecase::audit::verify(&app.db).await.unwrap();
    let listed = app.get("/v1/audit?limit=100").await;
    let entries = listed.assert_status(StatusCode::OK)["data"]
        .as_array()
        .unwrap()
        .clone();
    let last_two: Vec<(&str, i64)> = entries[entries.len() - 2..]
        .iter()
        .map(|e| {
            (
                e["target"].as_str().unwrap(),
                e["chain_position"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        last_two,
        [
            ("usr_aud_waiting", verified.sealed - 1),
            (dave.id.as_str(), verified.sealed)
        ]
    );
    // Nothing waits any more: the next act's entry is sealed as it is appended on SQLite.
    app.create_user("erin").await;
    let waiting = leash::usecase::audit::verify(&app.db)
        .await
        .unwrap()
        .unsealed;
    assert_eq!(waiting, i64::from(matches!(app.db, Db::Postgres(_))));
}

#[tokio::test]
async fn the_database_refuses_to_change_or_delete_an_entry() {
    let app = TestApp::start().await;
    some_acts(&app).await;
    leash::usecase::seal_audit::seal_audit(&app.app)
        .await
        .unwrap();
    append_unsealed(&app.db, "aud_unsealed").await;
    for sql in [
        "UPDATE audit_log SET target = 'usr_x' WHERE chain_position = 1",
        "UPDATE audit_log SET chain_position = 99 WHERE chain_position = 1",
        "DELETE FROM audit_log WHERE chain_position = 1",
        "UPDATE audit_log SET actor = 'someone' WHERE chain_position IS NULL",
        "DELETE FROM audit_log WHERE chain_position IS NULL",
    ] {
        let refused = run_sql(&app.db, sql).await.unwrap_err().to_string();
        assert!(refused.contains("append-only"), "{sql}: {refused}");
    }
    // Sealing, the one change allowed, still works.
    assert_eq!(
        leash::usecase::seal_audit::seal_audit(&app.app)
            .await
            .unwrap(),
        1
    );
    leash::usecase::audit::verify(&app.db).await.unwrap();
}

#[tokio::test]
async fn audit_verify_names_the_entry_changed_in_the_database() {
    let app = TestApp::start().await;
    some_acts(&app).await;
    leash::usecase::seal_audit::seal_audit(&app.app)
        .await
        .unwrap();
    let url = app.database.url();

    let intact = leash(&url, &["audit", "verify"]);
    let stdout = String::from_utf8_lossy(&intact.stdout);
    assert!(
        intact.status.success(),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(stdout.contains("audit chain intact"), "{stdout}");

    // Someone with database access rewrites who was disabled.
    let entry = app.get("/v1/audit?action=user.disabled").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tamper(
        &app.db,
        &format!("UPDATE audit_log SET target = 'usr_someone_else' WHERE id = '{entry}'"),
    )
    .await;
    let broken = leash(&url, &["audit", "verify"]);
    assert!(!broken.status.success());
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains(&entry), "names the entry: {stderr}");
    assert!(stderr.contains("was changed"), "{stderr}");
}

#[tokio::test]
async fn audit_verify_notices_a_deleted_entry_and_a_cut_off_tail() {
    let app = TestApp::start().await;
    some_acts(&app).await;
    leash::usecase::seal_audit::seal_audit(&app.app)
        .await
        .unwrap();
    let url = app.database.url();
    tamper(&app.db, "DELETE FROM audit_log WHERE chain_position = 2").await;
    let stderr = String::from_utf8_lossy(&leash(&url, &["audit", "verify"]).stderr).into_owned();
    assert!(stderr.contains("position 2 is missing"), "{stderr}");

    let app = TestApp::start().await;
    some_acts(&app).await;
    leash::usecase::seal_audit::seal_audit(&app.app)
        .await
        .unwrap();
    let url = app.database.url();
    tamper(
        &app.db,
        "DELETE FROM audit_log WHERE chain_position = (SELECT MAX(chain_position) FROM audit_log)",
    )
    .await;
    let stderr = String::from_utf8_lossy(&leash(&url, &["audit", "verify"]).stderr).into_owned();
    assert!(stderr.contains("its head says"), "{stderr}");
}

/// On SQLite a writer seals new entries after the chain's head as it last moved it; when
/// another process writing the same file (a CLI, a second instance) moved it meanwhile,
/// the next act is still chained after the true head.
#[tokio::test]
async fn entries_are_chained_after_a_head_another_process_moved() {
    let app = TestApp::start().await;
    some_acts(&app).await;
    let other = app.database.connect().await;
    let mut tx = other.begin().await.unwrap();
    let entry = AuditEntry::new(
        &Actor::operator(),
        AuditAction::UserCreated,
        "usr_from_elsewhere",
        app.clock.now(),
    );
    leash::store::audit::append(&mut tx, &entry).await.unwrap();
    tx.commit().await.unwrap();
    other.close().await;

    app.create_user("dave").await;
    leash::usecase::seal_audit::seal_audit(&app.app)
        .await
        .unwrap();
    let verified = leash::usecase::audit::verify(&app.db).await.unwrap();
    assert_eq!(verified.unsealed, 0);
    assert!(verified.sealed >= 8, "sealed {}", verified.sealed);
}
