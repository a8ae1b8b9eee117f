//! Line charts of an asset's readings as plain SVG geometry, drawn by
//! `templates/history/_charts.html`; no chart crate, no JavaScript. The
//! drawing is scaled by its viewBox, so it fits a 390 px phone.

use time::{Duration, OffsetDateTime};

use crate::health::history::Reading;

/// viewBox width.
pub const WIDTH: f64 = 360.0;
/// viewBox height.
pub const HEIGHT: f64 = 170.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

/// How far back the charts look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
}

impl Range {
    /// Every range, for the switch above the charts.
    pub const ALL: [Range; 3] = [Range::Day, Range::Week, Range::Month];

    /// Reads `day`, `week` or `month`; anything else is a day.
    pub fn parse(s: Option<&str>) -> Range {
        match s {
            Some("week") => Range::Week,
            Some("month") => Range::Month,
            _ => Range::Day,
        }
    }

    /// Its name in URLs and i18n keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Range::Day => "day",
            Range::Week => "week",
            Range::Month => "month",
        }
    }

    /// Its length.
    pub fn span(self) -> Duration {
        match self {
            Range::Day => Duration::days(1),
            Range::Week => Duration::days(7),
            Range::Month => Duration::days(30),
        }
    }

    /// Axis label format: hours within a day, dates beyond.
    fn tick_format(self) -> &'static str {
        match self {
            Range::Day => "%H:%M",
            _ => "%m-%d",
        }
    }
}

/// A label on an axis at `pos` (x for the time axis, y for the value axis).
#[derive(Clone, Debug)]
pub struct Tick {
    /// Position in viewBox units.
    pub pos: f64,
    /// Text shown.
    pub label: String,
}

/// One line: its i18n key, colour and `x,y` points.
#[derive(Clone, Debug)]
pub struct Series {
    /// i18n key of its name.
    pub key: &'static str,
    /// Stroke colour.
    pub color: &'static str,
    /// SVG `points` attribute.
    pub points: String,
    /// How many points.
    pub count: usize,
    /// The latest value with its unit, for the legend.
    pub last: String,
}

/// One chart: a value axis shared by its series over the time range.
#[derive(Clone, Debug)]
pub struct LineChart {
    /// Element id.
    pub id: &'static str,
    /// i18n key of its title.
    pub title: &'static str,
    /// Its lines.
    pub series: Vec<Series>,
    /// Time axis labels.
    pub x_ticks: Vec<Tick>,
    /// Value axis labels.
    pub y_ticks: Vec<Tick>,
}

impl LineChart {
    /// Left edge of the plot area.
    pub fn left(&self) -> f64 {
        LEFT
    }

    /// Right edge of the plot area.
    pub fn right(&self) -> f64 {
        WIDTH - RIGHT
    }

    /// Bottom edge of the plot area.
    pub fn bottom(&self) -> f64 {
        HEIGHT - BOTTOM
    }
}

type Pick = fn(&Reading) -> Option<f64>;

