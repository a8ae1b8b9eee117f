//! One import run over a file: read its rows (ahead, on the blocking pool),
//! plan each with the planner of its kind, count and
//! sample the outcome, then roll back (preview) or commit, and the packing
//! list's retry when the unique index refuses a serial.

use rackledger_importers::{ImportError, Kind, Profile, Row, sample};
use tracing::instrument;

use super::plan::{self, Action, RowPlan};
use super::{Mode, Progress, RowPlanOut, SAMPLE_ROWS, Summary, Target, ahead, packing};
use crate::audit::{self, Action as AuditAction, Actor};
use crate::db::Db;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::Currency;
use crate::procurement::receiving::{self, ReceiptInput};

/// Rows read ahead and looked up together before each is planned.
const PLAN_CHUNK: usize = 1000;

/// Reads `bytes` as a file of `kind` and previews or commits its rows.
///
/// A packing list's commit first trusts the unique index on (manufacturer,
/// serial) instead of looking every serial up: the preview just looked them
/// up, and in the usual case none is on record. If the index refuses one, or
/// any row is an error (a serial this order already received counts again
/// without its look-up), that attempt is rolled back whole and the rows are planned again with the
/// look-ups, which name each row whose serial is on record (or find it is
/// this order's own, when a file is imported again).
#[instrument(skip_all, fields(kind = kind.as_str(), file = file_name))]
#[allow(clippy::too_many_arguments)]
pub async fn run(
    db: &Db,
    actor: &Actor,
    base: Currency,
    lang: crate::i18n::Lang,
    kind: Kind,
    bytes: Vec<u8>,
    file_name: &str,
    profile: Option<&Profile>,
    target: &Target,
    already_imported: bool,
    mode: Mode,
    progress: Progress<'_>,
) -> AppResult<Summary> {
    let job = Job {
        db,
        actor,
        base,
        lang,
        kind,
        file_name,
        profile,
        target,
        already_imported,
        mode,
        progress,
    };
    let pass = |bytes, serials| run_pass(&job, bytes, serials);
    if kind == Kind::PackingList && matches!(mode, Mode::Commit { .. }) {
        if let Pass::Done(summary) = pass(bytes.clone(), SerialCheck::UniqueIndex).await? {
            return Ok(summary);
        }
        tracing::info!("a serial of the file is on record: planning the rows again with look-ups");
    }
    match pass(bytes, SerialCheck::LookUp).await? {
        Pass::Done(summary) => Ok(summary),
        Pass::SerialOnRecord => Err(AppError::Internal(anyhow::anyhow!(
            "the unique index refused a serial the look-ups did not find"
        ))),
    }
}

/// How a packing list's serials are checked against those on record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SerialCheck {
    /// Look every serial up: the row that names a known serial gets the error.
    LookUp,
    /// Look none up; the unique index refuses a known one at the insert.
    UniqueIndex,
}

/// How one pass over the rows ended.
#[allow(clippy::large_enum_variant)] // one per pass over a file: its size does not matter
enum Pass {
    Done(Summary),
    /// [`SerialCheck::UniqueIndex`] only: the index refused a serial, or a
    /// row could not be taken without looking its serial up; the pass wrote
    /// nothing.
    SerialOnRecord,
}

/// What [`run`] was asked to do, for each of its passes.
struct Job<'a> {
    db: &'a Db,
    actor: &'a Actor,
    base: Currency,
    lang: crate::i18n::Lang,
    kind: Kind,
    file_name: &'a str,
    profile: Option<&'a Profile>,
    target: &'a Target,
    already_imported: bool,
    mode: Mode,
    progress: Progress<'a>,
}

