//! Planning a packing list's rows: each serial or quantity checked against
//! the order and the serials on record, and collected into one receipt.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use rackledger_importers::PackingListRow;

use super::plan::{Action, RowPlan};
use super::runner::SerialCheck;
use crate::db::Tx;
use crate::error::AppResult;
use crate::i18n::Msg;
use crate::procurement::orders_repo::{self as po_repo, LineRow, PoRow};
use crate::procurement::receiving::{self, ReceiveLine};

/// The order line a row's MPN names (the first, when several do).
fn line_for<'a>(lines: &'a [LineRow], mpn: &str) -> Option<&'a LineRow> {
    let mpn = mpn.trim();
    lines.iter().find(|l| l.mpn.eq_ignore_ascii_case(mpn))
}

/// How a packing list's serials are told apart: by manufacturer and serial.
fn serial_key(manufacturer: &str, serial: &str) -> String {
    // `manufacturer|serial`, the serial lowered as `units::serial_key` does
    // (serials match in any case), in one allocation.
    let mut key = [manufacturer, "|", serial].concat();
    key[manufacturer.len() + 1..].make_ascii_lowercase();
    key
}

/// Packing list: collects serials and quantities into one receipt.
pub(super) struct PackingPlanner {
    po: PoRow,
    lines: std::sync::Arc<[LineRow]>,
    planned: HashMap<i64, i64>,
    seen: HashMap<String, usize>,
    allow_over: bool,
    /// The same file was committed on this order before: counted rows are not received twice.
    already_imported: bool,
    /// What the receipt will hold, per order line.
    pub receipt: HashMap<i64, ReceiveLine>,
    unchanged_serials: HashSet<String>,
    /// The manufacturers whose serials in the current chunk were all looked
    /// up, and those of them on record (by `manufacturer|serial`).
    looked_up: Vec<String>,
    on_record: HashMap<String, crate::inventory::units::KnownSerial>,
    serials: SerialCheck,
}

impl PackingPlanner {
    pub(super) async fn new(
        tx: &mut Tx,
        po_id: i64,
        allow_over: bool,
        already_imported: bool,
        serials: SerialCheck,
    ) -> AppResult<Result<Self, Msg>> {
        let po = po_repo::get_po(&mut *tx, po_id).await?;
        if !matches!(
            po.status.as_str(),
            "ordered" | "partially_received" | "received"
        ) {
            return Ok(Err(Msg::new("receipt.not_open").arg_code(
                "status",
                "po_status",
                &po.status,
            )));
        }
        let lines = po_repo::lines(&mut *tx, po_id).await?;
        Ok(Ok(PackingPlanner {
            po,
            lines: lines.into(),
            planned: HashMap::new(),
            seen: HashMap::new(),
            allow_over,
            already_imported,
            receipt: HashMap::new(),
            unchanged_serials: HashSet::new(),
            looked_up: Vec::new(),
            on_record: HashMap::new(),
            serials,
        }))
    }

    /// Looks up the serials of a chunk of rows in a few queries, so planning
    /// each row needs none.
    pub(super) async fn prefetch(
        &mut self,
        tx: &mut Tx,
        rows: &[&PackingListRow],
    ) -> AppResult<()> {
        self.looked_up.clear();
        self.on_record.clear();
        if self.serials == SerialCheck::UniqueIndex {
            return Ok(());
        }
        // Every serial of the chunk, by the manufacturer of the line `plan` will give it.
        let lines = std::sync::Arc::clone(&self.lines);
        let mut by_maker: HashMap<&str, Vec<&str>> = HashMap::new();
        for r in rows {
            if let (Some(serial), Some(line)) = (r.serial.as_deref(), line_for(&lines, &r.mpn)) {
                // A serial `plan` refuses is not looked up (PostgreSQL refuses a NUL in text).
                if crate::inventory::units::Serial::parse(serial).is_err() {
                    continue;
                }
                by_maker
                    .entry(line.manufacturer.as_str())
                    .or_default()
                    .push(serial);
            }
        }
        for (maker, serials) in by_maker {
            let found = crate::inventory::units::find_serials(tx, maker, &serials).await?;
            for (serial, known) in found {
                self.on_record.insert(serial_key(maker, &serial), known);
            }
            self.looked_up.push(maker.to_owned());
        }
        Ok(())
    }

