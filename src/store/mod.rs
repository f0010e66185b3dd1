//! The only place with SQL. Two native pools (SQLite, PostgreSQL), one SQL text per
//! query wherever the engines agree (`$1` placeholders, `RETURNING`, `ON CONFLICT`,
//! millisecond `BIGINT` timestamps), and a branch on the backend only where semantics
//! truly differ: row locks, notifications, numbered ids in SQL, connection pragmas.
//!
//! Every function either reads through the pool or writes inside a [`Tx`] the use case
//! opened; none commits on its own.

pub mod agent_sessions;
pub mod agents;
pub mod api_keys;
pub mod audit;
pub mod connections;
pub mod encryption_keys;
mod error;
pub mod events;
pub mod grants;
pub mod idempotency_keys;
pub mod invalidation;
pub mod ip_blocks;
pub mod last_use;
pub mod login_links;
pub mod oauth_states;
pub mod refresh_tokens;
pub mod revocations;
mod risk_selection;
pub mod risk_signals;
mod scopes;
mod selection;
mod sqlite_writer;
mod time;
pub mod upstream_revocations;
pub mod user_sessions;
pub mod users;
pub mod webhook_deliveries;
pub mod webhook_endpoints;

use std::str::FromStr as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection as _, PgPool, Postgres, SqlitePool, Transaction};

pub use sqlite_writer::{SqliteTx, SqliteWriter};

pub use error::StoreError;

/// Runs `$body` with `$c` bound to the transaction's connection, whichever the backend.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to the pool, whichever the backend.
macro_rules! on_pool {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($c, _) => $body,
            $crate::store::Db::Postgres($c) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the reader's pool or transaction connection.
macro_rules! on_reader {
    ($reader:expr, |$c:ident| $body:expr) => {
        match $reader {
            $crate::store::Reader::Db($crate::store::Db::Sqlite($c, _)) => $body,
            $crate::store::Reader::Db($crate::store::Db::Postgres($c)) => $body,
            $crate::store::Reader::Tx($crate::store::Tx::Sqlite(t)) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::Reader::Tx($crate::store::Tx::Postgres(t)) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

pub(crate) use {on_pool, on_reader, on_tx};

/// Where a read runs: through the pool, or inside an open transaction. A use case that
/// holds a transaction must read through it: a second pooled connection per request
/// can exhaust the pool while every connection waits on a transaction.
pub enum Reader<'a> {
    Db(&'a Db),
    Tx(&'a mut Tx),
}

impl Reader<'_> {
    /// The rows of a JSON array of ids stored in `column`, as a table `j` whose column
    /// `value` is each id.
    fn json_ids_table(&self, column: &str) -> String {
        let postgres = matches!(
            self,
            Reader::Db(Db::Postgres(_)) | Reader::Tx(Tx::Postgres(_))
        );
        if postgres {
            format!("jsonb_array_elements_text({column}::jsonb) AS j(value)")
        } else {
            format!("json_each({column}) AS j")
        }
    }

    /// The same reader for one more statement.
    pub fn reborrow(&mut self) -> Reader<'_> {
        match self {
            Reader::Db(db) => Reader::Db(db),
            Reader::Tx(tx) => Reader::Tx(tx),
        }
    }
}

impl<'a> From<&'a Db> for Reader<'a> {
    fn from(db: &'a Db) -> Self {
        Reader::Db(db)
    }
}

impl<'a> From<&'a mut Tx> for Reader<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        Reader::Tx(tx)
    }
}

/// A connection pool to one of the two supported engines.
#[derive(Clone, Debug)]
pub enum Db {
    /// Readers, and the one writer connection. SQLite runs one write transaction at a
    /// time whatever the connections; waiting for the writer in its fair queue wakes the
    /// next writer the moment the last one commits, where waiting in SQLite's busy
    /// handler sleeps and retries (it halved the issuance rate under load).
    Sqlite(SqlitePool, SqliteWriter),
    Postgres(PgPool),
}

/// An open transaction; dropped without [`Tx::commit`], it rolls back.
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(Transaction<'static, Postgres>),
}

/// Rows per multi-row statement (`INSERT … VALUES`, `UPDATE … FROM (VALUES …)`).
const INSERT_CHUNK: usize = 500;