async fn run_pass(job: &Job<'_>, bytes: Vec<u8>, serials: SerialCheck) -> AppResult<Pass> {
    let write = matches!(job.mode, Mode::Commit { .. });
    // Every pass reads the file: nothing of a preview is kept in memory
    // (issue 24: a kept 3-million-row preview held 621 MB).
    let reader = rackledger_importers::open_bytes(bytes, job.file_name, job.kind, job.profile)
        .map_err(file_error)?;
    let (format, header_row, total) = (reader.format(), reader.header_row(), reader.total_rows());
    let mut summary = Summary {
        format: format!("{format:?}").to_lowercase(),
        header_row,
        mapping: reader
            .mapping()
            .iter()
            .map(|(f, h)| (f.as_str().to_owned(), h.clone()))
            .collect(),
        ..Summary::default()
    };
    // The file's rows are typed on the blocking pool, ahead of the planning.
    let mut ahead = ahead::ReadAhead::start(reader, PLAN_CHUNK);
    let mut tx = if write {
        job.db.begin().await?
    } else {
        job.db.begin_read().await?
    };
    let mut planner = planner(&mut tx, job.kind, job.target, job.already_imported, serials).await?;
    let (mut errors_kept, mut others_kept) = (Vec::new(), Vec::new());
    loop {
        let chunk = ahead.next_chunk().await;
        if chunk.is_empty() {
            break;
        }
        let chunk = chunk.as_slice();
        planner.prefetch(&mut tx, chunk).await?;
        for parsed in chunk {
            let plan = match &parsed.result {
                Err(e) => RowPlan::error(
                    parsed.row,
                    String::new(),
                    e.column.as_deref(),
                    Msg::new("import.reader_error").arg("detail", sample(&e.detail)),
                ),
                Ok(row) => {
                    planner
                        .plan(&mut tx, parsed.row, row, write, job.actor)
                        .await?
                }
            };
            summary.rows += 1;
            match plan.action {
                Action::Create => summary.create += 1,
                Action::Update => summary.update += 1,
                Action::Unchanged => summary.unchanged += 1,
                Action::Error => summary.errors += 1,
            }
            // Planner errors name a field; show the file's own header for it.
            let column = plan.column.map(|c| {
                summary
                    .mapping
                    .iter()
                    .find(|(f, _)| *f == c)
                    .map_or(c, |(_, header)| header.clone())
            });
            let plan = RowPlan { column, ..plan };
            let kept = if plan.action == Action::Error {
                &mut errors_kept
            } else {
                &mut others_kept
            };
            if kept.len() < SAMPLE_ROWS {
                kept.push(RowPlanOut {
                    row: plan.row,
                    action: format!("{:?}", plan.action).to_lowercase(),
                    text: sample(&plan.text),
                    column: plan.column.map(|c| sample(&c)),
                    // Values quoted from the file are cut short (issue 24 Low).
                    reason: plan.reason.map(|m| sampled(m).render(job.lang)),
                });
            }
            if summary.rows.is_multiple_of(500) {
                (job.progress)(summary.rows, total);
            }
        }
    }
    // Before the commit: a reader that failed part-way fails the pass, and
    // the transaction (with any rows a price list or order wrote) rolls back.
    // So does a file that went over a cap part-way: it is refused whole.
    let reader = ahead.finish().await?;
    if let Some(limit) = reader.limit_exceeded() {
        tx.rollback().await?;
        return Err(file_error(ImportError::TooLarge(limit)));
    }
    summary.blank_rows = reader.blank_rows();
    summary.summary_rows = reader.summary_rows();
    summary.summary_row_numbers = reader.summary_row_numbers().to_vec();
    summary.sample = errors_kept.into_iter().chain(others_kept).collect();
    (job.progress)(summary.rows, total.or(Some(summary.rows)));
    // The quick pass looked no serial up, so a serial this order already
    // received counts again (and may go over the ordered quantity) where the
    // preview called it unchanged. Any row it cannot take is decided again
    // with the look-ups, exactly as the preview decided it.
    if serials == SerialCheck::UniqueIndex && summary.errors > 0 {
        tx.rollback().await?;
        return Ok(Pass::SerialOnRecord);
    }
    let Mode::Commit { skip_errors } = job.mode else {
        // A preview only read; end its snapshot now rather than when the pool reuses the connection.
        tx.rollback().await?;
        return Ok(Pass::Done(summary));
    };
    if summary.errors > 0 && !skip_errors {
        summary.refused = Some(
            Msg::new("import.refused_errors")
                .arg("errors", summary.errors)
                .render(job.lang),
        );
        tx.rollback().await?;
        return Ok(Pass::Done(summary));
    }
    if let Planner::Packing(p) = &mut planner {
        let mut lines: Vec<_> = p.receipt.drain().map(|(_, l)| l).collect();
        lines.sort_by_key(|l| l.po_line_id);
        if !lines.is_empty() {
            let input = ReceiptInput {
                location_id: job.target.location_id.unwrap_or(0),
                lines,
                confirm_over: job.target.allow_over,
                notes: format!("import {}", job.file_name),
            };
            let received = receiving::receive_with(
                &mut tx,
                job.actor,
                job.base,
                job.target.po_id.unwrap_or(0),
                &input,
                receiving::Serials::CheckedInThisTransaction,
            )
            .await;
            match received? {
                Ok(receipt_id) => summary.receipt_id = Some(receipt_id),
                Err(_) if serials == SerialCheck::UniqueIndex => {
                    tx.rollback().await?;
                    return Ok(Pass::SerialOnRecord);
                }
                Err(taken) => return Err(taken.into()),
            }
        }
    }
    let note = serde_json::json!({
        "kind": job.kind.as_str(), "file": job.file_name, "rows": summary.rows, "create": summary.create,
        "update": summary.update, "unchanged": summary.unchanged, "skipped_errors": summary.errors,
    });
    audit::record(
        &mut tx,
        job.actor,
        AuditAction::Create,
        "import",
        job.file_name,
        None,
        Some(&note),
    )
    .await?;
    tx.commit().await?;
    summary.committed = true;
    Ok(Pass::Done(summary))
}

