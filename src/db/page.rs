//! One page of a filtered list and how many rows match it: the query shape
//! every paged list shares, written once.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use super::{Db, DbError};
use crate::on;

/// A paged list query: `select {columns} {from} order by {order} limit ..
/// offset ..` and `select count(*) {from}`, where `from` is the `from`
/// clause with its `where` (trusted SQL written by the repo, never user
/// text) and `texts` are bound as `$1`, `$2`, ... (each optional, for
/// `cast($n as text) is null or ...` filters).
pub struct Paged<'a> {
    /// The selected columns.
    pub columns: &'a str,
    /// `from ... where ...`.
    pub from: &'a str,
    /// The `order by` list (see [`super::Sort::order_by`]).
    pub order: &'a str,
    /// The filter values, `$1`...
    pub texts: &'a [Option<&'a str>],
}

impl Paged<'_> {
    /// One page of rows (`limit` from `offset`) and how many match in all.
    pub async fn fetch<T>(&self, db: &Db, limit: i64, offset: i64) -> Result<(Vec<T>, i64), DbError>
    where
        T: Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>,
    {
        let n = self.texts.len();
        let sql = format!(
            "select {} {} order by {} limit ${} offset ${}",
            self.columns,
            self.from,
            self.order,
            n + 1,
            n + 2
        );
        let rows = on!(db, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for t in self.texts {
                q = q.bind(*t);
            }
            q.bind(limit).bind(offset).fetch_all(p).await
        })?;
        let count = format!("select count(*) {}", self.from);
        let total = on!(db, |p| {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(count.clone()));
            for t in self.texts {
                q = q.bind(*t);
            }
            q.fetch_one(p).await
        })?;
        Ok((rows, total))
    }
}