/// Runs a `COUNT(*)` over a subquery bounded by `LIMIT $3`: its cost stops at the cap.
async fn count_capped(
    tx: &mut Tx,
    sql: &'static str,
    key: &str,
    now: DateTime<Utc>,
    cap: u32,
) -> Result<u64, StoreError> {
    let count: i64 = on_tx!(tx, |c| sqlx::query_scalar(sql)
        .bind(key)
        .bind(time::to_ms(now))
        .bind(i64::from(cap))
        .fetch_one(c)
        .await)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// `$first, $first+1, …` for `count` parameters, for an `IN (…)` list.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, $2, …), (…), …`: `rows` tuples of `per_row` parameters each, for a multi-row
/// `INSERT … VALUES` or `FROM (VALUES …)` whose only parameters they are. On SQLite they
/// are anonymous (`?`, which SQLite numbers in order): binding a numbered parameter makes
/// SQLite look its name up in a list as long as the statement's parameters, so binding
/// a statement of n numbered parameters costs n² (14% of a vend's CPU, measured).
fn values(backend: Backend, rows: usize, per_row: usize) -> String {
    match backend {
        Backend::Sqlite => vec![format!("({})", vec!["?"; per_row].join(", ")); rows].join(", "),
        Backend::Postgres => (0..rows)
            .map(|row| format!("({})", placeholders(row * per_row + 1, per_row)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// A stored SHA-256, checked for its length.
fn token_hash(bytes: Vec<u8>) -> Result<crate::domain::token::TokenHash, StoreError> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("token hash length".to_owned()))?;
    Ok(crate::domain::token::TokenHash::from_bytes(bytes))
}

/// How strongly a `lock` function holds the rows it reads until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Many may hold it (issuing under a user or an agent); it waits for `Update`.
    Share,
    /// `Share` where it is free now: a row another holds for update (or is updating) is
    /// skipped, not waited for, and left out of the answer. A batch of issuances takes
    /// its rows so, and leaves the exchanges under a skipped row to issue alone.
    ShareIfFree,
    /// One holder (changing or revoking); it waits for every `Share`.
    Update,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The ids of the rows one set-based statement generates (one outbox event per revoked
/// session, one webhook delivery per event and endpoint): the first half of a fresh
/// time-ordered id, then a random base plus the row's number in the statement, in hex.
/// They carry the millisecond they were made in, as every other id, and are consecutive
/// within the statement, so
/// the table's unique index on `id` takes a million of them at one place instead of at a
/// random page each. Ids of two statements can collide only if they begin with the same
/// half and their ranges (as many wide as rows, at random places among 2^62) overlap.
struct NumberedIds {
    prefix: String,
    base: i64,
}

impl NumberedIds {
    /// For ids shaped like `fresh`, a newly generated id (`evt_` and 32 hex digits).
    fn like(fresh: &str) -> Self {
        let half = fresh.len() - 16;
        let base = uuid::Uuid::new_v4().as_u64_pair().0 >> 2;
        Self {
            prefix: fresh[..half].to_owned(),
            base: i64::try_from(base).unwrap_or_default(),
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Opens a pool for `sqlite://…` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            // A connection to a local file does not go stale: no ping before each use,
            // which would cost every transaction a round trip to its worker thread.
            let readers = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(options.clone())
                .await?;
            // The one writer keeps 64 MiB of pages (SQLite's default is 2 MiB): a mass
            // revocation rewrites indexes far larger than the default (an agent disable
            // over 280,000 sessions committed in 5.7 s with it, 5.1 s with this).
            let writer =
                sqlx::SqliteConnection::connect_with(&options.pragma("cache_size", "-65536"))
                    .await?;
            Ok(Db::Sqlite(readers, SqliteWriter::new(writer)))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self::connect_postgres(PgConnectOptions::from_str(url)?).await
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    pub async fn connect_postgres(options: PgConnectOptions) -> Result<Self, StoreError> {
        // A connection back from use moments ago is not pinged before it is lent again
        // (a ping is a round trip, and a busy instance lends several per request); one
        // idle for a while is, in case the server or the network dropped it meanwhile.
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
            .before_acquire(|connection, meta| {
                Box::pin(async move {
                    if meta.idle_for > Duration::from_secs(5) {
                        connection.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options.application_name("leash"))
            .await?;
        Ok(Db::Postgres(pool))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(..) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations this binary carries for its backend, then fills in what a
    /// migration could not compute in SQL.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(_, writer) => {
                writer
                    .with(async |connection| SQLITE_MIGRATIONS.run(connection).await)
                    .await?
            }
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        let filled = user_sessions::fill_ip_keys(self).await?;
        if filled > 0 {
            tracing::info!(filled, "user sessions' address keys filled in");
        }
        Ok(())
    }

    /// Opens a write transaction. On SQLite it runs on the writer connection and takes
    /// the write lock at once (`BEGIN IMMEDIATE`): a deferred transaction that reads and
    /// then writes can fail with SQLITE_BUSY when another writer (another process, a
    /// migration) got there first, which the busy timeout does not retry.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(_, writer) => Tx::Sqlite(writer.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(readers, writer) => {
                readers.close().await;
                writer.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// The row-lock clause for a `SELECT`. SQLite needs none: every write transaction
    /// already holds the database's write lock.
    fn lock_clause(&self, mode: LockMode) -> &'static str {
        match (self, mode) {
            (Tx::Sqlite(_), _) => "",
            (Tx::Postgres(_), LockMode::Share) => " FOR SHARE",
            (Tx::Postgres(_), LockMode::ShareIfFree) => " FOR SHARE SKIP LOCKED",
            (Tx::Postgres(_), LockMode::Update) => " FOR UPDATE",
        }
    }

    /// SQL for the id of each row a set-based statement generates, from `ids` bound as
    /// the parameters numbered `first` and `first + 1`.
    fn numbered_id_sql(&self, first: usize) -> String {
        let (prefix, base) = (first, first + 1);
        match self {
            Tx::Sqlite(_) => {
                format!("${prefix} || printf('%016x', ${base} + row_number() OVER ())")
            }
            Tx::Postgres(_) => {
                format!("${prefix} || lpad(to_hex(${base} + row_number() OVER ()), 16, '0')")
            }
        }
    }
}
