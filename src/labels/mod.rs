//! Printable asset and unit labels: a QR code holding the page URL and the
//! tag or serial, beside readable text; one SVG per label for 62 mm label
//! printers, or an HTML sheet of many for A4 label paper (see
//! `docs/datacenter.md#labels`).

pub mod layout;
pub mod source;

pub use layout::{Format, LabelView, QrModules, TextLine, layout, qr_modules};
pub use source::{
    Label, MAX_LABELS, ReceiptRow, Selection, asset_label, batch, order_of_receipt, payload,
    receipts_of_order,
};
