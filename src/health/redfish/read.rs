//! Lenient readers for Redfish JSON.
//!
//! Every field is read on its own from the document's `serde_json::Value`: a
//! field of the wrong type, a `null` or a missing one loses that field only,
//! never the document. Strings are trimmed and empty strings count as absent.

use serde_json::Value;

/// The property `name` of an object (a kept one, see [`KEPT`](super::kept::KEPT)).
pub fn field<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    v.get(name)
}

/// The array in property `name` (empty when absent or not an array).
pub fn array<'v>(v: &'v Value, name: &str) -> &'v [Value] {
    field(v, name)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The value at a JSON pointer, as [`Value::pointer`] finds it, without
/// its two `String`s per step (it unescapes `~1` and `~0` in each step even
/// when there are none): a poll reads a few hundred pointers, and
/// `Value::pointer` was 3% of the poller's thread (poll benchmark).
pub fn at<'v>(v: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() || pointer.contains('~') {
        return v.pointer(pointer);
    }
    pointer
        .strip_prefix('/')?
        .split('/')
        .try_fold(v, |v, step| match v {
            Value::Object(map) => map.get(step),
            Value::Array(items) => array_index(step).and_then(|i| items.get(i)),
            _ => None,
        })
}

/// An array index as a JSON pointer step gives it: digits, no leading zero.
fn array_index(step: &str) -> Option<usize> {
    let digits = !step.is_empty() && step.bytes().all(|b| b.is_ascii_digit());
    if !digits || (step.len() > 1 && step.starts_with('0')) {
        return None;
    }
    step.parse().ok()
}

/// A string at a JSON pointer, trimmed; `None` when absent, not a string, or empty.
pub fn text(v: &Value, pointer: &str) -> Option<String> {
    let s = at(v, pointer)?.as_str()?.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// A number at a JSON pointer (numbers given as strings are accepted too).
pub fn number(v: &Value, pointer: &str) -> Option<f64> {
    match at(v, pointer)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// A whole number at a JSON pointer.
pub fn integer(v: &Value, pointer: &str) -> Option<i64> {
    number(v, pointer).map(|n| n.round() as i64)
}

/// The `@odata.id` of a navigation property (`{"@odata.id": "..."}`).
pub fn link(v: &Value, property: &str) -> Option<String> {
    text(field(v, property)?, "/@odata.id")
}

/// The `@odata.id` of every member of a collection or link array.
pub fn links(v: &Value, property: &str) -> Vec<String> {
    array(v, property)
        .iter()
        .filter_map(|m| text(m, "/@odata.id"))
        .collect()
}

/// `Status.Health` and `Status.State` of a resource.
pub fn status(v: &Value) -> (Option<String>, Option<String>) {
    (text(v, "/Status/Health"), text(v, "/Status/State"))
}

/// Whether a resource is absent (`Status.State` = `Absent`); a missing state counts as present.
pub fn is_absent(v: &Value) -> bool {
    text(v, "/Status/State").is_some_and(|s| s.eq_ignore_ascii_case("absent"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_find_what_serde_json_finds() {
        let v = json!({
            "Status": { "Health": "OK" },
            "PowerControl": [{ "PowerConsumedWatts": 344 }, { "x": null }],
            "a/b": 1, "m~n": 2, "": { "": 3 }, "10": "ten",
            "Arr": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        });
        let pointers = [
            "",
            "/",
            "//",
            "/Status",
            "/Status/Health",
            "/Status/Health/x",
            "/Status/",
            "Status",
            "/PowerControl/0/PowerConsumedWatts",
            "/PowerControl/1/x",
            "/PowerControl/2",
            "/PowerControl/-1",
            "/PowerControl/+1",
            "/PowerControl/01",
            "/PowerControl/0x1",
            "/PowerControl/",
            "/a~1b",
            "/m~0n",
            "/a/b",
            "/10",
            "/Arr/11",
            "/Arr/011",
            "/Arr/",
            "/Arr/99999999999999999999999",
            "/Missing/Health",
        ];
        for p in pointers {
            assert_eq!(at(&v, p), v.pointer(p), "{p:?}");
        }
    }
    #[test]
    fn fields_are_read_one_by_one_and_a_bad_one_loses_only_itself() {
        let v = json!({"Model": "  EPYC  ", "TotalCores": "64", "SerialNumber": null,
                        "CapacityMiB": {"oops": 1}, "Status": {"State": "Absent"}, "Name": ""});
        assert_eq!(text(&v, "/Model").as_deref(), Some("EPYC"));
        assert_eq!(integer(&v, "/TotalCores"), Some(64));
        assert_eq!(text(&v, "/SerialNumber"), None);
        assert_eq!(integer(&v, "/CapacityMiB"), None);
        assert_eq!(text(&v, "/Name"), None);
        assert!(is_absent(&v));
        assert!(!is_absent(&json!({})), "no state counts as present");
        assert_eq!(link(&json!({"Thermal": {}}), "Thermal"), None);
    }
}
