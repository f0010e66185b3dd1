//! SQLite's one writer connection, held outside any pool. A pool pings every connection
//! it is given back, in a task it spawns, before the next caller may have it: for the
//! one writer that was a task wake-up and a round trip to the connection's worker thread
//! between each write transaction and the next, over a third of a group-committed
//! vend batch's time under load (measured). Here the next writer takes the connection
//! the moment the last one lets it go.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::sqlite::SqliteConnection;
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};

use crate::domain::audit::ChainHead;

/// How long a write transaction waits for the writer before it fails as unavailable.
const WAIT: Duration = Duration::from_secs(30);

/// The connection; whether a transaction left open on it (its holder went away without
/// committing) must be rolled back before the next begins; and the audit chain's head
/// as this writer last moved it, unless a transaction that moved it did not commit.
#[derive(Debug)]
struct Slot {
    connection: SqliteConnection,
    open: bool,
    chain_head: Option<ChainHead>,
}

/// The writer, shared by every clone of the database handle; `None` once closed.
#[derive(Debug, Clone)]
pub struct SqliteWriter(Arc<Mutex<Option<Slot>>>);

impl SqliteWriter {
    pub fn new(connection: SqliteConnection) -> Self {
        Self(Arc::new(Mutex::new(Some(Slot {
            connection,
            open: false,
            chain_head: None,
        }))))
    }

    /// Waits for the writer, then takes the write lock at once (`BEGIN IMMEDIATE`).
    pub async fn begin(&self) -> Result<SqliteTx, sqlx::Error> {
        let held = OwnedMutexGuard::try_map(self.hold().await?, Option::as_mut)
            .map_err(|_closed| sqlx::Error::PoolClosed)?;
        let mut tx = SqliteTx {
            held,
            writer: self.clone(),
        };
        tx.held.roll_back_if_open().await?;
        // Marked open before it is: a BEGIN whose caller went away (or that failed) may
        // still have run, and the next transaction must roll it back first.
        tx.held.open = true;
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut tx.held.connection)
            .await?;
        Ok(tx)
    }

    /// Runs `f` on the connection outside any transaction (migrations).
    pub async fn with<T, E: From<sqlx::Error>>(
        &self,
        f: impl AsyncFnOnce(&mut SqliteConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut held = self.hold().await?;
        let slot = held.as_mut().ok_or(sqlx::Error::PoolClosed)?;
        slot.roll_back_if_open().await?;
        f(&mut slot.connection).await
    }

    /// Closes the connection once the transaction in progress, if any, let it go.
    pub async fn close(&self) {
        if let Some(slot) = self.0.lock().await.take() {
            let _ = slot.connection.close().await;
        }
    }

    async fn hold(&self) -> Result<OwnedMutexGuard<Option<Slot>>, sqlx::Error> {
        tokio::time::timeout(WAIT, Arc::clone(&self.0).lock_owned())
            .await
            .map_err(|_elapsed| sqlx::Error::PoolTimedOut)
    }
}

impl Slot {
    async fn roll_back_if_open(&mut self) -> Result<(), sqlx::Error> {
        if self.open {
            self.chain_head = None;
            match sqlx::query("ROLLBACK").execute(&mut self.connection).await {
                Ok(_) => {}
                Err(error) if no_transaction_was_active(&error) => {}
                Err(error) => return Err(error),
            }
            self.open = false;
        }
        Ok(())
    }
}

/// Whether a `ROLLBACK` failed only because no transaction was active (its `BEGIN` never
/// ran, or its `COMMIT` did though its caller went away). SQLite says so only in the
/// message, unchanged since 2004.
fn no_transaction_was_active(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.message().contains("no transaction is active"))
}

/// A write transaction on the writer; dropped without [`SqliteTx::commit`], it rolls
/// back (in a task, or else when the writer is next taken).
#[derive(Debug)]
pub struct SqliteTx {
    held: OwnedMappedMutexGuard<Option<Slot>, Slot>,
    writer: SqliteWriter,
}

