//! What goes on a label: the QR payload and the readable lines of an asset or
//! a unit, one at a time or for a batch (a receipt, an order, an assembly).

use serde::Serialize;

use crate::db::{Db, DbError};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::inventory::assets;
use crate::on;

/// Most labels one request renders (a full A4 sheet is 24).
pub const MAX_LABELS: usize = 2000;

/// The content of one label.
#[derive(Clone, Debug, Serialize)]
pub struct Label {
    /// `asset` or `unit`.
    pub kind: &'static str,
    /// Asset or unit id.
    pub id: i64,
    /// What the QR code holds: `{public_url}/inventory/assets/{id}#{tag}`
    /// (units: `/inventory/units/{id}#{serial}`).
    pub payload: String,
    /// Asset tag, or the unit's serial: the first, bold line.
    pub title: String,
    /// Further lines: hostname, model, serial (assets); part model,
    /// manufacturer, order (units).
    pub lines: Vec<String>,
}

/// Percent-encodes what may not stand in a URL fragment as it is.
fn fragment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The QR payload: the page's absolute URL with the tag or serial as its
/// fragment, so a phone opens the page and a scanner can still read the tag.
/// `kind` is `assets` or `units`.
pub fn payload(base: &str, kind: &str, id: i64, tag: &str) -> String {
    format!("{base}/inventory/{kind}/{id}#{}", fragment(tag))
}

/// The label of one asset: tag, hostname, template, chassis serial.
pub async fn asset_label(db: &Db, base: &str, id: i64) -> AppResult<Label> {
    let a = assets::get(db, id).await?;
    // The serial it was registered with (imports), else its chassis's.
    let serial: Option<String> = on!(db, |p| {
        sqlx::query_scalar(
            "select coalesce(a.serial, (select u.serial from units u join part_models m on m.id = u.part_model_id
               where u.asset_id = a.id and u.status = 'installed' and m.category = 'chassis'
               order by u.id limit 1)) from assets a where a.id = $1",
        )
        .bind(id)
        .fetch_one(p)
        .await
    })?;
    let lines = [
        a.hostname,
        a.template_name,
        serial.map(|s| format!("S/N {s}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(Label {
        kind: "asset",
        id,
        payload: payload(base, "assets", id, &a.asset_tag),
        title: a.asset_tag,
        lines,
    })
}

#[derive(sqlx::FromRow)]
struct UnitText {
    id: i64,
    serial: String,
    manufacturer: String,
    mpn: String,
    po_number: Option<String>,
}

const UNIT_TEXT: &str = "select u.id, u.serial, u.manufacturer, m.mpn, o.number as po_number
    from units u join part_models m on m.id = u.part_model_id
    left join po_lines l on l.id = u.po_line_id left join purchase_orders o on o.id = l.po_id";

impl UnitText {
    fn label(self, base: &str) -> Label {
        Label {
            kind: "unit",
            id: self.id,
            payload: payload(base, "units", self.id, &self.serial),
            title: self.serial,
            lines: [Some(self.mpn), Some(self.manufacturer), self.po_number]
                .into_iter()
                .flatten()
                .collect(),
        }
    }
}

async fn unit_texts(db: &Db, filter: &str, id: i64) -> Result<Vec<UnitText>, DbError> {
    let sql = format!("{UNIT_TEXT} {filter}");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_all(p)
    .await)?)
}

/// What to print in one batch; everything named is printed, assets first.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Asset ids.
    pub assets: Vec<i64>,
    /// Unit ids.
    pub units: Vec<i64>,
    /// Every unit of this receipt (one delivery).
    pub receipt: Option<i64>,
    /// Every unit received on this purchase order.
    pub order: Option<i64>,
    /// The asset an assembly order built.
    pub assembly: Option<i64>,
    /// Which batch of [`MAX_LABELS`] units of the receipt or order, from 0
    /// (a big order prints as several sheets).
    pub batch: usize,
}

