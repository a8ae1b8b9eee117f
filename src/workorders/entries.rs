//! A work order's log: what happened to it after it was opened, such as the
//! BMC reporting the failed part healthy again, or the same slot failing
//! again while the work order is open. Each entry's text is a message key
//! with its arguments (stored as JSON), shown in the reader's language, and
//! its time is shown in the reader's time zone.

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::db::{Db, DbError, Tx};
use crate::i18n::Msg;
use crate::{exec, on};

/// Catalogue prefixes an entry's coded arguments may use (a stored prefix
/// is read back as one of these; another is shown as its bare code).
const PREFIXES: [&str; 2] = ["health.kind", "wo_alert"];

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
        let message = serde_json::to_string(&e.message)
            .map_err(|err| DbError::Other(sqlx::Error::Encode(Box::new(err))))?;
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
            message: message_from_json(&message),
            at,
        })
        .collect())
}

/// A stored message read back: its key, arguments and coded arguments.
fn message_from_json(text: &str) -> Msg {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let mut m = Msg::new(
        v.get("key")
            .and_then(Value::as_str)
            .unwrap_or("wo_entry.unreadable")
            .to_owned(),
    );
    let pairs = |name: &str| -> Vec<Vec<String>> {
        v.get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_array)
                    .map(|p| {
                        p.iter()
                            .map(|s| s.as_str().unwrap_or_default().to_owned())
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    for p in pairs("args") {
        if let [name, value] = p.as_slice() {
            m = m.arg(name.clone(), value);
        }
    }
    for p in pairs("coded") {
        if let [name, prefix, code] = p.as_slice() {
            m = match PREFIXES.iter().find(|s| **s == prefix.as_str()) {
                Some(prefix) => m.arg_code(name.clone(), prefix, code),
                None => m.arg(name.clone(), code),
            };
        }
    }
    m
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
        let back = message_from_json(&serde_json::to_string(&m).unwrap());
        assert_eq!(back, m);
        assert!(back.render(Lang::En).contains("DIMM A1"));
        assert_ne!(back.render(Lang::En), back.render(Lang::Ko));
        assert_eq!(message_from_json("not json").key, "wo_entry.unreadable");
    }
}
