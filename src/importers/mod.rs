//! Supplier file imports, database side: preview every row, then commit the
//! accepted rows in one transaction or nothing. Reading the files is the
//! `rackledger-importers` crate's job (`importers/`).
//!
//! Here: what to import where, the outcome ([`Summary`]) and running a stored
//! batch. `runner.rs` makes one run over a file; `plan.rs` and `packing.rs`
//! decide each row.

mod ahead;
pub mod batches;
mod packing;
mod plan;
mod runner;

pub use batches::{Batch, NewBatch, ProfileRow};
pub use plan::{Action, RowPlan};
pub use runner::run;

use rackledger_importers::{Kind, Profile};
use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::Currency;

/// Where the rows of a file go.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Target {
    /// Supplier (price lists; also picks saved profiles).
    pub supplier_id: Option<i64>,
    /// Purchase order (order confirmations, packing lists).
    pub po_id: Option<i64>,
    /// Stock location for received goods (packing lists).
    pub location_id: Option<i64>,
    /// Accept more than ordered (packing lists).
    #[serde(default)]
    pub allow_over: bool,
}

/// Preview, or commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Decide every row; write nothing.
    Preview,
    /// Write the accepted rows; with `skip_errors` false, any bad row stops everything.
    Commit {
        /// Write the good rows even if some rows are bad.
        skip_errors: bool,
    },
}

/// At most this many rows of each kind are kept in a summary (all rows are counted).
pub const SAMPLE_ROWS: usize = 500;

/// The outcome of a preview or commit.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Detected format.
    pub format: String,
    /// Row number of the header row.
    pub header_row: usize,
    /// Field → header text that was recognised.
    pub mapping: Vec<(String, String)>,
    /// Blank rows skipped.
    pub blank_rows: usize,
    /// Summary rows (`Total`, `합계` …) skipped: not data, not errors.
    #[serde(default)]
    pub summary_rows: usize,
    /// Row numbers of the first summary rows skipped.
    #[serde(default)]
    pub summary_row_numbers: Vec<usize>,
    /// Data rows read.
    pub rows: usize,
    /// Rows that create something.
    pub create: usize,
    /// Rows that change something.
    pub update: usize,
    /// Rows that match what is recorded.
    pub unchanged: usize,
    /// Rows that cannot be written.
    pub errors: usize,
    /// Error rows first (up to [`SAMPLE_ROWS`]), then other rows (up to [`SAMPLE_ROWS`]).
    pub sample: Vec<RowPlanOut>,
    /// Whether the rows were written.
    pub committed: bool,
    /// The receipt a committed packing list recorded.
    #[serde(default)]
    pub receipt_id: Option<i64>,
    /// Why a commit wrote nothing.
    pub refused: Option<String>,
}

/// A row decision as stored in a summary (message already rendered).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RowPlanOut {
    /// Row number in the file.
    pub row: usize,
    /// create, update, unchanged or error.
    pub action: String,
    /// What the row is.
    pub text: String,
    /// Offending column.
    pub column: Option<String>,
    /// Why, in the language of the person who ran it.
    pub reason: Option<String>,
}

impl Summary {
    /// True when nothing would be written.
    pub fn nothing_to_do(&self) -> bool {
        self.create == 0 && self.update == 0
    }
}

/// Calls back with (rows done, rows total if known) every so often.
pub type Progress<'a> = &'a (dyn Fn(usize, Option<usize>) + Send + Sync);

/// Marks imports left running by a server that died as failed (see
/// [`batches::fail_interrupted`]); returns how many. Call it only where no
/// other process may be running imports on the same database.
pub async fn fail_interrupted(db: &Db, lang: crate::i18n::Lang) -> AppResult<u64> {
    let summary = Summary {
        refused: Some(Msg::new("import.interrupted").render(lang)),
        ..Summary::default()
    };
    let json = serde_json::to_string(&summary).map_err(|e| AppError::Internal(e.into()))?;
    Ok(batches::fail_interrupted(db, &json).await?)
}

