//! An audit's findings: finishing compares the scans with the records; each
//! discrepancy can then be fixed in the records or handed to a work order.

use serde::Serialize;
use tracing::instrument;

use super::{Known, Stocktake, expected, get, identify, open, scans};
use crate::audit::{self, Action, Actor};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, Msg};
use crate::inventory::units::{Movement, UnitStatus, record_movement};
use crate::workorders::{self, Origin, WorkOrderInput};
use crate::{exec, on};

/// One line of an audit's result.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Finding {
    /// Id.
    pub id: i64,
    /// ok, missing, unexpected or unknown.
    pub finding: String,
    /// The code scanned, or the record's tag or serial for a missing item.
    pub code: String,
    /// The asset it is.
    pub asset_id: Option<i64>,
    /// The unit it is.
    pub unit_id: Option<i64>,
    /// Where the records say it is (unexpected items): a place, or a unit
    /// status code when `recorded_msg` is set.
    pub recorded_place: String,
    /// The recorded place as a stored message (JSON `Msg`) when it is a
    /// unit status (see [`Finding::recorded`]).
    #[serde(skip)]
    pub recorded_msg: Option<String>,
    /// fixed or work_order, once acted on.
    pub resolution: Option<String>,
    /// The work order opened for it.
    pub work_order_id: Option<i64>,
}

impl Finding {
    /// Whether the records can be changed to match what was found: a unit
    /// found on the audited shelf that the records put elsewhere in stock.
    pub fn fixable(&self, take: &Stocktake) -> bool {
        self.resolution.is_none()
            && self.finding == "unexpected"
            && self.unit_id.is_some()
            && take.location_id.is_some()
    }

    /// Where the records say it is, in `lang`.
    pub fn recorded(&self, lang: &Lang) -> String {
        match self.recorded_msg.as_deref().and_then(Msg::from_json) {
            Some(m) => m.render(*lang),
            None => self.recorded_place.clone(),
        }
    }

    /// The finding with its recorded place in `lang` (for the API).
    pub fn localized(mut self, lang: Lang) -> Finding {
        self.recorded_place = self.recorded(&lang);
        self
    }

    /// Whether a work order could follow it up.
    pub fn needs_work(&self) -> bool {
        self.resolution.is_none() && matches!(self.finding.as_str(), "missing" | "unexpected")
    }
}

/// An audit's findings: problems first.
pub async fn findings(db: &Db, id: i64) -> AppResult<Vec<Finding>> {
    Ok(on!(db, |p| {
        sqlx::query_as(
        "select id, finding, code, asset_id, unit_id, recorded_place, recorded_msg, resolution, work_order_id
         from stocktake_findings where stocktake_id = $1
         order by case finding when 'missing' then 0 when 'unexpected' then 1 when 'unknown' then 2 else 3 end, id"
    )
    .bind(id)
    .fetch_all(p)
    .await
    })?)
}

/// finding, code, asset, unit, recorded place (text, and message when a status).
type FindingRow = (
    &'static str,
    String,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
);

/// Finishes an audit: compares the scans with the records and keeps the
/// findings. Returns (ok, missing, unexpected, unknown) counts.
#[instrument(skip_all, fields(stocktake = id))]
pub async fn finish(db: &Db, actor: &Actor, id: i64) -> AppResult<[usize; 4]> {
    let take = get(db, id).await?;
    let expected = expected(db, &take).await?;
    let scanned = scans(db, id).await?;
    let mut rows: Vec<FindingRow> = Vec::new();
    for item in &expected {
        let found = scanned.iter().any(|c| item.matches(c));
        let finding = if found { "ok" } else { "missing" };
        rows.push((
            finding,
            item.label.clone(),
            item.asset_id,
            item.unit_id,
            String::new(),
            None,
        ));
    }
    for code in scanned.iter().rev() {
        if expected.iter().any(|e| e.matches(code)) {
            continue;
        }
        match identify(db, code).await? {
            Some(Known::Asset { id, place }) => {
                rows.push(("unexpected", code.clone(), Some(id), None, place, None))
            }
            Some(Known::Unit { id, place, status }) => {
                let msg = status.then(|| {
                    Msg::new("stocktake.recorded_status")
                        .arg_code("status", "unit_status", &place)
                        .to_json()
                });
                rows.push(("unexpected", code.clone(), None, Some(id), place, msg))
            }
            None => rows.push(("unknown", code.clone(), None, None, String::new(), None)),
        }
    }
    let mut tx = db.begin().await?;
    open(&mut tx, id).await?;
    let now = crate::clock::now();
    for (finding, code, asset, unit, place, msg) in &rows {
        exec!(&mut tx, |c| {
            sqlx::query(
                "insert into stocktake_findings (stocktake_id, finding, code, asset_id, unit_id, recorded_place, created_at, updated_at, recorded_msg)
                 values ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
            )
            .bind(id)
            .bind(*finding)
            .bind(code)
            .bind(*asset)
            .bind(*unit)
            .bind(place)
            .bind(now)
            .bind(msg)
            .execute(c)
            .await
        })?;
    }
    exec!(&mut tx, |c| sqlx::query(
        "update stocktakes set status = 'finished', finished_at = $1, updated_at = $1 where id = $2"
    )
    .bind(now)
    .bind(id)
    .execute(c)
    .await)?;
    let count = |f: &str| rows.iter().filter(|r| r.0 == f).count();
    let counts = [
        count("ok"),
        count("missing"),
        count("unexpected"),
        count("unknown"),
    ];
    let after = serde_json::json!({"ok": counts[0], "missing": counts[1], "unexpected": counts[2], "unknown": counts[3]});
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "stocktake",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(counts)
}

