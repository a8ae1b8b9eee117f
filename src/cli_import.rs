//! `rackledger import`: the command-line import with a progress bar.

use std::path::PathBuf;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rackledger::audit::Actor;
use rackledger::config::Config;
use rackledger::db::Db;
use rackledger::i18n::Lang;
use rackledger::importers::{self, Mode, Target};
use rackledger_importers::{Kind, Profile};

/// Arguments of `rackledger import`.
#[derive(clap::Args)]
pub struct Args {
    /// price_list, order_confirmation or packing_list.
    kind: String,
    /// The .xlsx, .xls, .ods or .csv file.
    file: PathBuf,
    /// Supplier name or id (price lists).
    #[arg(long)]
    supplier: Option<String>,
    /// Purchase order number or id (order confirmations, packing lists).
    #[arg(long)]
    po: Option<String>,
    /// Stock location id (packing lists).
    #[arg(long)]
    location: Option<i64>,
    /// A mapping profile in TOML (see importers/README.md).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Check and report, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the good rows even if some rows are bad.
    #[arg(long)]
    skip_errors: bool,
    /// Accept more than ordered (packing lists).
    #[arg(long)]
    allow_over: bool,
}

#[allow(clippy::print_stdout, reason = "command-line output")]
fn say(line: &str) {
    println!("{line}");
}

/// Runs the import; returns false when rows were refused (exit code 2).
pub async fn run(db: &Db, config: &Config, a: Args) -> anyhow::Result<bool> {
    let kind: Kind = a.kind.parse().map_err(|_| {
        anyhow::anyhow!("KIND must be price_list, order_confirmation or packing_list")
    })?;
    let bytes = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
    let file_name = a
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("import")
        .to_owned();
    let profile = match &a.profile {
        Some(p) => Some(Profile::from_toml(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )?),
        None => None,
    };
    let target = Target {
        supplier_id: match &a.supplier {
            Some(s) => Some(find_supplier(db, s).await?),
            None => None,
        },
        po_id: match &a.po {
            Some(p) => Some(find_order(db, p).await?),
            None => None,
        },
        location_id: a.location,
        allow_over: a.allow_over,
    };
    let base = config.base();
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} rows {per_sec} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = {
        let bar = bar.clone();
        move |done: usize, total: Option<usize>| {
            if let Some(t) = total {
                bar.set_length(t as u64);
            }
            bar.set_position(done as u64);
        }
    };
    let mode = if a.dry_run {
        Mode::Preview
    } else {
        Mode::Commit {
            skip_errors: a.skip_errors,
        }
    };
    let actor = Actor::system("cli");
    // Recorded like an upload, so a file already committed is recognised and
    // the import shows in the web's list of recent imports.
    let new = importers::NewBatch {
        kind: kind.as_str(),
        file_name: &file_name,
        content: &bytes,
        supplier_id: target.supplier_id,
        po_id: target.po_id,
        location_id: target.location_id,
        profile_id: None,
        allow_over: target.allow_over,
        created_by: None,
    };
    let batch_id = importers::batches::insert(db, &new).await?;
    let batch = importers::batches::get(db, batch_id).await?;
    let already = importers::batches::committed_before(db, &batch)
        .await?
        .is_some();
    let result = importers::run(
        db,
        &actor,
        base,
        Lang::En,
        kind,
        bytes,
        &file_name,
        profile.as_ref(),
        &target,
        already,
        mode,
        &progress,
    )
    .await;
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = importers::batches::finish(db, batch_id, "failed", "{}", 0).await;
            bail!(e.message(Lang::En));
        }
    };
    let status = match (mode, summary.committed) {
        (Mode::Preview, _) => "previewed",
        (Mode::Commit { .. }, true) => "committed",
        (Mode::Commit { .. }, false) => "refused",
    };
    let json = serde_json::to_string(&summary)?;
    importers::batches::finish(
        db,
        batch_id,
        status,
        &json,
        i64::try_from(summary.rows).unwrap_or(0),
    )
    .await?;
    bar.finish_and_clear();
    say(&format!(
        "{} rows: {} new, {} changed, {} unchanged, {} cannot be imported ({} blank rows skipped)",
        summary.rows,
        summary.create,
        summary.update,
        summary.unchanged,
        summary.errors,
        summary.blank_rows
    ));
    if summary.summary_rows > 0 {
        say(&format!(
            "{} total rows ignored (rows {})",
            summary.summary_rows,
            rows_list(&summary.summary_row_numbers)
        ));
    }
    for r in summary.sample.iter().filter(|r| r.action == "error") {
        say(&format!(
            "  row {}{}: {}",
            r.row,
            r.column
                .as_deref()
                .map(|c| format!(", column {c:?}"))
                .unwrap_or_default(),
            r.reason.as_deref().unwrap_or("")
        ));
    }
    if summary.errors > importers::SAMPLE_ROWS {
        say(&format!(
            "  … and {} more",
            summary.errors - importers::SAMPLE_ROWS
        ));
    }
    if let Some(r) = &summary.refused {
        say(r);
        return Ok(false);
    }
    if a.dry_run {
        say("dry run: nothing was written");
        return Ok(summary.errors == 0);
    }
    say(if summary.nothing_to_do() {
        "nothing to change"
    } else {
        "written"
    });
    Ok(true)
}

/// `4, 9, 12` for row numbers.
fn rows_list(rows: &[usize]) -> String {
    rows.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

async fn find_supplier(db: &Db, s: &str) -> anyhow::Result<i64> {
    if let Ok(id) = s.parse::<i64>() {
        return Ok(id);
    }
    let (rows, _) =
        rackledger::procurement::repo::list_suppliers(db, Some(s), "name", 2, 0).await?;
    match rows.as_slice() {
        [one] => Ok(one.id),
        [] => bail!("no supplier matches {s:?}"),
        _ => bail!("several suppliers match {s:?}; give more of the name or the id"),
    }
}

async fn find_order(db: &Db, p: &str) -> anyhow::Result<i64> {
    if let Ok(id) = p.parse::<i64>() {
        return Ok(id);
    }
    let (rows, _) = rackledger::procurement::orders_repo::list_pos(db, Some(p), None, 2, 0).await?;
    match rows.as_slice() {
        [one] => Ok(one.id),
        [] => bail!("no purchase order matches {p:?}"),
        _ => bail!("several orders match {p:?}; give the full number"),
    }
}
