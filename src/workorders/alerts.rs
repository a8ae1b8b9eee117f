//! Work orders opened by health alerts: one per failing slot while it is
//! open (a new failure of the same slot adds an entry to it), naming the
//! asset, its rack and U, the component, its slot and serial, and the
//! nearest spare of the same part model.

use std::collections::HashMap;

use super::entries::{NewEntry, add_to_active};
use super::{Origin, WorkOrderInput};
use crate::audit::Actor;
use crate::db::Db;
use crate::error::AppResult;
use crate::health::HealthConfig;
use crate::health::alerts::{self, Alert};
use crate::i18n::{Lang, Msg};
use crate::on;

/// Work orders opened per transaction at most (a poller meeting thousands
/// of alerts left from a restart still commits now and then).
const PER_TRANSACTION: usize = 100;

/// Opens a work order for every open alert that has none yet; returns the
/// ids of the work orders opened (or found: a retry after a crash finds the
/// same work order through its dedup key). The work orders of many alerts are
/// one transaction: a BMC's first poll in the poll benchmark raised an alert
/// on every machine, and two commits and a dozen round trips per alert were a
/// tenth of the poller's CPU. When a transaction fails, its alerts are tried
/// one by one, so one that cannot get a work order does not hold up the
/// others; the first error is returned once the others are done.
pub async fn open_for_alerts(db: &Db, lang: Lang) -> AppResult<Vec<i64>> {
    open_for_alerts_due(db, lang, &HealthConfig::default()).await
}