/// How long a running import may go without writing its progress before
/// [`fail_stale`] takes its server for dead.
pub const STALE_AFTER: time::Duration = time::Duration::minutes(3);

/// Marks imports whose server stopped writing their progress over
/// [`STALE_AFTER`] ago as failed (see [`batches::fail_stale`]); returns how
/// many. Safe beside other servers: a live import writes every half second.
pub async fn fail_stale(db: &Db, lang: crate::i18n::Lang) -> AppResult<u64> {
    let summary = Summary {
        refused: Some(Msg::new("import.interrupted").render(lang)),
        ..Summary::default()
    };
    let json = serde_json::to_string(&summary).map_err(|e| AppError::Internal(e.into()))?;
    let before = crate::clock::now() - STALE_AFTER;
    Ok(batches::fail_stale(db, &json, before).await?)
}

/// Runs a stored batch to the end: preview or commit, keeping status and
/// progress in the database (so any process can show it) and calling
/// `progress` as rows go by (the CLI's progress bar).
pub async fn run_batch(
    db: &Db,
    base: Currency,
    id: i64,
    mode: Mode,
    lang: crate::i18n::Lang,
    actor: &Actor,
    progress: Progress<'_>,
) -> AppResult<Summary> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let batch = batches::get(db, id).await?;
    let running = if mode == Mode::Preview {
        "previewing"
    } else {
        "committing"
    };
    batches::set_state(db, id, running, 0, None).await?;
    let content = batches::content(db, id).await?;
    // The commit plans the very bytes that were previewed: every pass reads the
    // stored file again, and its hash must still be the one taken at upload.
    if crate::auth::sha256_b64(&content) != batch.content_sha256 {
        return Err(AppError::Internal(anyhow::anyhow!(
            "import batch {id}: the stored file no longer matches its SHA-256"
        )));
    }
    let kind = batch.kind.parse::<Kind>().map_err(|_| AppError::NotFound)?;
    let profile = match batch.profile_id {
        Some(pid) => Some(
            Profile::from_toml(&batches::profile(db, pid).await?.profile_toml).map_err(|e| {
                let mut f = FieldErrors::default();
                f.add("profile_id", Msg::new("import.file_error").arg("detail", e));
                AppError::Validation(f)
            })?,
        ),
        None => None,
    };
    let target = Target {
        supplier_id: batch.supplier_id,
        po_id: batch.po_id,
        location_id: batch.location_id,
        allow_over: batch.allow_over,
    };
    let already = batches::committed_before(db, &batch).await?.is_some();
    let done = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let (db, done, total) = (db.clone(), done.clone(), total.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
            loop {
                tick.tick().await;
                let t = total.load(Ordering::Relaxed);
                let t = (t > 0).then(|| i64::try_from(t).unwrap_or(i64::MAX));
                let d = i64::try_from(done.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
                // On SQLite this waits while a commit holds the writer lock, so commit
                // progress appears when it ends; PostgreSQL shows it as it goes.
                let _ = batches::set_progress(&db, id, d, t).await;
            }
        })
    };
    let track = move |d: usize, t: Option<usize>| {
        done.store(d, Ordering::Relaxed);
        if let Some(t) = t {
            total.store(t, Ordering::Relaxed);
        }
        progress(d, t);
    };
    let result = run(
        db,
        actor,
        base,
        lang,
        kind,
        content,
        &batch.file_name,
        profile.as_ref(),
        &target,
        already,
        mode,
        &track,
    )
    .await;
    // Stop the progress writer before the final state is written, so it cannot overwrite it.
    ticker.abort();
    let _ = ticker.await;
    let summary = result?;
    let status = match (mode, summary.committed) {
        (Mode::Preview, _) => "previewed",
        (Mode::Commit { .. }, true) => "committed",
        (Mode::Commit { .. }, false) => "refused",
    };
    let json = serde_json::to_string(&summary).map_err(|e| AppError::Internal(e.into()))?;
    batches::finish(
        db,
        id,
        status,
        &json,
        i64::try_from(summary.rows).unwrap_or(0),
    )
    .await?;
    Ok(summary)
}
