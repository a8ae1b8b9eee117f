//! A snapshot field in the reader's words: its label, and its value with ids
//! named (and linked), codes translated, money formatted, times in the
//! reader's zone.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::diff::FieldDiff;
use crate::audit::names::Ref;
use crate::money::{Currency, Money};
use crate::web::Ctx;

/// A value as shown: its text and, for a record that has a page, a link.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shown {
    /// The text; empty when the field had no value.
    pub text: String,
    /// The page of the record it names, if any.
    pub href: Option<String>,
}

impl Shown {
    fn text(text: impl Into<String>) -> Shown {
        Shown {
            text: text.into(),
            href: None,
        }
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// What record a field holding an id points to (`installed_unit` → a unit).
pub fn ref_of(field: &str) -> Option<Ref> {
    Some(match field {
        "unit_id"
        | "installed_unit"
        | "removed_unit"
        | "chosen_unit"
        | "replacement_unit_id"
        | "installed_unit_id"
        | "removed_unit_id" => Ref::Unit,
        "template_id" => Ref::Template,
        "part_model_id" => Ref::PartModel,
        "location_id" | "from_location_id" | "to_location_id" => Ref::Location,
        "site_id" => Ref::Site,
        "room_id" => Ref::Room,
        "row_id" => Ref::Row,
        "rack_id" => Ref::Rack,
        "supplier_id" | "preferred_supplier_id" => Ref::Supplier,
        "asset_id" => Ref::Asset,
        "po_id" => Ref::Order,
        "user_id" => Ref::User,
        _ => return None,
    })
}

/// What record the id of an audit row of `entity` names (`purchase_order` → an order).
pub fn ref_of_entity(entity: &str) -> Option<Ref> {
    Some(match entity {
        "unit" => Ref::Unit,
        "asset" | "placement" => Ref::Asset,
        "rack" => Ref::Rack,
        "purchase_order" => Ref::Order,
        "po_line" => Ref::OrderLine,
        "supplier" => Ref::Supplier,
        "part_model" => Ref::PartModel,
        "build_template" => Ref::Template,
        "stock_location" => Ref::Location,
        "user" => Ref::User,
        "work_order" => Ref::WorkOrder,
        "rma" => Ref::Rma,
        _ => return None,
    })
}

/// The page of a record, for the kinds that have one.
pub fn href(kind: Ref, id: i64) -> Option<String> {
    let base = match kind {
        Ref::Unit => "/inventory/units",
        Ref::Template => "/inventory/templates",
        Ref::PartModel => "/procurement/parts",
        Ref::Rack => "/datacenter/racks",
        Ref::Supplier => "/procurement/suppliers",
        Ref::Asset => "/inventory/assets",
        Ref::Order => "/procurement/orders",
        Ref::WorkOrder => "/workorders",
        Ref::OrderLine
        | Ref::Rma
        | Ref::Location
        | Ref::Site
        | Ref::Room
        | Ref::Row
        | Ref::User => return None,
    };
    Some(format!("{base}/{id}"))
}

/// The ids the diffs point to, to be named in one batch.
pub fn refs<'a>(diffs: impl Iterator<Item = &'a FieldDiff>) -> BTreeSet<(Ref, i64)> {
    diffs
        .filter_map(|d| Some((d, ref_of(d.field())?)))
        .flat_map(|(d, kind)| {
            [&d.old, &d.new]
                .into_iter()
                .filter_map(move |v| Some((kind, v.parse::<i64>().ok()?)))
        })
        .collect()
}

/// The catalogue section that words a coded field of `entity`
/// (`status` of a unit → `unit_status`), if it is one.
fn codes_of(entity: &str, field: &str) -> Option<&'static str> {
    Some(match (field, entity) {
        ("status", "unit") | ("removed_to", _) => "unit_status",
        ("status", "purchase_order") | ("order_status", _) => "po_status",
        ("status", "rma") => "rma_status",
        ("status", "asset") => "asset_status",
        ("status", "assembly_order") => "assembly_status",
        ("status", "work_order") => "wo_status",
        ("kind", "po_cost") => "cost_kind",
        ("kind", "asset") | ("asset_kind", _) => "asset_kind",
        ("kind", "work_order") => "wo_kind",
        ("kind", "stock_location") | ("kind", "location") => "location_kind",
        ("basis", _) => "basis",
        ("face", _) => "dc.face",
        ("depth", _) => "dc.depth_kind",
        ("numbering", _) => "dc",
        ("reason", "unit") => "movement_reason",
        ("category", _) => "category",
        ("status", _) => "status",
        _ => return None,
    })
}

/// The catalogue text for `prefix.key`, or `None` when the catalogue has none.
pub fn known(ctx: &Ctx, prefix: &str, key: &str) -> Option<String> {
    let full = format!("{prefix}.{key}");
    let text = ctx.t(&full);
    (text != full).then(|| text.to_owned())
}