/// `m` with every argument cut to [`rackledger_importers::SAMPLE_CHARS`].
fn sampled(m: Msg) -> Msg {
    Msg {
        args: m.args.into_iter().map(|(k, v)| (k, sample(&v))).collect(),
        ..m
    }
}

/// A file that cannot be used whole; a cap is named in the user's language.
fn file_error(e: ImportError) -> AppError {
    let mut f = FieldErrors::default();
    let msg = match e {
        ImportError::TooLarge(limit) => limit_msg(limit),
        e => Msg::new("import.file_error").arg("detail", sample(&e.to_string())),
    };
    f.add("file", msg);
    AppError::Validation(f)
}

/// The message for a file over a cap: `import.limit.<cap>` with the cap's value.
/// When the reader knows where the file went over (the row, and the column
/// of a cell too long), `home3.limit_at.<cap>` names them.
pub(crate) fn limit_msg(limit: rackledger_importers::LimitExceeded) -> Msg {
    let cap = limit.limit.as_str();
    let column = limit.column.map(rackledger_importers::column_name);
    let msg = match (limit.row, column) {
        (Some(row), Some(col)) if AT_CELL.contains(&cap) => {
            Msg::new(format!("home3.limit_at.{cap}"))
                .arg("row", row)
                .arg("column", col)
        }
        (Some(row), _) if AT_ROW.contains(&cap) => {
            Msg::new(format!("home3.limit_at.{cap}")).arg("row", row)
        }
        _ => Msg::new(format!("import.limit.{cap}")),
    };
    msg.arg("max", limit.shown())
}

/// Caps whose message names the cell (row and column) where they were met.
const AT_CELL: &[&str] = &["cell_chars", "columns"];
/// Caps whose message names the row where they were met.
const AT_ROW: &[&str] = &["rows", "row_bytes"];

#[allow(clippy::large_enum_variant)] // one planner per import: its size does not matter
enum Planner {
    Price(plan::PriceListPlanner),
    Order(plan::OrderPlanner),
    Packing(packing::PackingPlanner),
}

