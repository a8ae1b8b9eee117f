//! The narrow error a repo returns; `AppError` lifts it.

/// What went wrong in a query, in terms a service can decide on.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; holds the constraint or column text.
    #[error("already exists ({0})")]
    Unique(String),
    /// Anything else: connection, syntax, decode.
    #[error(transparent)]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::Database(ref d) if d.is_unique_violation() => {
                let what = d
                    .constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| d.message().to_owned());
                DbError::Unique(what)
            }
            other => DbError::Other(other),
        }
    }
}
