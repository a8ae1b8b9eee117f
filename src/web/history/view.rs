//! View models of the history tab and the readings charts.

use super::chart::{self, LineChart, Range};
use super::diff::{self, FieldDiff};
use super::fields::{self, Shown, Values, currency_of, known};
use crate::audit::AuditEntry;
use crate::error::AppResult;
use crate::health::history::{self, Reading};
use crate::i18n::Msg;
use crate::web::{AppState, Ctx};

/// One changed field in the reader's words.
#[derive(Clone, Debug)]
pub struct Change {
    /// Field name.
    pub label: String,
    /// Value before, or empty.
    pub old: Shown,
    /// Value after, or empty.
    pub new: Shown,
}

/// One audit row: who did what, when (in the reader's zone), and the fields it changed.
#[derive(Clone, Debug)]
pub struct Entry {
    /// When, in the reader's time zone.
    pub when: String,
    /// User or process name.
    pub actor: String,
    /// create, update or delete.
    pub action: String,
    /// What was changed, in the reader's words (`Rack`, `Order line #4`).
    pub what: String,
    /// Its changed fields.
    pub changes: Vec<Change>,
}

/// The audit rows as history entries for the reader of `ctx`; the records
/// their ids point to are named with one query per kind for the page.
pub async fn entries(state: &AppState, ctx: &Ctx, rows: &[AuditEntry]) -> AppResult<Vec<Entry>> {
    let diffs: Vec<Vec<FieldDiff>> = rows
        .iter()
        .map(|r| diff::diff(r.before_json.as_deref(), r.after_json.as_deref()))
        .collect();
    let names =
        crate::audit::names::names(&state.db, &fields::refs(diffs.iter().flatten())).await?;
    Ok(rows
        .iter()
        .zip(&diffs)
        .map(|(r, diffs)| {
            let values = Values {
                ctx,
                entity: &r.entity,
                currency: currency_of(r.after_json.as_deref())
                    .or_else(|| currency_of(r.before_json.as_deref()))
                    .unwrap_or(state.config.base()),
                names: &names,
            };
            let changes = diffs
                .iter()
                .map(|d| Change {
                    label: fields::label(ctx, d),
                    old: values.show(d, &d.old),
                    new: values.show(d, &d.new),
                })
                .collect();
            let kind = known(ctx, "history_entity", &r.entity)
                .or_else(|| known(ctx, "history2.entity", &r.entity))
                .unwrap_or_else(|| fields::humanise(&r.entity));
            Entry {
                when: ctx.datetime(&r.created_at),
                actor: r.actor.clone(),
                action: r.action.clone(),
                what: format!("{kind} #{}", r.entity_id),
                changes,
            }
        })
        .collect())
}

/// An asset's charts over a range, for its page and the readings page.
#[derive(Clone, Debug)]
pub struct Charts {
    /// The asset.
    pub asset_id: i64,
    /// The range shown.
    pub range: Range,
    /// Every range, for the switch.
    pub ranges: [Range; 3],
    /// The charts with something to draw; empty when there are no readings.
    pub charts: Vec<LineChart>,
    /// What to say when there are no readings.
    pub empty_message: String,
}

fn watts(r: &Reading) -> Option<f64> {
    r.power_watts.map(|w| w as f64)
}

fn inlet(r: &Reading) -> Option<f64> {
    r.inlet_temp_c
}

fn hottest(r: &Reading) -> Option<f64> {
    r.max_temp_c
}

fn fan_avg(r: &Reading) -> Option<f64> {
    r.fan_avg_rpm
}

fn fan_min(r: &Reading) -> Option<f64> {
    r.fan_min_rpm
}

/// The temperature, fan and power charts of an asset over `range`, ending now.
pub async fn asset_charts(
    state: &AppState,
    ctx: &Ctx,
    asset_id: i64,
    range: Range,
) -> AppResult<Charts> {
    let now = crate::clock::now();
    let rows = history::readings(&state.db, asset_id, now - range.span()).await?;
    let temps = chart::line_chart(
        "chart-temp",
        "history.temperatures",
        "°C",
        &[
            ("history.inlet", "#1971c2", inlet),
            ("history.hottest", "#e03131", hottest),
        ],
        &rows,
        range,
        now,
        &ctx.time_zone,
    );
    let power = chart::line_chart(
        "chart-power",
        "history.power",
        "W",
        &[("history.watts", "#f08c00", watts)],
        &rows,
        range,
        now,
        &ctx.time_zone,
    );
    let fans = chart::line_chart(
        "chart-fans",
        "history.fans",
        "RPM",
        &[
            ("history.fan_avg", "#2f9e44", fan_avg),
            ("history.fan_min", "#6741d9", fan_min),
        ],
        &rows,
        range,
        now,
        &ctx.time_zone,
    );
    Ok(Charts {
        asset_id,
        range,
        ranges: Range::ALL,
        charts: [temps, fans, power].into_iter().flatten().collect(),
        empty_message: ctx.msg(&Msg::new("history.no_readings").arg(
            "minutes",
            state.config.health.poll_interval_secs.div_ceil(60).max(1),
        )),
    })
}
