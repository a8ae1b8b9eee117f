//! Where the QR code and the text lines go on a label of each size, and the
//! QR module matrix as one SVG path. Lengths are in tenths of a millimetre,
//! the unit of every label's `viewBox`.

use qrcode::{Color, EcLevel, QrCode};

use super::source::Label;
use crate::error::{AppError, AppResult};

/// A label size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// 62 × 29 mm, continuous 62 mm roll (Brother QL "DK-22205" cut at 29 mm, or DK-11209).
    Roll62x29,
    /// 62 × 100 mm, continuous 62 mm roll cut at 100 mm (DK-11202).
    Roll62x100,
    /// 70 × 37 mm, 24 to an A4 sheet (3 × 8).
    A4,
}

impl Format {
    /// Parses `62x29`, `62x100` or `a4`.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "62x29" => Some(Format::Roll62x29),
            "62x100" => Some(Format::Roll62x100),
            "a4" => Some(Format::A4),
            _ => None,
        }
    }

    /// The name used in URLs.
    pub fn code(self) -> &'static str {
        match self {
            Format::Roll62x29 => "62x29",
            Format::Roll62x100 => "62x100",
            Format::A4 => "a4",
        }
    }

    /// Width and height of one label, tenths of a millimetre.
    pub fn size(self) -> (i64, i64) {
        match self {
            Format::Roll62x29 => (620, 290),
            Format::Roll62x100 => (620, 1000),
            Format::A4 => (700, 370),
        }
    }
}

/// Modules of white around the code, inside the label margin (the margin
/// adds about two more).
const QUIET: i64 = 2;
/// Label margin, tenths of a millimetre.
const MARGIN: i64 = 15;

/// A QR code as drawn: its width in modules and one path of unit squares.
#[derive(Clone, Debug)]
pub struct QrModules {
    /// Modules per side, without a quiet zone.
    pub width: i64,
    /// SVG path data, one `M x,y h n v 1 h -n z` per horizontal run of dark modules.
    pub path: String,
}

/// Encodes `payload` (error correction M, about 15 % damage tolerated).
pub fn qr_modules(payload: &str) -> AppResult<QrModules> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("QR code for a label: {e}")))?;
    let width = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                let n = x - start;
                path.push_str(&format!("M{start},{y}h{n}v1h-{n}z"));
            } else {
                x += 1;
            }
        }
    }
    Ok(QrModules {
        width: i64::try_from(width).unwrap_or(0),
        path,
    })
}

/// One line of text on a label.
#[derive(Clone, Debug)]
pub struct TextLine {
    /// Left edge.
    pub x: i64,
    /// Baseline.
    pub y: i64,
    /// Font size.
    pub size: i64,
    /// Bold (the tag or serial).
    pub bold: bool,
    /// The text.
    pub text: String,
    /// Set when the text would overflow: squeeze it into this width.
    pub fit: Option<i64>,
}

/// A label ready for `templates/labels/_label.svg`.
#[derive(Clone, Debug)]
pub struct LabelView {
    /// Width, tenths of a millimetre.
    pub w: i64,
    /// Height, tenths of a millimetre.
    pub h: i64,
    /// Width for the `width` attribute (`62mm`).
    pub width_mm: String,
    /// Height for the `height` attribute (`29mm`).
    pub height_mm: String,
    /// SVG transform placing the module grid (module units) on the label.
    pub qr_transform: String,
    /// The QR code.
    pub qr: QrModules,
    /// The payload, for the `data-payload` attribute and screen readers.
    pub payload: String,
    /// Text lines, top to bottom.
    pub lines: Vec<TextLine>,
}

/// Rough width of `s` at font size `size` (CJK twice as wide as Latin).
fn text_width(s: &str, size: i64) -> i64 {
    let units: i64 = s
        .chars()
        .map(|c| if u32::from(c) >= 0x1100 { 10 } else { 6 })
        .sum();
    units * size / 10
}

fn mm(tenths: i64) -> String {
    if tenths % 10 == 0 {
        format!("{}mm", tenths / 10)
    } else {
        format!("{}.{}mm", tenths / 10, tenths % 10)
    }
}

/// Lays out `label` at `format`: QR code on the left (on top for the tall
/// 62 × 100 mm label), the tag or serial in bold, then the other lines.
pub fn layout(label: &Label, format: Format) -> AppResult<LabelView> {
    let (w, h) = format.size();
    let qr = qr_modules(&label.payload)?;
    let portrait = h > w;
    let side = if portrait {
        w - 2 * MARGIN
    } else {
        h - 2 * MARGIN
    };
    let (text_x, text_top, title_size, line_size) = if portrait {
        (MARGIN, MARGIN + side + 20, 60, 40)
    } else {
        (MARGIN + side + 15, MARGIN, 40, 28)
    };
    let text_w = w - text_x - MARGIN;
    let mut lines = Vec::new();
    let mut y = text_top;
    for (i, text) in std::iter::once(&label.title)
        .chain(label.lines.iter())
        .enumerate()
    {
        let size = if i == 0 { title_size } else { line_size };
        y += size;
        let text: String = text.chars().take(60).collect();
        let fit = (text_width(&text, size) > text_w).then_some(text_w);
        lines.push(TextLine {
            x: text_x,
            y,
            size,
            bold: i == 0,
            text,
            fit,
        });
        y += size / 4;
    }
    let total = qr.width + 2 * QUIET;
    // Layout only, never money: a float is fine for a drawing scale.
    let scale = side as f64 / total as f64;
    let offset = MARGIN as f64 + QUIET as f64 * scale;
    Ok(LabelView {
        w,
        h,
        width_mm: mm(w),
        height_mm: mm(h),
        qr_transform: format!("translate({offset:.3} {offset:.3}) scale({scale:.4})"),
        qr,
        payload: label.payload.clone(),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_draws_exactly_the_dark_modules() {
        let code = QrCode::with_error_correction_level(b"RL-1", EcLevel::M).expect("encodes");
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == Color::Dark)
            .count();
        let qr = qr_modules("RL-1").expect("encodes");
        let drawn: usize = qr
            .path
            .split('M')
            .filter(|s| !s.is_empty())
            .map(|run| {
                let h = run.split('h').nth(1).expect("h");
                h.split('v').next().expect("n").parse::<usize>().expect("n")
            })
            .sum();
        assert_eq!(drawn, dark);
        assert_eq!(qr.width, i64::try_from(code.width()).expect("small"));
    }

    #[test]
    fn every_format_keeps_the_code_and_text_on_the_label() {
        let label = Label {
            kind: "unit",
            id: 1,
            payload: "http://127.0.0.1:8080/inventory/units/1#S4EMNX0W123456".into(),
            title: "S4EMNX0W123456789".into(),
            lines: vec!["M321R4GA3BB6-CQKOL".into(), "Samsung".into()],
        };
        for f in [Format::Roll62x29, Format::Roll62x100, Format::A4] {
            let v = layout(&label, f).expect("lays out");
            for l in &v.lines {
                assert!(l.y <= v.h - MARGIN, "{f:?}: line at {} of {}", l.y, v.h);
                let width = l.fit.unwrap_or_else(|| text_width(&l.text, l.size));
                assert!(l.x + width <= v.w - MARGIN, "{f:?}: {}", l.text);
            }
        }
    }
}
