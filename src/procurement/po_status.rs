//! Purchase order statuses and the transitions a user may ask for.

use tracing::instrument;

use super::orders_repo as repo;
use crate::audit::{self, Action, Actor};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::i18n::Msg;

/// Order statuses, in life order.
pub const STATUSES: [&str; 6] = [
    "draft",
    "ordered",
    "partially_received",
    "received",
    "closed",
    "cancelled",
];

/// Whether a user may move an order from `from` to `to`. Receiving moves
/// orders into `partially_received` and `received` by itself.
pub fn transition_allowed(from: &str, to: &str, anything_received: bool) -> Result<(), Msg> {
    let ok = match (from, to) {
        ("draft", "ordered") | ("draft", "cancelled") => true,
        ("ordered", "cancelled") => !anything_received,
        ("partially_received", "closed") | ("received", "closed") => true,
        _ => false,
    };
    if ok {
        Ok(())
    } else if from == "ordered" && to == "cancelled" {
        Err(Msg::new("po.cannot_cancel_received"))
    } else {
        Err(Msg::new("po.illegal_transition")
            .arg("from", from)
            .arg("to", to))
    }
}

/// Moves an order to `to` if the transition is legal, else says why not.
#[instrument(skip_all, fields(po_id, to))]
pub async fn transition(db: &Db, actor: &Actor, po_id: i64, to: &str) -> AppResult<()> {
    let mut tx = db.begin().await?;
    repo::lock_po(&mut tx, po_id).await?;
    let before = repo::get_po(&mut tx, po_id).await?;
    let lines = repo::lines(&mut tx, po_id).await?;
    let received = lines.iter().any(|l| l.received > 0);
    transition_allowed(&before.status, to, received).map_err(AppError::Conflict)?;
    if to == "ordered" && lines.is_empty() {
        return Err(AppError::Conflict(Msg::new("po.no_lines")));
    }
    repo::set_status(&mut tx, po_id, to).await?;
    let after = repo::get_po(&mut tx, po_id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "purchase_order",
        po_id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_legal_transitions_pass_and_the_reason_is_given() {
        assert!(transition_allowed("draft", "ordered", false).is_ok());
        assert!(transition_allowed("received", "closed", true).is_ok());
        assert!(transition_allowed("ordered", "cancelled", false).is_ok());
        assert_eq!(
            transition_allowed("ordered", "cancelled", true),
            Err(Msg::new("po.cannot_cancel_received"))
        );
        let e = transition_allowed("closed", "draft", true).expect_err("refused");
        assert_eq!(e.key, "po.illegal_transition");
        assert!(
            transition_allowed("draft", "received", false).is_err(),
            "receiving, not a click, marks orders received"
        );
    }
}
