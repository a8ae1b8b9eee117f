//! Procurement reports: open orders, spend by supplier and month, stock valuation.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use time::Date;

use super::orders::compute_landed;
use super::orders_repo as repo;
use crate::db::{Db, DbDecimal};
use crate::error::AppResult;
use crate::export::{Cell, Table};
use crate::i18n::{self, Lang};
use crate::money::{Currency, Money};
use crate::on;

#[derive(sqlx::FromRow)]
struct OpenLine {
    number: String,
    supplier: String,
    currency: String,
    fx_rate: DbDecimal,
    expected_date: Option<Date>,
    mpn: String,
    quantity: i64,
    received: i64,
    unit_price: DbDecimal,
}

/// Lines of placed orders still waiting for goods, with what is still to come.
pub async fn open_orders(db: &Db, lang: Lang, base: Currency) -> AppResult<Table> {
    let rows: Vec<OpenLine> = on!(db, |p| {
        sqlx::query_as(
            "select o.number, s.name as supplier, o.currency, o.fx_rate, o.expected_date, m.mpn, l.quantity,
                    cast(coalesce((select sum(r.quantity) from receipt_lines r where r.po_line_id = l.id), 0) as bigint) as received,
                    l.unit_price
             from po_lines l join purchase_orders o on o.id = l.po_id join suppliers s on s.id = o.supplier_id
             join part_models m on m.id = l.part_model_id
             where o.status in ('ordered', 'partially_received')
             order by o.expected_date, o.number, l.line_no",
        )
        .fetch_all(p)
        .await
    })?;
    let t = |k: &str| i18n::t(lang, k).to_owned();
    let mut out = Table {
        name: t("reports.open_orders"),
        headers: vec![
            t("po.number"),
            t("po.supplier"),
            t("po.expected_date"),
            t("parts.mpn"),
            t("po.quantity"),
            t("po.received"),
            t("reports.outstanding"),
            t("suppliers.currency"),
            t("reports.outstanding_value"),
            format!("{} ({})", t("reports.outstanding_value"), base.code()),
        ],
        rows: Vec::new(),
    };
    for r in rows.into_iter().filter(|r| r.received < r.quantity) {
        let left = r.quantity - r.received;
        let value = r.unit_price.0 * Decimal::from(left);
        let in_base = Money::new(value * r.fx_rate.0, base)
            .to_minor()
            .unwrap_or(0);
        out.rows.push(vec![
            r.number.into(),
            r.supplier.into(),
            r.expected_date
                .map(|d| d.to_string())
                .unwrap_or_default()
                .into(),
            r.mpn.into(),
            r.quantity.into(),
            r.received.into(),
            left.into(),
            r.currency.into(),
            Cell::Decimal(value),
            Cell::Int(in_base),
        ]);
    }
    Ok(out)
}

/// Landed spend (goods plus extra costs, without import VAT) of placed
/// orders, by supplier and month of the order date, in the base currency.
pub async fn spend(db: &Db, lang: Lang, base: Currency) -> AppResult<Table> {
    let (pos, _) = repo::list_pos(db, None, None, 100_000, 0).await?;
    // Three queries in all, not two per order.
    let mut lines: HashMap<i64, Vec<repo::LineRow>> = HashMap::new();
    for l in repo::lines_of_placed_orders(db).await? {
        lines.entry(l.po_id).or_default().push(l.row);
    }
    let mut costs: HashMap<i64, Vec<repo::CostRow>> = HashMap::new();
    for c in repo::costs_of_placed_orders(db).await? {
        costs.entry(c.po_id).or_default().push(c.row);
    }
    let mut by: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for po in pos
        .iter()
        .filter(|p| !matches!(p.status.as_str(), "draft" | "cancelled"))
    {
        let lines = lines.remove(&po.id).unwrap_or_default();
        let costs = costs.remove(&po.id).unwrap_or_default();
        let landed = compute_landed(po, &lines, &costs, base)?;
        let day = po.order_date.unwrap_or(po.created_at.date());
        let month = format!("{}-{:02}", day.year(), u8::from(day.month()));
        let e = by.entry((po.supplier_name.clone(), month)).or_default();
        e.0 += landed.landed_base_minor;
        e.1 += 1;
    }
    let t = |k: &str| i18n::t(lang, k).to_owned();
    Ok(Table {
        name: t("reports.spend"),
        headers: vec![
            t("po.supplier"),
            t("reports.month"),
            t("reports.orders"),
            format!("{} ({})", t("reports.landed_spend"), base.code()),
        ],
        rows: by
            .into_iter()
            .map(|((s, m), (v, n))| vec![s.into(), m.into(), n.into(), Cell::Int(v)])
            .collect(),
    })
}

