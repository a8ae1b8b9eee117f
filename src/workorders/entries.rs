//! A work order's log: what happened to it after it was opened, such as the
//! BMC reporting the failed part healthy again, or the same slot failing
//! again while the work order is open. Each entry's text is a message key
//! with its arguments (stored as JSON), shown in the reader's language, and
//! its time is shown in the reader's time zone.

use serde::Serialize;
use time::OffsetDateTime;

use crate::db::{Db, DbError, Tx};
use crate::i18n::Msg;
use crate::{exec, on};

/// An entry to add.
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// The work order.
    pub work_order_id: i64,
    /// `healthy_again`, `gone` or `failed_again`.
    pub kind: &'static str,
    /// What happened.
    pub message: Msg,
    /// The health alert it comes from.
    pub alert_id: Option<i64>,
    /// When it happened (the poll that saw it).
    pub at: OffsetDateTime,
}

/// One entry as stored.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// Id.
    pub id: i64,
    /// `healthy_again`, `gone` or `failed_again`.
    pub kind: String,
    /// What happened.
    pub message: Msg,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Adds each entry whose work order is still active (open or in progress);
/// a done or cancelled work order gets none. Returns how many were added.
pub async fn add_to_active(tx: &mut Tx, entries: &[NewEntry]) -> Result<u64, DbError> {
    let now = crate::clock::now();
    let mut added = 0;
    for e in entries {
        let message = e.message.to_json();
        added += exec!(tx, |c| {
            sqlx::query(
                "insert into work_order_entries (work_order_id, kind, message, alert_id, at, created_at)
                 select id, $2, $3, $4, $5, $6 from work_orders
                 where id = $1 and status in ('open', 'in_progress')",
            )
            .bind(e.work_order_id)
            .bind(e.kind)
            .bind(&message)
            .bind(e.alert_id)
            .bind(e.at)
            .bind(now)
            .execute(c)
            .await
        })?;
    }
    Ok(added)
}

/// A work order's entries, oldest first.
pub async fn list(db: &Db, work_order_id: i64) -> Result<Vec<Entry>, DbError> {
    let rows: Vec<(i64, String, String, OffsetDateTime)> = on!(db, |p| {
        sqlx::query_as(
            "select id, kind, message, at from work_order_entries
             where work_order_id = $1 order by at, id",
        )
        .bind(work_order_id)
        .fetch_all(p)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, message, at)| Entry {
            id,
            kind,
            message: Msg::from_json(&message).unwrap_or_else(|| Msg::new("wo_entry.unreadable")),
            at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn a_stored_message_reads_back_in_either_language() {
        let m = Msg::new("wo_entry.healthy_again")
            .arg_code("component", "health.kind", "memory")
            .arg("slot", "DIMM A1");
        let back = Msg::from_json(&m.to_json()).expect("a stored message reads back");
        assert_eq!(back, m);
        assert!(back.render(Lang::En).contains("DIMM A1"));
        assert_ne!(back.render(Lang::En), back.render(Lang::Ko));
        assert_eq!(Msg::from_json("not json"), None);
    }
}