impl SqliteTx {
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        sqlx::query("COMMIT")
            .execute(&mut self.held.connection)
            .await?;
        self.held.open = false;
        Ok(())
    }

    /// The audit chain's head as this writer last moved it: a hint, which another
    /// process writing the same file can have made stale (`store::audit` checks it).
    pub fn chain_head_hint(&self) -> Option<ChainHead> {
        self.held.chain_head
    }

    /// Notes that this transaction moved the audit chain's head; forgotten unless it
    /// commits.
    pub fn moved_chain_head(&mut self, head: ChainHead) {
        self.held.chain_head = Some(head);
    }
}

impl Deref for SqliteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.held.connection
    }
}

impl DerefMut for SqliteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.held.connection
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if !self.held.open {
            return;
        }
        self.held.chain_head = None;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let writer = self.writer.clone();
        runtime.spawn(async move {
            if let Ok(mut held) = writer.hold().await
                && let Some(slot) = held.as_mut()
            {
                let _ = slot.roll_back_if_open().await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn writer_with_a_table() -> SqliteWriter {
        let connection = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let writer = SqliteWriter::new(connection);
        writer
            .with(async |c| sqlx::query("CREATE TABLE t (x INTEGER)").execute(c).await)
            .await
            .unwrap();
        writer
    }

    async fn insert(tx: &mut SqliteTx) {
        sqlx::query("INSERT INTO t (x) VALUES (1)")
            .execute(&mut **tx)
            .await
            .unwrap();
    }

    async fn rows(writer: &SqliteWriter) -> i64 {
        let mut tx = writer.begin().await.unwrap();
        let rows = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        rows
    }

    #[tokio::test]
    async fn a_committed_transaction_keeps_its_writes() {
        let writer = writer_with_a_table().await;
        let mut tx = writer.begin().await.unwrap();
        insert(&mut tx).await;
        tx.commit().await.unwrap();
        assert_eq!(rows(&writer).await, 1);
    }

    #[tokio::test]
    async fn a_transaction_dropped_without_commit_rolls_back_before_the_next_begins() {
        let writer = writer_with_a_table().await;
        let mut tx = writer.begin().await.unwrap();
        insert(&mut tx).await;
        drop(tx);
        assert_eq!(rows(&writer).await, 0);
    }

    #[test]
    fn a_transaction_dropped_where_no_task_can_roll_it_back_is_rolled_back_by_the_next() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let writer = runtime.block_on(writer_with_a_table());
        let tx = runtime.block_on(async {
            let mut tx = writer.begin().await.unwrap();
            insert(&mut tx).await;
            tx
        });
        drop(tx);
        assert_eq!(runtime.block_on(rows(&writer)), 0);
    }

    #[tokio::test]
    async fn a_transaction_marked_open_that_sqlite_already_ended_does_not_stop_the_next() {
        let writer = writer_with_a_table().await;
        let mut tx = writer.begin().await.unwrap();
        insert(&mut tx).await;
        // As a COMMIT that ran after its caller went away leaves it.
        sqlx::query("COMMIT").execute(&mut *tx).await.unwrap();
        drop(tx);
        assert_eq!(rows(&writer).await, 1);
    }

    /// A caller that goes away while its `BEGIN` is on its way leaves the writer usable,
    /// at whatever point it went away.
    #[tokio::test]
    async fn a_begin_abandoned_at_any_point_does_not_stop_the_next() {
        let writer = writer_with_a_table().await;
        for polls in 0..50 {
            let mut begin = Box::pin(writer.begin());
            for _ in 0..polls {
                tokio::select! {
                    biased;
                    _ = &mut begin => break,
                    () = tokio::task::yield_now() => {}
                }
            }
            drop(begin);
            assert_eq!(rows(&writer).await, 0, "abandoned after {polls} polls");
        }
    }

    #[tokio::test]
    async fn a_closed_writer_refuses_to_begin() {
        let writer = writer_with_a_table().await;
        writer.close().await;
        assert!(matches!(writer.begin().await, Err(sqlx::Error::PoolClosed)));
    }
}
