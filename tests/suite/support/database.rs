//! A fresh database per test. SQLite: a file in a temporary directory. PostgreSQL (when
//! `LEASH_TEST_DATABASE_URL` is set): a new schema in that database, dropped afterwards.
//! With `LEASH_TEST_REQUIRE_POSTGRES=1` (as CI sets it) the suite fails rather than
//! falling back to SQLite.

use std::str::FromStr as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use leash::store::Db;
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

pub enum TestDatabase {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        base_url: String,
        schema: String,
    },
}

pub fn postgres_url() -> Option<String> {
    let url = std::env::var("LEASH_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("LEASH_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
        panic!("LEASH_TEST_REQUIRE_POSTGRES=1 but LEASH_TEST_DATABASE_URL is not set");
    }
    url
}

impl TestDatabase {
    // Schema names carry the wall-clock time so a later run can sweep stale ones.
    #[allow(clippy::disallowed_methods)]
    pub async fn fresh() -> Self {
        match postgres_url() {
            None => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("leash.db").display());
                TestDatabase::Sqlite { _dir: dir, url }
            }
            Some(base_url) => {
                let created = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let schema = format!("{SCHEMA_PREFIX}{created}_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(&base_url).await.unwrap_or_else(|e| {
                    panic!("cannot reach the test PostgreSQL at {base_url}: {e}")
                });
                sweep_stale_schemas(&mut admin, created).await;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                TestDatabase::Postgres { base_url, schema }
            }
        }
    }

    /// A URL a separate process can use (for PostgreSQL, it pins the schema).
    pub fn url(&self) -> String {
        match self {
            TestDatabase::Sqlite { url, .. } => url.clone(),
            TestDatabase::Postgres { base_url, schema } => {
                let separator = if base_url.contains('?') { '&' } else { '?' };
                format!("{base_url}{separator}options=-c%20search_path%3D{schema}")
            }
        }
    }

    /// Every byte the database holds as an attacker with the files or a dump would see
    /// it: the SQLite file and its write-ahead log, or `pg_dump` of the test's schema.
    pub fn raw_bytes(&self) -> Vec<u8> {
        match self {
            TestDatabase::Sqlite { url, .. } => {
                let file = url.trim_start_matches("sqlite://");
                let mut bytes = std::fs::read(file).unwrap();
                if let Ok(wal) = std::fs::read(format!("{file}-wal")) {
                    bytes.extend(wal);
                }
                bytes
            }
            TestDatabase::Postgres { base_url, schema } => {
                let dump = std::process::Command::new("pg_dump")
                    .args(["--data-only", "--schema", schema, base_url])
                    .output()
                    .expect("pg_dump (Debian's postgresql-client)");
                assert!(
                    dump.status.success(),
                    "{}",
                    String::from_utf8_lossy(&dump.stderr)
                );
                assert!(!dump.stdout.is_empty());
                dump.stdout
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDatabase::Postgres { .. })
    }

    /// A migrated pool on this database.
    pub async fn connect(&self) -> Db {
        let db = match self {
            TestDatabase::Sqlite { url, .. } => Db::connect(url).await.unwrap(),
            TestDatabase::Postgres { base_url, schema } => {
                let options = PgConnectOptions::from_str(base_url)
                    .unwrap()
                    .options([("search_path", schema.as_str())]);
                Db::connect_postgres(options).await.unwrap()
            }
        };
        db.migrate().await.unwrap();
        db
    }
}

const SCHEMA_PREFIX: &str = "leash_test_";

/// Drops test schemas more than an hour old: left behind by a run that was killed.
async fn sweep_stale_schemas(admin: &mut PgConnection, now: u64) {
    static SWEPT: AtomicBool = AtomicBool::new(false);
    if SWEPT.swap(true, Ordering::SeqCst) {
        return;
    }
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'leash\\_test\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap();
    for schema in schemas {
        let created = schema
            .strip_prefix(SCHEMA_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|t| t.parse::<u64>().ok());
        if created.is_none_or(|t| t + 3600 < now) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(&mut *admin)
            .await;
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let TestDatabase::Postgres { base_url, schema } = self else {
            return;
        };
        let (base_url, schema) = (base_url.clone(), schema.clone());
        // Drop runs inside the test's runtime, which must not be blocked: a transaction
        // the test dropped rolls back on that runtime, and DROP SCHEMA waits for it. A
        // detached thread removes the schema once the test's connections are gone; if
        // the process exits first, the next run sweeps it.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&base_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE"
                    )))
                    .execute(&mut admin)
                    .await;
                }
            });
        });
    }
}

/// Runs SQL against the database directly, as someone with access to it would.
pub async fn run_sql(db: &Db, sql: &str) -> Result<u64, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match db {
        Db::Sqlite(_, writer) => {
            let mut tx = writer.begin().await?;
            let done = sqlx::query(sql).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(done.rows_affected())
        }
        Db::Postgres(pool) => Ok(sqlx::query(sql).execute(pool).await?.rows_affected()),
    }
}

/// Every table's rows as text, by table name: two snapshots are equal exactly when no
/// row was added, removed or changed in between.
pub async fn snapshot(db: &Db) -> std::collections::BTreeMap<String, String> {
    let mut tables = std::collections::BTreeMap::new();
    match db {
        Db::Sqlite(readers, _) => {
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(readers)
            .await
            .unwrap();
            for name in names {
                let columns: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                        .bind(&name)
                        .fetch_all(readers)
                        .await
                        .unwrap();
                let row = columns
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || ',' || ");
                let rows: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT group_concat(r, '|') FROM (SELECT {row} AS r FROM \"{name}\" ORDER BY 1)"
                )))
                .fetch_one(readers)
                .await
                .unwrap();
                tables.insert(name, rows.unwrap_or_default());
            }
        }
        Db::Postgres(pool) => {
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            for name in names {
                let rows: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT string_agg(t::text, '|' ORDER BY t::text) FROM \"{name}\" t"
                )))
                .fetch_one(pool)
                .await
                .unwrap();
                tables.insert(name, rows.unwrap_or_default());
            }
        }
    }
    tables
}

/// A [`snapshot`] but for the API keys' table, whose last use every authenticated
/// request writes: equal before and after exactly when the requests between changed
/// nothing else.
pub async fn snapshot_but_key_use(db: &Db) -> std::collections::BTreeMap<String, String> {
    let mut tables = snapshot(db).await;
    tables.remove("api_keys");
    tables
}

/// The one text value `sql` selects.
pub async fn text_of(db: &Db, sql: &str) -> String {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match db {
        Db::Sqlite(readers, _) => sqlx::query_scalar(sql).fetch_one(readers).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}
