//! Summary rows (`Total`, `합계`, `小计` …) at the foot of supplier sheets: not
//! data, so they are counted apart instead of being reported as bad rows.

use crate::formats::cell::{Cell, RawRow};
use crate::model::Field;
use crate::rows::Plan;

/// Labels a summary row starts with, lowercased (English, Korean, Chinese,
/// Japanese, German, French, Spanish).
const LABELS: &[&str] = &[
    "total",
    "totals",
    "total amount",
    "total qty",
    "total quantity",
    "grand total",
    "sub total",
    "sub-total",
    "subtotal",
    "sum",
    "summe",
    "gesamt",
    "zwischensumme",
    "total général",
    "total general",
    "합계",
    "합 계",
    "총계",
    "총 계",
    "총합계",
    "소계",
    "소 계",
    "총액",
    "합계금액",
    "합계 금액",
    "小计",
    "小計",
    "合计",
    "合計",
    "总计",
    "總計",
    "総計",
    "総合計",
    "共计",
];

/// True when `text` is a summary label: one of [`LABELS`] in any case, with
/// an optional colon, or followed by a bracketed note or a colon and more
/// (`Total (USD)`, `합계: 4`).
fn is_label(text: &str) -> bool {
    let lower = text.trim().to_lowercase();
    let lower = lower.trim_end_matches([':', '：', '.']).trim_end();
    LABELS.iter().any(|label| match lower.strip_prefix(label) {
        Some("") => true,
        Some(rest) => rest.trim_start().starts_with(['(', '（', '[', ':', '：']),
        None => false,
    })
}

/// True when `raw` is a summary row: its first non-blank text cell is a
/// summary label, and it names no serial and no part number other than that
/// label. A data row whose description merely holds "total" has a part
/// number, so it stays data.
pub(crate) fn is_summary_row(raw: &RawRow, plan: &Plan) -> bool {
    let Some((label_column, _)) = raw
        .cells
        .iter()
        .enumerate()
        .find_map(|(i, c)| match c {
            Cell::Text(t) if !t.trim().is_empty() => Some((i, t)),
            _ => None,
        })
        .filter(|(_, t)| is_label(t))
    else {
        return false;
    };
    let names = |field: Field| {
        plan.columns
            .iter()
            .find(|m| m.field == field)
            .is_some_and(|m| m.column != label_column && !raw.get(m.column).is_blank())
    };
    !names(Field::Mpn) && !names(Field::Serial)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_labels_are_recognised_in_every_language_and_case() {
        for label in [
            "Total",
            "TOTAL",
            "Grand total",
            "Subtotal:",
            "Sum",
            "합계",
            "소계",
            "小计",
            "総計",
            "合計",
            "Total (USD)",
            "합계: 4",
        ] {
            assert!(is_label(label), "{label}");
        }
        for data in [
            "Total memory 64GB",
            "Totalizer",
            "M321R4GA3BB6-CQK",
            "Summit",
            "",
        ] {
            assert!(!is_label(data), "{data}");
        }
    }
}