    pub(super) async fn plan(
        &mut self,
        tx: &mut Tx,
        row: usize,
        r: &PackingListRow,
    ) -> AppResult<RowPlan> {
        let text = match &r.serial {
            Some(s) => [r.mpn.as_str(), " S/N ", s].concat(),
            None => format!("{} × {}", r.mpn, r.quantity),
        };
        // The order's lines for this MPN (shared, not cloned: a large file
        // plans 100,000 rows).
        let lines = std::sync::Arc::clone(&self.lines);
        let mpn = r.mpn.trim();
        let candidates = || lines.iter().filter(|l| l.mpn.eq_ignore_ascii_case(mpn));
        let Some(first_line) = line_for(&lines, mpn) else {
            return Ok(RowPlan::error(
                row,
                text,
                Some("mpn"),
                Msg::new("import.not_on_order")
                    .arg("mpn", &r.mpn)
                    .arg("order", &self.po.number),
            ));
        };
        if let Some(serial) = r.serial.as_deref() {
            let line = first_line;
            if let Err(problem) = receiving::check_serial(line, serial, None) {
                return Ok(RowPlan::error(
                    row,
                    text,
                    Some("serial"),
                    problem.msg(line, serial),
                ));
            }
            let key = serial_key(&line.manufacturer, serial);
            if let Some(&first) = self.seen.get(&key) {
                return Ok(RowPlan::error(
                    row,
                    text,
                    Some("serial"),
                    Msg::new("import.duplicate_in_file").arg("row", first),
                ));
            }
            let known = if self.serials == SerialCheck::UniqueIndex {
                None
            } else if self.looked_up.contains(&line.manufacturer) {
                self.on_record.get(&key).cloned()
            } else {
                crate::inventory::units::find_serial(tx, &line.manufacturer, serial).await?
            };
            self.seen.insert(key, row);
            if let Some(known) = &known
                && known.po_number.as_deref() == Some(self.po.number.as_str())
            {
                // A row of this file imported before: the unit came on this order.
                self.unchanged_serials.insert(serial.to_owned());
                return Ok(RowPlan::ok(row, Action::Unchanged, text));
            }
            if let Err(problem) = receiving::check_serial(line, serial, known.as_ref()) {
                return Ok(RowPlan::error(
                    row,
                    text,
                    Some("serial"),
                    problem.msg(line, serial),
                ));
            }
            if let Err(plan) = self.take(row, &text, line, 1) {
                return Ok(plan);
            }
            self.receipt
                .entry(line.id)
                .or_insert_with(|| ReceiveLine {
                    po_line_id: line.id,
                    ..ReceiveLine::default()
                })
                .serials
                .push(serial.to_owned());
            Ok(RowPlan::ok(row, Action::Create, text))
        } else {
            let Some(line) = candidates().find(|l| !l.serial_tracked) else {
                return Ok(RowPlan::error(
                    row,
                    text,
                    Some("serial"),
                    Msg::new("import.serial_required").arg("mpn", &r.mpn),
                ));
            };
            if self.already_imported {
                return Ok(RowPlan::ok(row, Action::Unchanged, text));
            }
            if r.quantity <= 0 {
                return Ok(RowPlan::error(
                    row,
                    text,
                    Some("quantity"),
                    Msg::new("validation.quantity"),
                ));
            }
            if let Err(plan) = self.take(row, &text, line, r.quantity) {
                return Ok(plan);
            }
            self.receipt
                .entry(line.id)
                .or_insert_with(|| ReceiveLine {
                    po_line_id: line.id,
                    ..ReceiveLine::default()
                })
                .quantity += r.quantity;
            Ok(RowPlan::ok(row, Action::Create, text))
        }
    }

    /// Counts `n` more units against a line, refusing more than ordered unless allowed.
    fn take(&mut self, row: usize, text: &str, line: &LineRow, n: i64) -> Result<(), RowPlan> {
        let planned = self.planned.entry(line.id).or_insert(0);
        if line.received + *planned + n > line.quantity && !self.allow_over {
            return Err(RowPlan::error(
                row,
                text.to_owned(),
                Some("quantity"),
                Msg::new("import.over_ordered")
                    .arg("mpn", &line.mpn)
                    .arg("ordered", line.quantity)
                    .arg("received", line.received + *planned),
            ));
        }
        *planned += n;
        Ok(())
    }
}