/// The field's name in the reader's words where the catalogue knows it,
/// else the key made readable (`power_cycles` → `Power cycles`): never the
/// stored key.
pub fn label(ctx: &Ctx, d: &FieldDiff) -> String {
    let field = d.field();
    known(ctx, "history2.field", field)
        .or_else(|| known(ctx, "history_field", field))
        .unwrap_or_else(|| humanise(field))
}

/// `snake_case_id` → `Snake case`: a key or kind the catalogue lacks, readable.
pub fn humanise(key: &str) -> String {
    let words = key
        .strip_suffix("_id")
        .unwrap_or(key)
        .replace(['_', '-'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => key.to_owned(),
    }
}

/// The currency a snapshot names (`currency`, `cost_currency`), if any.
pub fn currency_of(json: Option<&str>) -> Option<Currency> {
    let v: Value = serde_json::from_str(json?).ok()?;
    ["currency", "cost_currency"]
        .iter()
        .find_map(|k| v.get(k).and_then(Value::as_str))
        .and_then(Currency::parse)
}

/// How the values of one audit row are shown.
pub struct Values<'a> {
    /// The reader.
    pub ctx: &'a Ctx,
    /// The audited kind (`unit`, `po_cost`).
    pub entity: &'a str,
    /// The currency of its amounts.
    pub currency: Currency,
    /// Names of the records ids point to.
    pub names: &'a HashMap<(Ref, i64), String>,
}

impl Values<'_> {
    /// A stored value in the reader's words: money formatted (or hidden),
    /// codes translated, ids named, times in the reader's zone.
    pub fn show(&self, d: &FieldDiff, raw: &str) -> Shown {
        if raw.is_empty() {
            return Shown::default();
        }
        let field = d.field();
        if let Some(kind) = ref_of(field)
            && let Ok(id) = raw.parse::<i64>()
        {
            return match self.names.get(&(kind, id)) {
                Some(name) => Shown {
                    text: name.clone(),
                    href: href(kind, id),
                },
                None => Shown::text(format!("#{id}")),
            };
        }
        if d.is_money() {
            if !self.ctx.can_money() {
                return Shown::text("—");
            }
            if field.ends_with("_minor")
                && let Ok(minor) = raw.parse::<i64>()
            {
                return Shown::text(Money::from_minor(minor, self.currency).to_string());
            }
            return Shown::text(raw);
        }
        if let Some(prefix) = codes_of(self.entity, field) {
            return Shown::text(known(self.ctx, prefix, raw).unwrap_or_else(|| raw.to_owned()));
        }
        Shown::text(match parse_time(raw) {
            Some(t) => self.ctx.datetime(&t),
            None => match raw {
                "true" => self.ctx.t("history.yes").to_owned(),
                "false" => self.ctx.t("history.no").to_owned(),
                _ => raw.to_owned(),
            },
        })
    }
}

/// A time in a snapshot: RFC 3339, or `time`'s own serde form
/// (`2026-11-27 7:43:05.0 +00:00:00`) for structs serialised without a
/// format, so neither is shown in UTC.
fn parse_time(raw: &str) -> Option<time::OffsetDateTime> {
    let own = time::macros::format_description!(
        "[year]-[month]-[day] [hour padding:none]:[minute]:[second].[subsecond] [offset_hour sign:mandatory]:[offset_minute]:[offset_second]"
    );
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .or_else(|_| time::OffsetDateTime::parse(raw, own))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_key_reads_as_words() {
        assert_eq!(humanise("power_cycles"), "Power cycles");
        assert_eq!(humanise("bmc_id"), "Bmc");
        assert_eq!(humanise("x"), "X");
    }

    #[test]
    fn times_read_in_either_stored_form_and_other_text_is_no_time() {
        let t = time::macros::datetime!(2026-11-27 7:43:05 UTC);
        let own = serde_json::to_value(t).expect("serialises");
        assert_eq!(parse_time(own.as_str().expect("a string")), Some(t));
        assert_eq!(parse_time("2026-11-27T07:43:05Z"), Some(t));
        assert_eq!(parse_time("2026-11-27"), None);
        assert_eq!(parse_time("DIMM A2"), None);
    }

    #[test]
    fn ids_are_collected_once_per_record_from_both_sides() {
        let d = |key: &str, old: &str, new: &str| FieldDiff {
            key: key.into(),
            old: old.into(),
            new: new.into(),
        };
        let diffs = [
            d("installed_unit", "", "25"),
            d("removed_unit", "25", "26"),
            d("template_id", "3", "not a number"),
            d("slot", "A1", "A2"),
        ];
        let got: Vec<_> = refs(diffs.iter()).into_iter().collect();
        assert_eq!(got, [(Ref::Unit, 25), (Ref::Unit, 26), (Ref::Template, 3)]);
    }
}
