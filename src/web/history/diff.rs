//! Field-by-field differences between the before and after snapshots of an
//! audit row (JSON objects), for the history tab: pure, no I/O.

use std::collections::BTreeMap;

use serde_json::Value;

/// Keys that say nothing to a reader (row ids and bookkeeping times).
const SKIPPED: [&str; 3] = ["id", "created_at", "updated_at"];

/// Key fragments that mark a money field (amounts, prices, costs, rates).
const MONEY: [&str; 7] = [
    "_minor",
    "price",
    "cost",
    "amount",
    "fx_rate",
    "landed",
    "valuation",
];

/// One changed field: its key path (`rack`, `token.revoked`) and the values
/// before and after as plain text (empty when absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDiff {
    /// Key path in the snapshot, dot-separated.
    pub key: String,
    /// Value before, or empty.
    pub old: String,
    /// Value after, or empty.
    pub new: String,
}

impl FieldDiff {
    /// The last part of the key, which names the field (`revoked` of `token.revoked`).
    pub fn field(&self) -> &str {
        self.key.rsplit('.').next().unwrap_or(&self.key)
    }

    /// Whether the field holds money, to be hidden from roles without money.
    pub fn is_money(&self) -> bool {
        let f = self.field();
        MONEY.iter().any(|m| f.contains(m))
    }
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Null => {
            out.insert(prefix.to_owned(), String::new());
        }
        Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        Value::Array(items) => {
            let text = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            out.insert(prefix.to_owned(), text);
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

fn parse(json: Option<&str>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(v) = json.and_then(|j| serde_json::from_str::<Value>(j).ok()) {
        flatten("", &v, &mut out);
    }
    out
}

/// The fields that differ between two snapshots, in key order. A missing
/// snapshot counts as empty, so a creation lists every field set and a
/// deletion every field it had; ids and bookkeeping times are left out.
pub fn diff(before: Option<&str>, after: Option<&str>) -> Vec<FieldDiff> {
    let old = parse(before);
    let new = parse(after);
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let o = old.get(k).cloned().unwrap_or_default();
            let n = new.get(k).cloned().unwrap_or_default();
            let d = FieldDiff {
                key: k.clone(),
                old: o,
                new: n,
            };
            (d.old != d.new && !SKIPPED.contains(&d.field())).then_some(d)
        })
        .collect()
}

/// Leaves out a `<x>_name` field beside a changed `<x>_id` that names a
/// record (an RMA's `supplier_name` beside its `supplier_id`): the id is
/// shown by that name already, and both would read as the same label twice.
pub fn without_named_twice(diffs: Vec<FieldDiff>) -> Vec<FieldDiff> {
    let ids: std::collections::BTreeSet<String> = diffs
        .iter()
        .filter(|d| super::fields::ref_of(d.field()).is_some())
        .map(|d| d.key.clone())
        .collect();
    diffs
        .into_iter()
        .filter(|d| {
            d.key
                .strip_suffix("_name")
                .is_none_or(|stem| !ids.contains(&format!("{stem}_id")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_are_listed_without_ids_or_times() {
        let before = r#"{"id":3,"name":"A01","usable_u":42,"updated_at":"2026-01-01T00:00:00Z","monthly_cost_minor":1000}"#;
        let after = r#"{"id":3,"name":"A01","usable_u":40,"updated_at":"2026-02-01T00:00:00Z","monthly_cost_minor":2000}"#;
        let d = diff(Some(before), Some(after));
        let keys: Vec<_> = d.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["monthly_cost_minor", "usable_u"]);
        assert_eq!((d[1].old.as_str(), d[1].new.as_str()), ("42", "40"));
        assert!(d[0].is_money() && !d[1].is_money());
    }

    #[test]
    fn nested_objects_flatten_and_a_missing_side_is_empty() {
        let after = r#"{"token":{"name":"ci","revoked_at":null},"revoked":true,"tags":["a","b"]}"#;
        let d = diff(None, Some(after));
        let got: Vec<_> = d
            .iter()
            .map(|f| (f.key.as_str(), f.field(), f.new.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("revoked", "revoked", "true"),
                ("tags", "tags", "a, b"),
                ("token.name", "name", "ci"),
            ]
        );
    }

    #[test]
    fn a_name_beside_the_id_it_names_is_left_out() {
        let before = r#"{"supplier_id":1,"supplier_name":"Acme","site_name":"DC1"}"#;
        let after = r#"{"supplier_id":2,"supplier_name":"Zeta","site_name":"DC2"}"#;
        let d = without_named_twice(diff(Some(before), Some(after)));
        let keys: Vec<_> = d.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["site_name", "supplier_id"]);
    }

    #[test]
    fn unreadable_json_gives_no_fields_rather_than_an_error() {
        assert!(diff(Some("not json"), Some("{")).is_empty());
        assert!(diff(Some("[1]"), Some("[1]")).is_empty());
    }
}
