//! Sessions' last use, written behind the requests that used them (see
//! `crate::cache::last_use`), in set-based statements.

use chrono::{DateTime, Utc};

use super::time::to_ms;
use super::{Db, INSERT_CHUNK, StoreError, on_pool, values};

/// Which table a batch of uses belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionTable {
    UserSessions,
    AgentSessions,
}

impl SessionTable {
    fn table_and_column(self) -> (&'static str, &'static str) {
        match self {
            SessionTable::UserSessions => ("user_sessions", "last_seen_at"),
            SessionTable::AgentSessions => ("agent_sessions", "last_used_at"),
        }
    }
}

/// Records when sessions were last used; never moves a last use backwards.
/// `UPDATE … FROM (VALUES …)` reads the same on both engines, whose `VALUES` columns are
/// both named `column1`, `column2`.
pub async fn record(
    db: &Db,
    table: SessionTable,
    uses: &[(&str, DateTime<Utc>)],
) -> Result<(), StoreError> {
    let (table, column) = table.table_and_column();
    for chunk in uses.chunks(INSERT_CHUNK) {
        let values = values(db.backend(), chunk.len(), 2);
        let sql = format!(
            "UPDATE {table} SET {column} = v.column2 FROM (VALUES {values}) AS v \
             WHERE {table}.id = v.column1 AND {table}.{column} < v.column2"
        );
        on_pool!(db, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, at) in chunk {
                query = query.bind(*id).bind(to_ms(*at));
            }
            query.execute(c).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}
