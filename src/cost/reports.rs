//! Cost reports as `export::Table` (pages, CSV, XLSX): per-asset breakdown,
//! instance costs, tier margins, supplier scorecard; spend and stock
//! valuation come from the procurement reports.

use rust_decimal::{Decimal, RoundingStrategy};

use super::views::{BreakdownView, ReportView};
use crate::db::Db;
use crate::error::AppResult;
use crate::export::{Cell, Table};
use crate::i18n::{self, Lang};
use crate::money::{Currency, Money};
use crate::on;

/// Report names, in page order.
pub const NAMES: [&str; 7] = [
    "assets",
    "instances",
    "tiers",
    "spend",
    "stock-valuation",
    "scorecard-parts",
    "scorecard-suppliers",
];

/// A money cell rounded half away from zero to the currency's minor unit.
fn money(m: &Money) -> Cell {
    let r = m.amount.round_dp_with_strategy(
        m.currency.minor_units(),
        RoundingStrategy::MidpointAwayFromZero,
    );
    if m.currency.minor_units() == 0 {
        i64::try_from(r).map_or(Cell::Decimal(r), Cell::Int)
    } else {
        Cell::Decimal(r)
    }
}

fn opt_money(m: &Option<Money>) -> Cell {
    m.as_ref().map_or_else(|| Cell::Text("—".into()), money)
}

fn breakdown_table(
    name: String,
    first: String,
    rows: &[BreakdownView],
    lang: Lang,
    base: Currency,
) -> Table {
    let t = |k: &str| format!("{} ({})", i18n::t(lang, k), base.code());
    Table {
        name,
        headers: vec![
            first,
            t("cost.depreciation"),
            t("cost.power"),
            t("cost.rack"),
            t("cost.network"),
            t("cost.labour"),
            t("cost.per_day"),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.name.clone().into(),
                    money(&r.depreciation),
                    money(&r.power),
                    money(&r.rack),
                    money(&r.network),
                    money(&r.labour),
                    money(&r.total),
                ]
            })
            .collect(),
    }
}

/// Daily cost per asset by component.
pub fn assets(v: &ReportView, lang: Lang, base: Currency) -> Table {
    breakdown_table(
        i18n::t(lang, "cost.assets").to_owned(),
        i18n::t(lang, "assembly.asset_tag").to_owned(),
        &v.assets,
        lang,
        base,
    )
}

/// Cost per instance per day on each server model.
pub fn instances(v: &ReportView, lang: Lang, base: Currency) -> Table {
    let t = |k: &str| i18n::t(lang, k).to_owned();
    Table {
        name: t("cost.instance_costs"),
        headers: vec![
            t("cost.server_model"),
            t("cost.instance_type"),
            t("cost.servers"),
            t("cost.instances"),
            format!("{} ({})", t("cost.per_instance_day"), base.code()),
        ],
        rows: v
            .instances
            .iter()
            .map(|r| {
                vec![
                    r.template.clone().into(),
                    r.instance_type.clone().into(),
                    r.servers.into(),
                    r.instances.into(),
                    opt_money(&r.cost),
                ]
            })
            .collect(),
    }
}

/// Margin and break-even of each tier on each server model.
pub fn tiers(v: &ReportView, lang: Lang, base: Currency) -> Table {
    let t = |k: &str| i18n::t(lang, k).to_owned();
    let m = |k: &str| format!("{} ({})", i18n::t(lang, k), base.code());
    Table {
        name: t("cost.tier_margins"),
        headers: vec![
            t("cost.tier"),
            t("cost.server_model"),
            t("cost.instance_type"),
            m("cost.price_per_day"),
            m("cost.per_instance_day"),
            m("cost.margin"),
            t("cost.break_even"),
            m("cost.included_traffic_cost"),
        ],
        rows: v
            .tiers
            .iter()
            .map(|r| {
                vec![
                    r.tier.clone().into(),
                    r.template.clone().into(),
                    r.instance_type.clone().into(),
                    money(&r.price),
                    opt_money(&r.cost),
                    opt_money(&r.margin),
                    r.break_even.clone().into(),
                    money(&r.included_traffic),
                ]
            })
            .collect(),
    }
}

