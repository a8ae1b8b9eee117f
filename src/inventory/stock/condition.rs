//! Taking a unit on a shelf out of use: marking a unit in stock faulty
//! (dead on arrival, or found bad; it stays where it lies and can then go
//! back to its supplier on an RMA, `inventory::rma`), and scrapping a unit
//! in stock or faulty (gone for good: a `scrap` movement out of its location,
//! never undone). Each is audited with the reason given.

use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::audit::{self, Action, Actor};
use crate::db::Db;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::inventory::units::{self, Movement, UnitStatus};
use crate::on;

/// Longest reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Why a unit is marked faulty or scrapped.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ConditionInput {
    /// What is wrong (required for a scrap).
    #[serde(default)]
    pub reason: String,
}

/// A unit's status before and after, with the reason, for the audit log.
#[derive(Serialize)]
struct Change<'a> {
    status: UnitStatus,
    location_id: Option<i64>,
    reason: &'a str,
}

fn reason(input: &ConditionInput, required: bool) -> AppResult<&str> {
    let r = input.reason.trim();
    let mut f = FieldErrors::default();
    if required && r.is_empty() {
        f.add("reason", Msg::new("validation.required"));
    } else if r.chars().count() > MAX_REASON_CHARS {
        f.add(
            "reason",
            Msg::new("validation.too_long").arg("max", MAX_REASON_CHARS),
        );
    }
    if f.is_empty() {
        Ok(r)
    } else {
        Err(AppError::Validation(f))
    }
}

/// The unit's serial, status and location now.
async fn state(
    tx: &mut crate::db::Tx,
    id: i64,
) -> AppResult<(String, UnitStatus, Option<i64>, i64)> {
    Ok(on!(tx, |c| sqlx::query_as(
        "select serial, status, location_id, part_model_id from units where id = $1"
    )
    .bind(id)
    .fetch_one(c)
    .await)?)
}

fn wrong_status(serial: &str, status: UnitStatus, key: &'static str) -> AppError {
    AppError::Conflict(Msg::new(key).arg("serial", serial).arg_code(
        "status",
        "unit_status",
        status.as_str(),
    ))
}

/// Marks a unit in stock as faulty where it lies (409 naming its status
/// otherwise: only a unit in stock can be; the same conditional update as a
/// reservation, so a unit reserved meanwhile is not marked).
#[instrument(skip_all, fields(unit = id))]
pub async fn mark_faulty(db: &Db, actor: &Actor, id: i64, input: &ConditionInput) -> AppResult<()> {
    let why = reason(input, false)?;
    let mut tx = db.begin().await?;
    let (serial, status, location, _) = state(&mut tx, id).await?;
    if status != UnitStatus::InStock || !units::mark_faulty(&mut tx, id).await? {
        tx.rollback().await?;
        return Err(wrong_status(&serial, status, "condition.not_in_stock"));
    }
    let before = Change {
        status,
        location_id: location,
        reason: "",
    };
    let after = Change {
        status: UnitStatus::Faulty,
        location_id: location,
        reason: why,
    };
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "unit",
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Scraps a unit in stock or faulty: it leaves its location with a `scrap`
/// movement and is `scrapped` for good. A reason is required; any other
/// status is refused with 409 naming it.
#[instrument(skip_all, fields(unit = id))]
pub async fn scrap(db: &Db, actor: &Actor, id: i64, input: &ConditionInput) -> AppResult<()> {
    let why = reason(input, true)?;
    let mut tx = db.begin().await?;
    let (serial, status, location, part) = state(&mut tx, id).await?;
    let from = match (status, location) {
        (UnitStatus::InStock | UnitStatus::Faulty, Some(from)) => from,
        _ => {
            tx.rollback().await?;
            return Err(wrong_status(&serial, status, "condition.not_on_shelf"));
        }
    };
    if !units::scrap(&mut tx, id, status, from).await? {
        tx.rollback().await?;
        return Err(wrong_status(&serial, status, "condition.not_on_shelf"));
    }
    let m = Movement {
        part_model_id: part,
        unit_id: Some(id),
        from: Some(from),
        to: None,
        quantity: 1,
        reason: "scrap",
        receipt_line_id: None,
    };
    units::record_movement(&mut tx, actor, &m).await?;
    let before = Change {
        status,
        location_id: Some(from),
        reason: "",
    };
    let after = Change {
        status: UnitStatus::Scrapped,
        location_id: None,
        reason: why,
    };
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "unit",
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