/// How many units the receipt or order of a selection holds (0 without one);
/// an unknown order is `NotFound`.
pub async fn batch_total(db: &Db, sel: &Selection) -> Result<i64, DbError> {
    let (sql, id) = match (sel.receipt, sel.order) {
        (Some(r), _) => (
            "select count(*) from units u join receipt_lines rl on rl.id = u.receipt_line_id
             where rl.receipt_id = $1",
            r,
        ),
        (None, Some(o)) => (
            "select count(*) from units u join po_lines l on l.id = u.po_line_id where l.po_id = $1",
            o,
        ),
        (None, None) => return Ok(0),
    };
    if let (None, Some(o)) = (sel.receipt, sel.order) {
        let known: Option<i64> = on!(db, |p| sqlx::query_scalar(
            "select id from purchase_orders where id = $1"
        )
        .bind(o)
        .fetch_optional(p)
        .await)?;
        known.ok_or(DbError::NotFound)?;
    }
    Ok(on!(db, |p| sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(p)
        .await)?)
}

/// The labels of a selection, in the order named; an unknown id is `NotFound`.
pub async fn batch(db: &Db, base: &str, sel: &Selection) -> AppResult<Vec<Label>> {
    if sel.assets.len() + sel.units.len() > MAX_LABELS {
        let mut f = FieldErrors::default();
        f.add("units", Msg::new("labels.too_many").arg("max", MAX_LABELS));
        return Err(AppError::Validation(f));
    }
    let mut asset_ids = sel.assets.clone();
    if let Some(order) = sel.assembly {
        let built: Option<i64> = on!(db, |p| sqlx::query_scalar(
            "select asset_id from assembly_orders where id = $1"
        )
        .bind(order)
        .fetch_one(p)
        .await)?;
        asset_ids.extend(built);
    }
    let mut out = Vec::new();
    for id in asset_ids {
        out.push(asset_label(db, base, id).await?);
    }
    for &id in &sel.units {
        let mut one = unit_texts(db, "where u.id = $1", id).await?;
        out.push(one.pop().ok_or(AppError::NotFound)?.label(base));
    }
    // One batch of the receipt's or order's units (both integers, so safe in SQL).
    let window = format!(
        " limit {MAX_LABELS} offset {}",
        sel.batch.saturating_mul(MAX_LABELS)
    );
    if let Some(r) = sel.receipt {
        let filter = format!(
            "join receipt_lines rl on rl.id = u.receipt_line_id where rl.receipt_id = $1
                      order by rl.id, u.position, u.id{window}"
        );
        out.extend(
            unit_texts(db, &filter, r)
                .await?
                .into_iter()
                .map(|u| u.label(base)),
        );
    }
    if let Some(o) = sel.order.filter(|_| sel.receipt.is_none()) {
        let filter = format!("where l.po_id = $1 order by l.line_no, u.position, u.id{window}");
        out.extend(
            unit_texts(db, &filter, o)
                .await?
                .into_iter()
                .map(|u| u.label(base)),
        );
    }
    if out.len() > MAX_LABELS {
        let mut f = FieldErrors::default();
        f.add("units", Msg::new("labels.too_many").arg("max", MAX_LABELS));
        return Err(AppError::Validation(f));
    }
    Ok(out)
}

/// One delivery on an order, for choosing a batch to print.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct ReceiptRow {
    /// Receipt id.
    pub id: i64,
    /// When it was received, UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// Serial-tracked units it brought.
    pub units: i64,
}

/// The receipts of an order with their unit counts, oldest first.
pub async fn receipts_of_order(db: &Db, po_id: i64) -> Result<Vec<ReceiptRow>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select r.id, r.created_at,
                    cast((select count(*) from units u join receipt_lines rl on rl.id = u.receipt_line_id
                          where rl.receipt_id = r.id) as bigint) as units
             from receipts r where r.po_id = $1 order by r.id",
        )
        .bind(po_id)
        .fetch_all(p)
        .await
    })?)
}

/// The purchase order a receipt belongs to.
pub async fn order_of_receipt(db: &Db, receipt_id: i64) -> Result<i64, DbError> {
    Ok(on!(db, |p| sqlx::query_scalar(
        "select po_id from receipts where id = $1"
    )
    .bind(receipt_id)
    .fetch_one(p)
    .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_with_spaces_or_hashes_stay_one_fragment() {
        assert_eq!(
            payload("https://rl.example", "assets", 12, "RL-000012"),
            "https://rl.example/inventory/assets/12#RL-000012"
        );
        assert_eq!(
            payload("http://h", "units", 3, "A B#7/é"),
            "http://h/inventory/units/3#A%20B%237/%C3%A9"
        );
    }
}