async fn finding(tx: &mut Tx, id: i64, finding_id: i64) -> AppResult<Finding> {
    let f: Finding = on!(tx, |c| {
        sqlx::query_as(
        "select id, finding, code, asset_id, unit_id, recorded_place, recorded_msg, resolution, work_order_id
         from stocktake_findings where id = $1 and stocktake_id = $2"
    )
    .bind(finding_id)
    .bind(id)
    .fetch_one(c)
    .await
    })?;
    if f.resolution.is_some() {
        return Err(AppError::Conflict(Msg::new("stocktake.resolved")));
    }
    Ok(f)
}

/// Makes the records agree with a location audit: a unit found on the
/// audited location moves there in the stock ledger.
pub async fn fix(db: &Db, actor: &Actor, id: i64, finding_id: i64) -> AppResult<()> {
    let take = get(db, id).await?;
    let mut tx = db.begin().await?;
    let f = finding(&mut tx, id, finding_id).await?;
    let (Some(unit), Some(location)) = (f.unit_id, take.location_id) else {
        return Err(AppError::Conflict(Msg::new("stocktake.not_fixable")));
    };
    if !f.fixable(&take) {
        return Err(AppError::Conflict(Msg::new("stocktake.not_fixable")));
    }
    let (part, from, status): (i64, Option<i64>, UnitStatus) = on!(&mut tx, |c| sqlx::query_as(
        "select part_model_id, location_id, status from units where id = $1"
    )
    .bind(unit)
    .fetch_one(c)
    .await)?;
    if !matches!(status, UnitStatus::InStock | UnitStatus::Faulty) {
        // An installed or returned unit needs someone to look, not a record change.
        return Err(AppError::Conflict(
            Msg::new("stocktake.not_in_stock").arg_code("status", "unit_status", status.as_str()),
        ));
    }
    crate::inventory::units::move_to(&mut tx, unit, location).await?;
    let m = Movement {
        part_model_id: part,
        unit_id: Some(unit),
        from,
        to: Some(location),
        quantity: 1,
        reason: "audit",
        receipt_line_id: None,
    };
    record_movement(&mut tx, actor, &m).await?;
    resolve(&mut tx, actor, id, finding_id, "fixed", None).await?;
    tx.commit().await?;
    Ok(())
}

async fn resolve(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    finding_id: i64,
    resolution: &str,
    work_order: Option<i64>,
) -> AppResult<()> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query(
        "update stocktake_findings set resolution = $1, work_order_id = $2, updated_at = $3 where id = $4"
    )
    .bind(resolution)
    .bind(work_order)
    .bind(now)
    .bind(finding_id)
    .execute(c)
    .await
    })?;
    let note = serde_json::json!({"finding": finding_id, "resolution": resolution, "work_order": work_order});
    audit::record(
        tx,
        actor,
        Action::Update,
        "stocktake",
        id,
        None,
        Some(&note),
    )
    .await?;
    Ok(())
}

/// Opens a work order to follow up a missing or unexpected item.
pub async fn open_work_order(
    db: &Db,
    actor: &Actor,
    id: i64,
    finding_id: i64,
    lang: Lang,
) -> AppResult<i64> {
    let take = get(db, id).await?;
    let f = {
        let mut tx = db.begin_read().await?;
        let f = finding(&mut tx, id, finding_id).await;
        tx.rollback().await?;
        f?
    };
    if !f.needs_work() {
        return Err(AppError::Conflict(Msg::new("stocktake.resolved")));
    }
    let asset_tag = match f.asset_id {
        Some(a) => crate::inventory::assets::get(db, a).await?.asset_tag,
        None => String::new(),
    };
    let key = format!("stocktake.wo_{}", f.finding);
    // Kept as messages, so each reader sees them in their own language.
    let title = Msg::new(key)
        .arg("code", &f.code)
        .arg("place", &take.target);
    let title = match f.recorded_msg {
        // The records put it nowhere but in a status: shown as the reader's word for it.
        Some(_) => title.arg_code("recorded", "unit_status", &f.recorded_place),
        None => title.arg("recorded", &f.recorded_place),
    };
    let notes = Msg::new("stocktake.wo_notes").arg("id", id);
    let input = WorkOrderInput {
        kind: "other".into(),
        title: title.render(lang),
        asset_tag,
        notes: notes.render(lang),
        title_msg: Some(title),
        notes_msg: vec![notes],
        ..WorkOrderInput::default()
    };
    let origin = Origin {
        source: "audit",
        dedup_key: Some(format!("stocktake/{id}/{finding_id}")),
    };
    let wo = workorders::create(db, actor, &input, &origin, lang).await?;
    let mut tx = db.begin().await?;
    finding(&mut tx, id, finding_id).await?;
    resolve(&mut tx, actor, id, finding_id, "work_order", Some(wo)).await?;
    tx.commit().await?;
    Ok(wo)
}