impl Planner {
    /// Looks up what a chunk of rows needs from the database in a few queries.
    async fn prefetch(
        &mut self,
        tx: &mut crate::db::Tx,
        chunk: &[rackledger_importers::Parsed],
    ) -> AppResult<()> {
        if let Planner::Packing(p) = self {
            let rows: Vec<&rackledger_importers::PackingListRow> = chunk
                .iter()
                .filter_map(|parsed| match &parsed.result {
                    Ok(Row::PackingList(r)) => Some(r),
                    _ => None,
                })
                .collect();
            p.prefetch(tx, &rows).await?;
        }
        Ok(())
    }

    async fn plan(
        &mut self,
        tx: &mut crate::db::Tx,
        row: usize,
        r: &Row,
        write: bool,
        actor: &Actor,
    ) -> AppResult<RowPlan> {
        match (self, r) {
            (Planner::Price(p), Row::PriceList(r)) => p.plan(tx, row, r, write, actor).await,
            (Planner::Order(p), Row::OrderLine(r)) => p.plan(tx, row, r, write, actor).await,
            (Planner::Packing(p), Row::PackingList(r)) => p.plan(tx, row, r).await,
            _ => Ok(RowPlan::error(
                row,
                String::new(),
                None,
                Msg::new("import.wrong_kind"),
            )),
        }
    }
}

fn need(field: &str, key: &'static str) -> AppError {
    let mut f = FieldErrors::default();
    f.add(field, Msg::new(key));
    AppError::Validation(f)
}

async fn planner(
    tx: &mut crate::db::Tx,
    kind: Kind,
    target: &Target,
    already_imported: bool,
    serials: SerialCheck,
) -> AppResult<Planner> {
    match kind {
        Kind::PriceList => {
            let supplier_id = target
                .supplier_id
                .ok_or_else(|| need("supplier_id", "import.needs_supplier"))?;
            let s = crate::procurement::repo::get_supplier(&mut *tx, supplier_id).await?;
            Ok(Planner::Price(plan::PriceListPlanner::new(
                Currency::parse(&s.currency).unwrap_or(Currency::USD),
            )))
        }
        Kind::OrderConfirmation => {
            let po = target
                .po_id
                .ok_or_else(|| need("po_id", "import.needs_order"))?;
            plan::OrderPlanner::new(tx, po)
                .await?
                .map(Planner::Order)
                .map_err(AppError::Conflict)
        }
        Kind::PackingList => {
            let po = target
                .po_id
                .ok_or_else(|| need("po_id", "import.needs_order"))?;
            target
                .location_id
                .ok_or_else(|| need("location_id", "form2.choose_location"))?;
            packing::PackingPlanner::new(tx, po, target.allow_over, already_imported, serials)
                .await?
                .map(Planner::Packing)
                .map_err(AppError::Conflict)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use rackledger_importers::{Limit, LimitExceeded};

    #[test]
    fn every_cap_has_a_message_naming_its_value_in_english_and_korean() {
        let all = [
            Limit::ZipEntryBytes,
            Limit::ZipTotalBytes,
            Limit::ZipEntries,
            Limit::SharedStrings,
            Limit::SharedStringsBytes,
            Limit::CellChars,
            Limit::RowBytes,
            Limit::Rows,
            Limit::Columns,
            Limit::Cells,
            Limit::TextBytes,
            Limit::FileBytes,
        ];
        for limit in all {
            let msg = limit_msg(LimitExceeded {
                limit,
                max: 12_345,
                row: None,
                column: None,
            });
            for lang in [Lang::En, Lang::Ko] {
                let text = msg.render(lang);
                assert!(!text.starts_with("import.limit"), "{limit:?} {lang:?}");
                assert!(!text.contains("{max}"), "{text}");
            }
            assert_ne!(msg.render(Lang::En), msg.render(Lang::Ko), "{limit:?}");
        }
    }

    #[test]
    fn a_reason_quoting_a_fifty_thousand_character_cell_is_cut_to_two_hundred() {
        let mpn = "Q".repeat(50_000);
        let text = sampled(Msg::new("import.unknown_mpn").arg("mpn", &mpn)).render(Lang::En);
        assert!(text.len() < 400, "{} bytes", text.len());
        assert!(text.contains(&format!("{}…", "Q".repeat(200))));
    }
}