/// As [`open_for_alerts`], each work order due after the hours `cfg` sets
/// for its alert's severity.
pub async fn open_for_alerts_due(db: &Db, lang: Lang, cfg: &HealthConfig) -> AppResult<Vec<i64>> {
    let actor = Actor::system("health alert");
    let waiting = alerts::without_work_order(db).await?;
    let now = crate::clock::now();
    // A slot failing again while its work order is open joins that one.
    let open_slots = if waiting.is_empty() {
        HashMap::new()
    } else {
        active_by_slot(db).await?
    };
    let mut planned = Vec::new();
    let mut joined = Vec::new();
    for alert in waiting {
        let slot = (
            alert.asset_id,
            alert.component_kind.clone(),
            alert.slot.clone().unwrap_or_default(),
        );
        if let Some(wo) = open_slots.get(&slot) {
            joined.push((alert, *wo));
            continue;
        }
        let (mut input, origin) = plan(db, &alert, lang).await?;
        input.due_date = cfg.alert_due(&alert.severity, now).to_string();
        planned.push((alert.id, input, origin));
    }
    let mut opened = Vec::new();
    if !joined.is_empty() {
        opened.extend(join_open(db, &joined).await?);
    }
    let mut first_error = None;
    for chunk in planned.chunks(PER_TRANSACTION) {
        match open_all(db, &actor, chunk, lang).await {
            Ok(ids) => opened.extend(ids),
            Err(e) if chunk.len() > 1 => {
                tracing::warn!(error = %e, alerts = chunk.len(), "opening work orders for alerts together failed; opening them one by one");
                for one in chunk {
                    match open_all(db, &actor, std::slice::from_ref(one), lang).await {
                        Ok(ids) => opened.extend(ids),
                        Err(e) => {
                            tracing::warn!(error = %e, alert = one.0, "opening a work order for an alert failed");
                            first_error.get_or_insert(e);
                        }
                    }
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(opened),
    }
}

/// The active work orders opened for health alerts, by the asset, kind and
/// slot of their alerts.
async fn active_by_slot(db: &Db) -> AppResult<HashMap<(i64, String, String), i64>> {
    let rows: Vec<(i64, String, String, i64)> = on!(db, |p| {
        sqlx::query_as(
            "select h.asset_id, h.component_kind, coalesce(h.slot, ''), max(w.id)
             from health_alerts h join work_orders w on w.id = h.work_order_id
             where w.status in ('open', 'in_progress')
             group by h.asset_id, h.component_kind, coalesce(h.slot, '')",
        )
        .fetch_all(p)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(asset, kind, slot, wo)| ((asset, kind, slot), wo))
        .collect())
}

/// Links each alert to the open work order of its slot and tells that work
/// order the slot failed again, in one transaction; returns the work orders.
async fn join_open(db: &Db, joined: &[(Alert, i64)]) -> AppResult<Vec<i64>> {
    let mut tx = db.begin().await?;
    let links: Vec<(i64, i64)> = joined.iter().map(|(a, wo)| (a.id, *wo)).collect();
    alerts::set_work_orders(&mut tx, &links).await?;
    let told: Vec<NewEntry> = joined
        .iter()
        .map(|(a, wo)| NewEntry {
            work_order_id: *wo,
            kind: "failed_again",
            message: crate::health::alerts::about_component(
                "wo_entry.failed_again",
                &a.component_kind,
                a.slot.as_deref().unwrap_or(""),
            )
            .arg_code("severity", "wo_alert", &a.severity),
            alert_id: Some(a.id),
            at: a.opened_at,
        })
        .collect();
    add_to_active(&mut tx, &told).await?;
    tx.commit().await?;
    Ok(links.into_iter().map(|(_, wo)| wo).collect())
}

/// Opens the work orders of `alerts` (alert id, input, origin) and links
/// each alert to its own, in one transaction.
async fn open_all(
    db: &Db,
    actor: &Actor,
    alerts: &[(i64, WorkOrderInput, Origin)],
    lang: Lang,
) -> AppResult<Vec<i64>> {
    let mut tx = db.begin().await?;
    let items: Vec<(&WorkOrderInput, &Origin)> = alerts.iter().map(|(_, i, o)| (i, o)).collect();
    let ids = super::create_many(&mut tx, actor, &items, lang).await?;
    let links: Vec<(i64, i64)> = alerts
        .iter()
        .map(|(a, _, _)| *a)
        .zip(ids.iter().copied())
        .collect();
    alerts::set_work_orders(&mut tx, &links).await?;
    tx.commit().await?;
    Ok(ids)
}

/// The work order an alert calls for: what failed, where, and the nearest spare.
async fn plan(db: &Db, alert: &Alert, lang: Lang) -> AppResult<(WorkOrderInput, Origin)> {
    // Our own record of where the failing part sits, found by its serial.
    let our_slot: Option<String> = match alert.unit_id {
        Some(unit) => on!(db, |p| {
            sqlx::query_scalar(
            "select slot_name from units where id = $1 and asset_id = $2 and status = 'installed'"
        )
        .bind(unit)
        .bind(alert.asset_id)
        .fetch_optional(p)
        .await
        })?
        .flatten(),
        None => None,
    };
    // Stored as messages, so each reader sees them in their own language.
    let place = |m: Msg| match (&alert.rack_name, alert.u_position) {
        (Some(rack), Some(u)) => m.arg("place", format!("{rack} U{u}")),
        _ => m.arg_code("place", "dc", "not_placed"),
    };
    let slot = alert
        .slot
        .clone()
        .or_else(|| our_slot.clone())
        .unwrap_or_default();
    let serial = alert.serial.clone().unwrap_or_default();
    let title = alert_title(alert, &slot);
    let spare = match alert.part_model_id {
        Some(part) => super::spares_for(db, part, alert.rack_id, Some(alert.asset_id), 1)
            .await?
            .into_iter()
            .next(),
        None => None,
    };
    let spare_line = match &spare {
        Some(s) => Msg::new("wo_alert.spare")
            .arg("serial", &s.serial)
            .arg("location", &s.location),
        None => Msg::new("wo_alert.no_spare"),
    };
    let notes = vec![
        place(
            crate::health::alerts::about_component("wo_alert.notes", &alert.component_kind, &slot)
                .arg("serial", &serial)
                .arg("model", alert.model.as_deref().unwrap_or(""))
                .arg("tag", &alert.asset_tag),
        ),
        spare_line,
    ];
    let input = WorkOrderInput {
        kind: if our_slot.is_some() {
            "replace"
        } else {
            "other"
        }
        .into(),
        title: title.render(lang),
        notes: render_lines(&notes, lang),
        title_msg: Some(title),
        notes_msg: notes,
        asset_tag: alert.asset_tag.clone(),
        slot_name: our_slot.unwrap_or_default(),
        ..WorkOrderInput::default()
    };
    let origin = Origin {
        source: "alert",
        dedup_key: Some(format!("health-alert/{}", alert.id)),
    };
    Ok((input, origin))
}

/// "DIMM A5 failed on SRV-01 at A01 U12 (critical)": the component word is
/// left out when the slot already names it (in either language), so it is
/// not said twice; the place only when the asset is in a rack.
fn alert_title(alert: &Alert, slot: &str) -> Msg {
    let named = crate::health::alerts::slot_names_kind(&alert.component_kind, slot);
    let place = match (&alert.rack_name, alert.u_position) {
        (Some(rack), Some(u)) => Some(format!("{rack} U{u}")),
        _ => None,
    };
    let key = format!(
        "home3.alert_title{}{}",
        if named { "_slot" } else { "" },
        if place.is_some() { "_at" } else { "" }
    );
    let mut msg = Msg::new(key);
    if !named {
        msg = msg.arg_code("component", "health.kind", &alert.component_kind);
    }
    if let Some(p) = place {
        msg = msg.arg("place", p);
    }
    msg.arg("slot", slot).arg("tag", &alert.asset_tag).arg_code(
        "severity",
        "home3.severity",
        &alert.severity,
    )
}

/// Opens a work order to settle where the BMC and our records disagree on an
/// asset's parts (one while it is open; asking again finds it). Returns None
/// when they agree.
pub async fn open_for_reconciliation(
    db: &Db,
    actor: &Actor,
    asset_id: i64,
    lang: Lang,
) -> AppResult<Option<i64>> {
    let Some(diff) = crate::health::reconcile::for_asset(db, asset_id).await? else {
        return Ok(None);
    };
    if diff.is_clean() {
        return Ok(None);
    }
    let tag = crate::inventory::assets::get(db, asset_id).await?.asset_tag;
    let mut lines = Vec::new();
    for u in &diff.missing {
        lines.push(
            Msg::new("wo_reconcile.missing")
                .arg("slot", &u.slot_name)
                .arg("serial", &u.serial),
        );
    }
    for r in diff.moved.iter().chain(diff.unexpected.iter()) {
        let elsewhere = r
            .known
            .as_ref()
            .and_then(|k| k.asset_tag.clone())
            .unwrap_or_default();
        lines.push(
            Msg::new("wo_reconcile.reported")
                .arg("slot", &r.slot)
                .arg("serial", &r.serial)
                .arg("elsewhere", elsewhere),
        );
    }
    let title = Msg::new("wo_reconcile.title").arg("tag", &tag);
    let input = WorkOrderInput {
        kind: "other".into(),
        title: title.render(lang),
        notes: render_lines(&lines, lang),
        title_msg: Some(title),
        notes_msg: lines,
        asset_tag: tag,
        ..WorkOrderInput::default()
    };
    let origin = Origin {
        source: "alert",
        dedup_key: Some(format!("reconcile/{asset_id}")),
    };
    Ok(Some(super::create(db, actor, &input, &origin, lang).await?))
}

/// Messages rendered in `lang`, one a line.
fn render_lines(lines: &[Msg], lang: Lang) -> String {
    lines
        .iter()
        .map(|m| m.render(lang))
        .collect::<Vec<_>>()
        .join("\n")
}
