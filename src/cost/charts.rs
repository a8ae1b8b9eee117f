//! Cost breakdown charts as plain SVG geometry, drawn by the template
//! (`templates/cost/_chart.html`); no chart crate, no JavaScript.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::views::BreakdownView;
use crate::money::Money;

/// Width of the longest bar, pixels.
pub const BAR_WIDTH: i64 = 480;
/// Height of one bar row, pixels.
pub const ROW_HEIGHT: i64 = 26;

/// The components in drawing order: i18n key and fill colour.
pub const COMPONENTS: [(&str, &str); 5] = [
    ("cost.depreciation", "#4c6ef5"),
    ("cost.power", "#f59f00"),
    ("cost.rack", "#2f9e44"),
    ("cost.network", "#1098ad"),
    ("cost.labour", "#ae3ec9"),
];

/// One coloured piece of a bar.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Left edge, pixels.
    pub x: i64,
    /// Width, pixels.
    pub w: i64,
    /// Fill colour.
    pub fill: &'static str,
    /// Component i18n key.
    pub key: &'static str,
    /// Amount per day.
    pub value: Money,
}

/// One bar: a group's daily cost split by component.
#[derive(Clone, Debug)]
pub struct Bar {
    /// Group name.
    pub name: String,
    /// Top edge, pixels.
    pub y: i64,
    /// Total per day.
    pub total: Money,
    /// Its pieces.
    pub segments: Vec<Segment>,
}

/// A stacked bar chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Element id.
    pub id: &'static str,
    /// Title i18n key.
    pub title: &'static str,
    /// Height, pixels.
    pub height: i64,
    /// Bars.
    pub bars: Vec<Bar>,
}

fn px(v: Decimal, max: Decimal) -> i64 {
    if max <= Decimal::ZERO || v <= Decimal::ZERO {
        return 0;
    }
    (v * Decimal::from(BAR_WIDTH) / max)
        .round()
        .to_i64()
        .unwrap_or(0)
}

/// A chart of daily cost per group, longest bar scaled to [`BAR_WIDTH`].
pub fn stacked(id: &'static str, title: &'static str, rows: &[BreakdownView]) -> Chart {
    let max = rows.iter().map(|r| r.exact_total).max().unwrap_or_default();
    let bars = rows
        .iter()
        .zip(0i64..)
        .map(|(r, i)| {
            let parts = [&r.depreciation, &r.power, &r.rack, &r.network, &r.labour];
            let mut x = 0;
            let segments = parts
                .iter()
                .zip(COMPONENTS)
                .map(|(m, (key, fill))| {
                    let w = px(m.amount, max);
                    let s = Segment {
                        x,
                        w,
                        fill,
                        key,
                        value: **m,
                    };
                    x += w;
                    s
                })
                .collect();
            Bar {
                name: r.name.clone(),
                y: i * ROW_HEIGHT,
                total: r.total,
                segments,
            }
        })
        .collect();
    Chart {
        id,
        title,
        height: ROW_HEIGHT * i64::try_from(rows.len()).unwrap_or(0),
        bars,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::model::Breakdown;
    use crate::money::Currency;
    use rust_decimal::dec;

    #[test]
    fn the_longest_bar_fills_the_width_and_segments_follow_each_other() {
        let b = Breakdown {
            depreciation: dec!(300),
            power: dec!(100),
            ..Breakdown::default()
        };
        let half = Breakdown {
            depreciation: dec!(200),
            ..Breakdown::default()
        };
        let rows = [
            BreakdownView::new("a", 1, &b, Currency::KRW),
            BreakdownView::new("b", 1, &half, Currency::KRW),
        ];
        let c = stacked("x", "cost.by_template", &rows);
        assert_eq!(c.bars[0].segments[0].w, 360);
        assert_eq!(c.bars[0].segments[1].x, 360);
        assert_eq!(c.bars[0].segments[1].w, 120);
        assert_eq!(c.bars[1].segments[0].w, 240);
        assert_eq!(c.height, 2 * ROW_HEIGHT);
    }
}
