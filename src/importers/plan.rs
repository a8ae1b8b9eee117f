//! Deciding what each imported row would do, and doing it.
//!
//! The same decisions run for the preview (a read-only transaction, rolled
//! back) and for the commit (one write transaction): so the preview shows
//! exactly what the commit will write, and a commit writes all accepted rows
//! or nothing. Price lists and order confirmations are planned here, packing
//! lists in `packing.rs`.

use foldhash::{HashMap, HashMapExt};

use rackledger_importers::{OrderLineRow, PriceListRow};
use serde::Serialize;

use crate::audit::{self, Action as AuditAction, Actor};
use crate::db::{DbDecimal, Tx};
use crate::error::AppResult;
use crate::i18n::Msg;
use crate::money::Currency;
use crate::on;
use crate::procurement::model::Category;
use crate::procurement::orders_repo::{self as po_repo, LineRow, PoRow};

/// What one row does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Creates something new.
    Create,
    /// Changes something that exists.
    Update,
    /// Matches what is recorded already.
    Unchanged,
    /// Cannot be written; `reason` says why.
    Error,
}

/// The decision for one row.
#[derive(Clone, Debug, Serialize)]
pub struct RowPlan {
    /// Row number as the user sees it in the file.
    pub row: usize,
    /// What it does.
    pub action: Action,
    /// Short description (`M321R4GA3BB6-CQK 118.50 USD`).
    pub text: String,
    /// Offending column header, for errors.
    pub column: Option<String>,
    /// Why, for errors.
    pub reason: Option<Msg>,
}

impl RowPlan {
    pub(super) fn error(row: usize, text: String, column: Option<&str>, reason: Msg) -> RowPlan {
        RowPlan {
            row,
            action: Action::Error,
            text,
            column: column.map(str::to_owned),
            reason: Some(reason),
        }
    }
    pub(super) fn ok(row: usize, action: Action, text: String) -> RowPlan {
        RowPlan {
            row,
            action,
            text,
            column: None,
            reason: None,
        }
    }
}

#[derive(sqlx::FromRow)]
struct PartRow {
    id: i64,
    manufacturer: String,
    last_price: Option<DbDecimal>,
    last_price_currency: Option<String>,
}

async fn find_parts(tx: &mut Tx, manufacturer: Option<&str>, mpn: &str) -> AppResult<Vec<PartRow>> {
    Ok(on!(tx, |c| {
        sqlx::query_as(
            "select id, manufacturer, last_price, last_price_currency from part_models
             where lower(mpn) = lower($1) and (cast($2 as text) is null or lower(manufacturer) = lower($2))",
        )
        .bind(mpn)
        .bind(manufacturer)
        .fetch_all(c)
        .await
    })?)
}

/// Price list: creates part models and sets their last price.
pub(super) struct PriceListPlanner {
    /// Currency for rows that name none (the supplier's).
    pub default_currency: Currency,
    seen: HashMap<String, usize>,
}

impl PriceListPlanner {
    pub(super) fn new(default_currency: Currency) -> Self {
        PriceListPlanner {
            default_currency,
            seen: HashMap::new(),
        }
    }

    pub(super) async fn plan(
        &mut self,
        tx: &mut Tx,
        row: usize,
        r: &PriceListRow,
        write: bool,
        actor: &Actor,
    ) -> AppResult<RowPlan> {
        let currency = match r.currency.as_deref() {
            Some(c) => match Currency::parse(c) {
                Some(c) => c,
                None => {
                    return Ok(RowPlan::error(
                        row,
                        r.mpn.clone(),
                        Some("currency"),
                        Msg::new("import.bad_currency").arg("value", c),
                    ));
                }
            },
            None => self.default_currency,
        };
        let text = format!("{} {} {}", r.mpn, r.unit_price.normalize(), currency.code());
        let key = format!(
            "{}|{}",
            r.manufacturer.as_deref().unwrap_or("").to_lowercase(),
            r.mpn.to_lowercase()
        );
        if let Some(first) = self.seen.insert(key, row) {
            return Ok(RowPlan::error(
                row,
                text,
                Some("mpn"),
                Msg::new("import.duplicate_in_file").arg("row", first),
            ));
        }
        let found = find_parts(tx, r.manufacturer.as_deref(), &r.mpn).await?;
        match found.as_slice() {
            [] => {
                let Some(manufacturer) = r.manufacturer.as_deref().filter(|m| !m.trim().is_empty())
                else {
                    return Ok(RowPlan::error(
                        row,
                        text,
                        Some("manufacturer"),
                        Msg::new("import.new_part_needs_manufacturer"),
                    ));
                };
                let Some(category) = r.category.as_deref().and_then(Category::parse) else {
                    let given = r.category.clone().unwrap_or_default();
                    return Ok(RowPlan::error(
                        row,
                        text,
                        Some("category"),
                        Msg::new("import.new_part_needs_category").arg("value", given),
                    ));
                };
                if write {
                    let fields = crate::procurement::repo::PartFields {
                        manufacturer: manufacturer.trim(),
                        mpn: r.mpn.trim(),
                        category: &category.0,
                        description: r.description.as_deref().unwrap_or("").trim(),
                        serial_tracked: !matches!(
                            category.0.as_str(),
                            "cable" | "rail_kit" | "other"
                        ),
                        last_price: Some((r.unit_price.normalize(), currency.code())),
                        specs: &crate::procurement::model::Specs::default(),
                        end_of_life: None,
                    };
                    let id = crate::procurement::repo::insert_part_model(tx, &fields).await?;
                    let after = serde_json::json!({"mpn": r.mpn, "manufacturer": manufacturer, "category": category.0, "last_price": r.unit_price.to_string(), "currency": currency.code()});
                    audit::record(
                        tx,
                        actor,
                        AuditAction::Create,
                        "part_model",
                        id,
                        None,
                        Some(&after),
                    )
                    .await?;
                }
                Ok(RowPlan::ok(row, Action::Create, text))
            }
            [part] => {
                let same = part.last_price.map(|p| p.0) == Some(r.unit_price.normalize())
                    && part.last_price_currency.as_deref() == Some(currency.code());
                if same {
                    return Ok(RowPlan::ok(row, Action::Unchanged, text));
                }
                if write {
                    let now = crate::clock::now();
                    crate::procurement::repo::set_last_price(
                        tx,
                        part.id,
                        r.unit_price.normalize(),
                        currency.code(),
                        now,
                    )
                    .await?;
                    let before = serde_json::json!({"last_price": part.last_price.map(|p| p.0.to_string()), "currency": part.last_price_currency});
                    let after = serde_json::json!({"last_price": r.unit_price.normalize().to_string(), "currency": currency.code()});
                    audit::record(
                        tx,
                        actor,
                        AuditAction::Update,
                        "part_model",
                        part.id,
                        Some(&before),
                        Some(&after),
                    )
                    .await?;
                }
                Ok(RowPlan::ok(row, Action::Update, text))
            }
            many => {
                let makers: Vec<&str> = many.iter().map(|p| p.manufacturer.as_str()).collect();
                Ok(RowPlan::error(
                    row,
                    text,
                    Some("manufacturer"),
                    Msg::new("import.ambiguous_mpn").arg("makers", makers.join(", ")),
                ))
            }
        }
    }
}

