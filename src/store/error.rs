//! Store errors, classified once from sqlx's.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the row was not found")]
    NotFound,
    #[error("a row with the same unique key exists")]
    Conflict,
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("the database holds a value this version does not understand: {0}")]
    Corrupt(String),
    #[error("the database URL must start with sqlite: or postgres:")]
    UnsupportedUrl,
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error),
            _ => StoreError::Other(error),
        }
    }
}
