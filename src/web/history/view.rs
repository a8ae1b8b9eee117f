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
    /// What was changed, in the reader's words (`Order PO-2026-0005`,
    /// `Extra cost #4`), linked to its page when it has one.
    pub what: Shown,
    /// Its changed fields; money fields left out for readers without money.
    pub changes: Vec<Change>,
}

impl Entry {
    /// The changes as one line of text (`Status: Draft → Ordered; ...`), for downloads.
    pub fn changes_text(&self) -> String {
        let word = |v: &Shown| {
            if v.is_empty() {
                "—".to_owned()
            } else {
                v.text.clone()
            }
        };
        self.changes
            .iter()
            .map(|c| {
                if c.old.is_empty() {
                    // Set where nothing was (or an event that records only
                    // what it set): the value, not "— → value".
                    format!("{}: {}", c.label, word(&c.new))
                } else {
                    format!("{}: {} → {}", c.label, word(&c.old), word(&c.new))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The kind of record an audit row is about, in the reader's words.
pub fn kind_name(ctx: &Ctx, entity: &str) -> String {
    known(ctx, "history_entity", entity)
        .or_else(|| known(ctx, "history2.entity", entity))
        .or_else(|| known(ctx, "audit2.entity", entity))
        .unwrap_or_else(|| fields::humanise(entity))
}

/// Whether a snapshot has no warranty end: then "not under warranty" is
/// unknown rather than no.
fn no_warranty_end(json: Option<&str>) -> bool {
    json.and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
        .is_some_and(|v| v.get("warranty_end").is_none_or(serde_json::Value::is_null))
}

/// The audit rows as history entries for the reader of `ctx`; the records
/// they are about and their ids point to are named with one query per kind
/// for the page.
pub async fn entries(state: &AppState, ctx: &Ctx, rows: &[AuditEntry]) -> AppResult<Vec<Entry>> {
    let money = ctx.can_money();
    let diffs: Vec<Vec<FieldDiff>> = rows
        .iter()
        .map(|r| {
            let mut d = diff::without_named_twice(diff::diff(
                r.before_json.as_deref(),
                r.after_json.as_deref(),
            ));
            d.retain(|d| money || !d.is_money());
            d
        })
        .collect();
    let target = |r: &AuditEntry| {
        Some((
            fields::ref_of_entity(&r.entity)?,
            r.entity_id.parse::<i64>().ok()?,
        ))
    };
    let mut refs = fields::refs(diffs.iter().flatten());
    refs.extend(rows.iter().filter_map(target));
    let names = crate::audit::names::names(&state.db, &refs).await?;
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
            let show = |d: &FieldDiff, raw: &str, json: Option<&str>| {
                if d.field() == "under_warranty" && raw == "false" && no_warranty_end(json) {
                    return Shown {
                        text: ctx.t("audit2.warranty_unknown").to_owned(),
                        href: None,
                    };
                }
                values.show(d, raw)
            };
            let changes = diffs
                .iter()
                .map(|d| Change {
                    label: fields::label(ctx, d),
                    old: show(d, &d.old, r.before_json.as_deref()),
                    new: show(d, &d.new, r.after_json.as_deref()),
                })
                .collect();
            let kind = kind_name(ctx, &r.entity);
            let what = match target(r).and_then(|t| Some((t, names.get(&t)?))) {
                Some(((kind_ref, id), name)) => Shown {
                    text: format!("{kind} {name}"),
                    href: fields::href(kind_ref, id),
                },
                None => Shown {
                    text: format!("{kind} #{}", r.entity_id),
                    href: None,
                },
            };
            Entry {
                when: ctx.datetime(&r.created_at),
                actor: r.actor.clone(),
                action: r.action.clone(),
                what,
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