/// Order confirmation: sets the lines of a draft order.
pub(super) struct OrderPlanner {
    po: PoRow,
    lines: Vec<LineRow>,
    seen: HashMap<i64, usize>,
}

impl OrderPlanner {
    pub(super) async fn new(tx: &mut Tx, po_id: i64) -> AppResult<Result<Self, Msg>> {
        let po = po_repo::get_po(&mut *tx, po_id).await?;
        if po.status != "draft" {
            return Ok(Err(Msg::new("po.lines_only_in_draft")));
        }
        let lines = po_repo::lines(&mut *tx, po_id).await?;
        Ok(Ok(OrderPlanner {
            po,
            lines,
            seen: HashMap::new(),
        }))
    }

    pub(super) async fn plan(
        &mut self,
        tx: &mut Tx,
        row: usize,
        r: &OrderLineRow,
        write: bool,
        actor: &Actor,
    ) -> AppResult<RowPlan> {
        let text = format!(
            "{} × {} @ {} {}",
            r.mpn,
            r.quantity,
            r.unit_price.normalize(),
            self.po.currency
        );
        if let Some(c) = r
            .currency
            .as_deref()
            .filter(|c| !c.eq_ignore_ascii_case(&self.po.currency))
        {
            return Ok(RowPlan::error(
                row,
                text,
                Some("currency"),
                Msg::new("import.currency_differs")
                    .arg("value", c)
                    .arg("order", &self.po.currency),
            ));
        }
        let parts = find_parts(tx, r.manufacturer.as_deref(), &r.mpn).await?;
        let [part] = parts.as_slice() else {
            let reason = if parts.is_empty() {
                Msg::new("import.unknown_mpn").arg("mpn", &r.mpn)
            } else {
                Msg::new("import.ambiguous_mpn").arg("makers", "")
            };
            return Ok(RowPlan::error(row, text, Some("mpn"), reason));
        };
        if let Some(first) = self.seen.insert(part.id, row) {
            return Ok(RowPlan::error(
                row,
                text,
                Some("mpn"),
                Msg::new("import.duplicate_in_file").arg("row", first),
            ));
        }
        let price = r.unit_price.normalize();
        match self.lines.iter().find(|l| l.part_model_id == part.id) {
            Some(l) if l.quantity == r.quantity && l.unit_price.0 == price => {
                Ok(RowPlan::ok(row, Action::Unchanged, text))
            }
            Some(l) => {
                if write {
                    let now = crate::clock::now();
                    po_repo::set_line_quantity_price(tx, l.id, r.quantity, price, now).await?;
                    let before = serde_json::json!({"quantity": l.quantity, "unit_price": l.unit_price.0.to_string()});
                    let after = serde_json::json!({"quantity": r.quantity, "unit_price": price.to_string()});
                    audit::record(
                        tx,
                        actor,
                        AuditAction::Update,
                        "po_line",
                        l.id,
                        Some(&before),
                        Some(&after),
                    )
                    .await?;
                }
                Ok(RowPlan::ok(row, Action::Update, text))
            }
            None => {
                if r.quantity <= 0 {
                    return Ok(RowPlan::error(
                        row,
                        text,
                        Some("quantity"),
                        Msg::new("validation.quantity"),
                    ));
                }
                if write {
                    let id = po_repo::insert_line(
                        tx,
                        self.po.id,
                        &po_repo::NewLine {
                            part_model_id: part.id,
                            quantity: r.quantity,
                            unit_price: price,
                            unit_weight_g: None,
                            warranty_months: None,
                        },
                    )
                    .await?;
                    let after = serde_json::json!({"po": self.po.number, "mpn": r.mpn, "quantity": r.quantity, "unit_price": price.to_string()});
                    audit::record(
                        tx,
                        actor,
                        AuditAction::Create,
                        "po_line",
                        id,
                        None,
                        Some(&after),
                    )
                    .await?;
                }
                Ok(RowPlan::ok(row, Action::Create, text))
            }
        }
    }
}
