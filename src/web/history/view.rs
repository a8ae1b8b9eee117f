//! View models of the history tab and the readings charts.

use std::collections::HashMap;

use serde_json::Value;

use super::chart::{self, LineChart, Range};
use super::diff::{self, FieldDiff};
use crate::audit::AuditEntry;
use crate::error::AppResult;
use crate::health::history::{self, Reading};
use crate::i18n::Msg;
use crate::money::{Currency, Money};
use crate::web::{AppState, Ctx};

/// One changed field in the reader's words.
#[derive(Clone, Debug)]
pub struct Change {
    /// Field name.
    pub label: String,
    /// Value before, or empty.
    pub old: String,
    /// Value after, or empty.
    pub new: String,
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

/// The catalogue text for `prefix.key`, or `None` when the catalogue has none.
fn known(ctx: &Ctx, prefix: &str, key: &str) -> Option<String> {
    let full = format!("{prefix}.{key}");
    let text = ctx.t(&full);
    (text != full).then(|| text.to_owned())
}

/// The currency a snapshot names (`currency`, `cost_currency`), if any.
fn currency_of(json: Option<&str>) -> Option<Currency> {
    let v: Value = serde_json::from_str(json?).ok()?;
    ["currency", "cost_currency"]
        .iter()
        .find_map(|k| v.get(k).and_then(Value::as_str))
        .and_then(Currency::parse)
}

struct Values<'a> {
    ctx: &'a Ctx,
    entity: &'a str,
    currency: Currency,
    locations: &'a HashMap<String, String>,
}

impl Values<'_> {
    /// A stored value in the reader's words: money formatted (or hidden),
    /// statuses translated, locations named, times in the reader's zone.
    fn show(&self, d: &FieldDiff, raw: &str) -> String {
        if raw.is_empty() {
            return String::new();
        }
        if d.is_money() {
            if !self.ctx.can_money() {
                return "—".to_owned();
            }
            if d.field().ends_with("_minor")
                && let Ok(minor) = raw.parse::<i64>()
            {
                return Money::from_minor(minor, self.currency).to_string();
            }
            return raw.to_owned();
        }
        match d.field() {
            "status" => {
                let prefix = match self.entity {
                    "unit" => "unit_status",
                    "purchase_order" => "po_status",
                    "rma" => "rma_status",
                    _ => "status",
                };
                known(self.ctx, prefix, raw).unwrap_or_else(|| raw.to_owned())
            }
            "location_id" => self
                .locations
                .get(raw)
                .cloned()
                .unwrap_or_else(|| format!("#{raw}")),
            _ => match time::OffsetDateTime::parse(
                raw,
                &time::format_description::well_known::Rfc3339,
            ) {
                Ok(t) => self.ctx.datetime(&t),
                Err(_) => match raw {
                    "true" => self.ctx.t("history.yes").to_owned(),
                    "false" => self.ctx.t("history.no").to_owned(),
                    _ => raw.to_owned(),
                },
            },
        }
    }
}

/// The field's name in the reader's words where the catalogue knows it,
/// else the key with spaces.
fn label(ctx: &Ctx, d: &FieldDiff) -> String {
    known(ctx, "history_field", d.field()).unwrap_or_else(|| d.key.replace(['_', '.'], " "))
}

/// The audit rows as history entries for the reader of `ctx`.
pub async fn entries(state: &AppState, ctx: &Ctx, rows: &[AuditEntry]) -> AppResult<Vec<Entry>> {
    let locations: HashMap<String, String> = if rows.iter().any(|r| {
        [&r.before_json, &r.after_json]
            .iter()
            .any(|j| j.as_deref().is_some_and(|j| j.contains("location_id")))
    }) {
        crate::inventory::locations::list(&state.db)
            .await?
            .into_iter()
            .map(|l| (l.id.to_string(), l.path))
            .collect()
    } else {
        HashMap::new()
    };
    Ok(rows
        .iter()
        .map(|r| {
            let values = Values {
                ctx,
                entity: &r.entity,
                currency: currency_of(r.after_json.as_deref())
                    .or_else(|| currency_of(r.before_json.as_deref()))
                    .unwrap_or(state.config.base()),
                locations: &locations,
            };
            let changes = diff::diff(r.before_json.as_deref(), r.after_json.as_deref())
                .iter()
                .map(|d| Change {
                    label: label(ctx, d),
                    old: values.show(d, &d.old),
                    new: values.show(d, &d.new),
                })
                .collect();
            let kind = known(ctx, "history_entity", &r.entity).unwrap_or_else(|| r.entity.clone());
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