fn num(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A chart of `lines` (i18n key, colour, value of a reading) over the
/// `range` ending at `now`; readings outside it are left out. Times on the
/// axis are in the time zone `tz`. `None` when no reading has a value.
#[allow(
    clippy::too_many_arguments,
    reason = "a chart is its lines, data, range and zone"
)]
pub fn line_chart(
    id: &'static str,
    title: &'static str,
    unit: &str,
    lines: &[(&'static str, &'static str, Pick)],
    readings: &[Reading],
    range: Range,
    now: OffsetDateTime,
    tz: &str,
) -> Option<LineChart> {
    let from = now - range.span();
    let inside: Vec<&Reading> = readings
        .iter()
        .filter(|r| r.at >= from && r.at <= now)
        .collect();
    let values: Vec<f64> = inside
        .iter()
        .flat_map(|r| lines.iter().filter_map(move |(_, _, pick)| pick(r)))
        .filter(|v| v.is_finite())
        .collect();
    let lo = values.iter().copied().reduce(f64::min)?;
    let hi = values.iter().copied().reduce(f64::max)?;
    let (lo, hi) = if hi - lo < 1.0 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let span = range.span().as_seconds_f64();
    let x = |t: OffsetDateTime| LEFT + (t - from).as_seconds_f64() / span * plot_w;
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * plot_h;
    let series = lines
        .iter()
        .map(|(key, color, pick)| {
            let pts: Vec<(f64, f64)> = inside
                .iter()
                .filter_map(|r| pick(r).filter(|v| v.is_finite()).map(|v| (r.at, v)))
                .map(|(t, v)| (x(t), y(v)))
                .collect();
            let last = inside
                .iter()
                .rev()
                .find_map(|r| pick(r))
                .map(|v| format!("{} {unit}", num(v)))
                .unwrap_or_default();
            Series {
                key,
                color,
                points: pts
                    .iter()
                    .map(|(x, y)| format!("{x:.1},{y:.1}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                count: pts.len(),
                last,
            }
        })
        .collect();
    let x_ticks = (0..=3)
        .map(|i| {
            let t = from + range.span() * (f64::from(i) / 3.0);
            Tick {
                pos: x(t),
                label: crate::web::local_time(&t, tz, range.tick_format()),
            }
        })
        .collect();
    let y_ticks = [hi, (hi + lo) / 2.0, lo]
        .into_iter()
        .map(|v| Tick {
            pos: y(v),
            label: format!("{} {unit}", num(v)),
        })
        .collect();
    Some(LineChart {
        id,
        title,
        series,
        x_ticks,
        y_ticks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn reading(at: OffsetDateTime, watts: i64) -> Reading {
        Reading {
            at,
            resolution: "raw".into(),
            samples: 1,
            power_watts: Some(watts),
            inlet_temp_c: None,
            max_temp_c: None,
            fan_avg_rpm: None,
            fan_min_rpm: None,
        }
    }

    fn watts(r: &Reading) -> Option<f64> {
        r.power_watts.map(|w| w as f64)
    }

    #[test]
    fn points_stay_inside_the_plot_and_old_readings_are_left_out() {
        let now = datetime!(2026-12-07 12:00 UTC);
        let rs = [
            reading(now - Duration::days(3), 999),
            reading(now - Duration::hours(20), 300),
            reading(now - Duration::hours(1), 500),
        ];
        let c = line_chart(
            "p",
            "t",
            "W",
            &[("w", "#000", watts)],
            &rs,
            Range::Day,
            now,
            "Asia/Seoul",
        )
        .expect("a chart");
        assert_eq!(c.series[0].count, 2);
        for p in c.series[0].points.split(' ') {
            let (x, y) = p.split_once(',').expect("x,y");
            let (x, y): (f64, f64) = (x.parse().expect("x"), y.parse().expect("y"));
            assert!((LEFT..=WIDTH - RIGHT).contains(&x), "{x}");
            assert!((TOP..=HEIGHT - BOTTOM).contains(&y), "{y}");
        }
        // 12:00 UTC is 21:00 in Seoul, and the axis ends there.
        assert_eq!(c.x_ticks[3].label, "21:00");
        assert_eq!(c.series[0].last, "500 W");
    }

    #[test]
    fn no_values_in_the_range_draws_no_chart() {
        let now = datetime!(2026-12-07 12:00 UTC);
        let rs = [reading(now - Duration::days(3), 999)];
        let c = line_chart(
            "p",
            "t",
            "W",
            &[("w", "#000", watts)],
            &rs,
            Range::Day,
            now,
            "UTC",
        );
        assert!(c.is_none());
        assert!(
            line_chart(
                "p",
                "t",
                "W",
                &[("w", "#000", watts)],
                &rs,
                Range::Week,
                now,
                "UTC"
            )
            .is_some()
        );
    }
}