#[derive(sqlx::FromRow)]
struct ScoreRow {
    name: String,
    detail: String,
    units: i64,
    failed: i64,
    rma: i64,
}

// A unit failed if it is faulty or at RMA now, was ever removed as faulty,
// or was ever sent back.
const FAILED: &str = "case when u.status in ('faulty', 'at_rma')
    or exists (select 1 from installations i where i.unit_id = u.id and i.removal_reason = 'faulty')
    or exists (select 1 from rmas r where r.unit_id = u.id) then 1 else 0 end";
const RMA: &str =
    "case when exists (select 1 from rmas r where r.unit_id = u.id) then 1 else 0 end";

fn rate(n: i64, of: i64) -> Cell {
    if of == 0 {
        return Cell::Text("—".into());
    }
    let pct = Decimal::from(n) * Decimal::ONE_HUNDRED / Decimal::from(of);
    Cell::Decimal(pct.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero))
}

/// Failure and RMA rate per part model (`by_supplier` false) or per supplier,
/// over every serial-tracked unit ever received.
pub async fn scorecard(db: &Db, lang: Lang, by_supplier: bool) -> AppResult<Table> {
    let (cols, from, group) = if by_supplier {
        (
            "s.name as name, s.country as detail",
            "units u join po_lines l on l.id = u.po_line_id join purchase_orders o on o.id = l.po_id
             join suppliers s on s.id = o.supplier_id",
            "s.name, s.country",
        )
    } else {
        (
            "m.mpn as name, m.manufacturer as detail",
            "units u join part_models m on m.id = u.part_model_id",
            "m.mpn, m.manufacturer",
        )
    };
    let sql = format!(
        "select {cols}, cast(count(*) as bigint) as units, cast(sum({FAILED}) as bigint) as failed,
                cast(sum({RMA}) as bigint) as rma
         from {from} group by {group} order by 1, 2"
    );
    let rows: Vec<ScoreRow> = on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .fetch_all(p)
        .await)?;
    let t = |k: &str| i18n::t(lang, k).to_owned();
    let (name, first, second) = if by_supplier {
        (
            "cost.scorecard_suppliers",
            "po.supplier",
            "suppliers.country",
        )
    } else {
        ("cost.scorecard_parts", "parts.mpn", "parts.manufacturer")
    };
    Ok(Table {
        name: t(name),
        headers: vec![
            t(first),
            t(second),
            t("reports.units"),
            t("cost.failed"),
            t("cost.failure_rate"),
            t("cost.rmas"),
            t("cost.rma_rate"),
        ],
        rows: rows
            .into_iter()
            .map(|r| {
                vec![
                    r.name.into(),
                    r.detail.into(),
                    r.units.into(),
                    r.failed.into(),
                    rate(r.failed, r.units),
                    r.rma.into(),
                    rate(r.rma, r.units),
                ]
            })
            .collect(),
    })
}

/// The report called `name` (see [`NAMES`]).
pub async fn by_name(
    db: &Db,
    name: &str,
    v: &ReportView,
    lang: Lang,
    base: Currency,
) -> AppResult<Option<Table>> {
    use crate::procurement::reports as procurement;
    Ok(match name {
        "assets" => Some(assets(v, lang, base)),
        "instances" => Some(instances(v, lang, base)),
        "tiers" => Some(tiers(v, lang, base)),
        "spend" => Some(procurement::spend(db, lang, base).await?),
        "stock-valuation" => Some(procurement::stock_valuation(db, lang, base).await?),
        "scorecard-parts" => Some(scorecard(db, lang, false).await?),
        "scorecard-suppliers" => Some(scorecard(db, lang, true).await?),
        _ => None,
    })
}