#[derive(sqlx::FromRow)]
struct Valuation {
    category: String,
    manufacturer: String,
    mpn: String,
    serial_tracked: bool,
    units: i64,
    value_minor: i64,
}

/// What stock is worth at landed cost: serial-tracked units in stock, and
/// counted parts at the average landed cost of what was received.
pub async fn stock_valuation(db: &Db, lang: Lang, base: Currency) -> AppResult<Table> {
    let rows: Vec<Valuation> = on!(db, |p| {
        sqlx::query_as(
            "select m.category, m.manufacturer, m.mpn, m.serial_tracked, cast(count(*) as bigint) as units,
                    cast(sum(u.landed_cost_minor) as bigint) as value_minor
             from units u join part_models m on m.id = u.part_model_id
             where u.status = 'in_stock'
             group by m.category, m.manufacturer, m.mpn, m.serial_tracked
             union all
             select m.category, m.manufacturer, m.mpn, m.serial_tracked, cast(sum(r.quantity) as bigint) as units,
                    cast(sum(r.landed_cost_minor) as bigint) as value_minor
             from receipt_lines r join po_lines l on l.id = r.po_line_id join part_models m on m.id = l.part_model_id
             where m.serial_tracked = $1
             group by m.category, m.manufacturer, m.mpn, m.serial_tracked
             order by 1, 2, 3",
        )
        .bind(false)
        .fetch_all(p)
        .await
    })?;
    let t = |k: &str| i18n::t(lang, k).to_owned();
    let mut table = Table {
        name: t("reports.stock_valuation"),
        headers: vec![
            t("parts.category"),
            t("parts.manufacturer"),
            t("parts.mpn"),
            t("parts.tracking"),
            t("reports.units"),
            format!("{} ({})", t("reports.value"), base.code()),
        ],
        rows: Vec::new(),
    };
    let mut total = 0i64;
    for r in rows {
        total += r.value_minor;
        let tracking = if r.serial_tracked {
            t("parts.by_serial")
        } else {
            t("parts.by_quantity")
        };
        table.rows.push(vec![
            i18n::t(lang, &format!("category.{}", r.category))
                .to_owned()
                .into(),
            r.manufacturer.into(),
            r.mpn.into(),
            tracking.into(),
            r.units.into(),
            Cell::Int(r.value_minor),
        ]);
    }
    table.rows.push(vec![
        t("reports.total").into(),
        "".into(),
        "".into(),
        "".into(),
        "".into(),
        Cell::Int(total),
    ]);
    Ok(table)
}

/// The report called `name` (`open-orders`, `spend`, `stock-valuation`).
pub async fn by_name(db: &Db, name: &str, lang: Lang, base: Currency) -> AppResult<Option<Table>> {
    Ok(match name {
        "open-orders" => Some(open_orders(db, lang, base).await?),
        "spend" => Some(spend(db, lang, base).await?),
        "stock-valuation" => Some(stock_valuation(db, lang, base).await?),
        _ => None,
    })
}

/// Report names, in menu order.
pub const NAMES: [&str; 3] = ["open-orders", "spend", "stock-valuation"];
