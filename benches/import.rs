//! Import (issue #9, benchmark 1): a 100,000-row packing list as XLSX and as
//! CSV, end to end (read, validate, preview, commit with its receipt) through
//! `importers::run`, on SQLite and on PostgreSQL. Baselines in the same run:
//! parse only (calamine / csv reading the same bytes) and insert only (the
//! same units bulk-inserted in multi-row INSERTs in one transaction).
//! Target: end-to-end rate at least 50% of the slower baseline's rate.
//!
//! `cargo bench --bench import` (`RACKLEDGER_BENCH_SCALE=0.1` for a quick run,
//! `RACKLEDGER_BENCH_RUNS=1` for one run instead of the best of three;
//! `RACKLEDGER_BENCH_PG=postgres://...` for another PostgreSQL server).
#![allow(clippy::print_stdout, clippy::unwrap_used)] // a bench prints its table

mod common;

use std::time::{Duration, Instant};

use rackledger::audit::Actor;
use rackledger::db::Db;
use rackledger::importers::{Mode, Target};
use rackledger_importers::Kind;

use common::Row;

const MPN_SQL: &str =
    "select id, mpn, manufacturer from part_models where serial_tracked order by id limit 1";

fn serial(i: usize) -> String {
    format!("BNCH{i:08}")
}

fn csv_file(n: usize, mpn: &str, mf: &str) -> Vec<u8> {
    let mut s = String::from("Carton,Part Number,Manufacturer,Serial Number,Qty\n");
    for i in 0..n {
        s.push_str(&format!("C-{:04},{mpn},{mf},{},1\n", i / 400, serial(i)));
    }
    s.into_bytes()
}

fn xlsx_file(n: usize, mpn: &str, mf: &str) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in [
        "Carton",
        "Part Number",
        "Manufacturer",
        "Serial Number",
        "Qty",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for i in 0..n {
        let r = (i + 1) as u32;
        sheet
            .write_string(r, 0, format!("C-{:04}", i / 400))
            .unwrap();
        sheet.write_string(r, 1, mpn).unwrap();
        sheet.write_string(r, 2, mf).unwrap();
        sheet.write_string(r, 3, serial(i)).unwrap();
        sheet.write_number(r, 4, 1.0).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// Parse only: the raw csv / calamine read of every cell of the same bytes.
fn parse_only(format: &str, bytes: &[u8]) -> usize {
    if format == "csv" {
        let mut r = csv::Reader::from_reader(bytes);
        r.records()
            .map(|rec| rec.unwrap().len())
            .filter(|l| *l > 0)
            .count()
    } else {
        use calamine::Reader as _;
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let range = wb.worksheet_range_at(0).unwrap().unwrap();
        range.rows().skip(1).filter(|r| !r.is_empty()).count()
    }
}

/// A purchase order (status `ordered`) with one serial-tracked line of `n`
/// units; returns (po id, location id, mpn, manufacturer).
async fn prepare(db: &Db, n: usize) -> (i64, i64, String, String) {
    rackledger::demo::seed(db, "UTC").await.unwrap();
    let ((pm, mpn, mf), supplier, location): ((i64, String, String), i64, i64) =
        rackledger::on!(db, |p| {
            let part = sqlx::query_as(MPN_SQL).fetch_one(&mut *p).await.unwrap();
            let supplier = sqlx::query_scalar("select min(id) from suppliers")
                .fetch_one(&mut *p)
                .await
                .unwrap();
            let location = sqlx::query_scalar("select min(id) from stock_locations")
                .fetch_one(p)
                .await
                .unwrap();
            Ok::<_, sqlx::Error>((part, supplier, location))
        })
        .unwrap();
    let ts = "'2026-01-01T00:00:00Z'";
    // PostgreSQL ids are `generated always`: a chosen id must say so.
    let overriding = match db {
        Db::Sqlite(_) => "",
        Db::Postgres(_) => "overriding system value",
    };
    common::exec(db, format!(
        "insert into purchase_orders (id, number, supplier_id, currency, fx_rate, fx_rate_date, status, created_at, updated_at)
         {overriding} values (900001, 'PO-BENCH', {supplier}, 'USD', '1', '2026-01-01', 'ordered', {ts}, {ts})"
    )).await;
    common::exec(db, format!(
        "insert into po_lines (po_id, line_no, part_model_id, quantity, unit_price, created_at, updated_at)
         values (900001, 1, {pm}, {n}, '100', {ts}, {ts})"
    )).await;
    (900001, location, mpn, mf)
}

/// A receipt's ledger rows for every unit, in one statement.
const LEDGER_SQL: &str = "insert into stock_movements (part_model_id, unit_id, from_location_id, to_location_id,
       quantity, reason, created_at, updated_at)
     select part_model_id, id, null, location_id, 1, 'receipt', created_at, created_at from units order by id";

/// Insert only: the same units, bulk-inserted in one transaction; with
/// `ledger`, also their ledger movements (what a receipt writes besides).
async fn insert_only(db: &Db, n: usize, mf: &str, location: i64, ledger: bool) -> Duration {
    let pm: i64 = rackledger::on!(db, |p| {
        sqlx::query_scalar("select part_model_id from po_lines where po_id = 900001")
            .fetch_one(p)
            .await
    })
    .unwrap();
    let t = Instant::now();
    common::bulk_insert_then(
        db,
        "insert into units (part_model_id, manufacturer, serial, location_id, status, landed_cost_minor, cost_currency, created_at, updated_at)",
        n,
        1000,
        |i| format!("({pm}, '{mf}', '{}', {location}, 'in_stock', 10000, 'USD', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')", serial(i)),
        ledger.then_some(LEDGER_SQL),
    )
    .await;
    t.elapsed()
}

/// End to end: preview then commit, as the import page does.
async fn end_to_end(
    db: &Db,
    bytes: &[u8],
    file: &str,
    po: i64,
    location: i64,
) -> (Duration, Duration) {
    let target = Target {
        supplier_id: None,
        po_id: Some(po),
        location_id: Some(location),
        allow_over: false,
    };
    let actor = Actor::system("bench");
    let progress = |_: usize, _: Option<usize>| {};
    let mut times = Vec::new();
    for mode in [Mode::Preview, Mode::Commit { skip_errors: false }] {
        let t = Instant::now();
        let s = rackledger::importers::run(
            db,
            &actor,
            rackledger::money::Currency::USD,
            rackledger::i18n::Lang::En,
            Kind::PackingList,
            bytes.to_vec(),
            file,
            None,
            &target,
            false,
            mode,
            &progress,
        )
        .await
        .unwrap();
        times.push(t.elapsed());
        assert_eq!(s.errors, 0, "{:?}", s.sample.first());
        assert_eq!(s.create, bytes_rows(s.rows), "every row creates a unit");
        if mode != Mode::Preview {
            assert!(s.committed, "{:?}", s.refused);
        }
    }
    (times[0], times[1])
}

/// The same import by the server binary in its own process (`rackledger
/// import`, which runs the code of the web's background task), under
/// `/usr/bin/time`: its peak resident memory in MiB, and seconds.
async fn cli_peak_rss(n: usize, format: &str) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let (db, url) = common::fresh_sqlite(dir.path()).await;
    let (_, location, mpn, mf) = prepare(&db, n).await;
    db.close().await;
    let bytes = if format == "csv" {
        csv_file(n, &mpn, &mf)
    } else {
        xlsx_file(n, &mpn, &mf)
    };
    let file = dir.path().join(format!("packing.{format}"));
    std::fs::write(&file, bytes).unwrap();
    // `RACKLEDGER_BENCH_WRAP="perf record -g -o /tmp/perf.data --"` profiles the import.
    let wrap = std::env::var("RACKLEDGER_BENCH_WRAP").unwrap_or_default();
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "RSS %M %e"])
        .args(wrap.split_whitespace())
        .args([env!("CARGO_BIN_EXE_rackledger"), "import", "packing_list"])
        .arg(&file)
        .args(["--po", "PO-BENCH", "--location", &location.to_string()])
        .current_dir(dir.path())
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let line = err.lines().rev().find(|l| l.starts_with("RSS ")).unwrap();
    let f: Vec<f64> = line[4..]
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    (f[0] / 1024.0, f[1])
}

fn bytes_rows(rows: usize) -> usize {
    rows
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

#[tokio::main]
async fn main() {
    if !common::is_bench_run() {
        return;
    }
    let n = common::scaled(100_000);
    // Every figure is the best of `runs` (each run in fresh databases): the
    // machine is shared, and one run of the insert-only baseline moved by
    // half between runs (0.59-1.03 s on SQLite on one machine in one hour).
    let runs: usize = std::env::var("RACKLEDGER_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    // `RACKLEDGER_BENCH_ENGINES=sqlite` (or `postgres`) runs one engine, to profile it.
    let engines = std::env::var("RACKLEDGER_BENCH_ENGINES").unwrap_or_default();
    let formats = std::env::var("RACKLEDGER_BENCH_FORMATS").unwrap_or_default();
    for engine in ["sqlite", "postgres"] {
        if !engines.is_empty() && !engines.split(',').any(|e| e.trim() == engine) {
            continue;
        }
        for format in ["xlsx", "csv"] {
            // `RACKLEDGER_BENCH_FORMATS=csv` (or `xlsx`) runs one format, to profile it.
            if !formats.is_empty() && !formats.split(',').any(|f| f.trim() == format) {
                continue;
            }
            let (mut parse, mut insert, mut ledger) = (Duration::MAX, Duration::MAX, Duration::MAX);
            let (mut preview, mut commit, mut e2e) = (Duration::MAX, Duration::MAX, Duration::MAX);
            for run in 0..runs {
                let dir = tempfile::tempdir().unwrap();
                let open = |tag: &'static str| {
                    let dir = dir.path().join(tag);
                    async move {
                        if engine == "sqlite" {
                            std::fs::create_dir_all(&dir).unwrap();
                            common::fresh_sqlite(&dir).await
                        } else {
                            common::fresh_postgres(&format!("rackledger_bench_import_{tag}")).await
                        }
                    }
                };
                // Insert-only baseline in a database of its own.
                let (db, _) = open("base").await;
                let (_, location, mpn, mf) = prepare(&db, n).await;
                let base = insert_only(&db, n, &mf, location, false).await;
                db.close().await;
                let (db, _) = open("ledger").await;
                prepare(&db, n).await;
                let with_ledger = insert_only(&db, n, &mf, location, true).await;
                db.close().await;
                let bytes = if format == "csv" {
                    csv_file(n, &mpn, &mf)
                } else {
                    xlsx_file(n, &mpn, &mf)
                };
                let t = Instant::now();
                assert_eq!(parse_only(format, &bytes), n);
                parse = parse.min(t.elapsed());
                let (db, _) = open("e2e").await;
                let (po, location, _, _) = prepare(&db, n).await;
                let (p, c) =
                    end_to_end(&db, &bytes, &format!("packing.{format}"), po, location).await;
                db.close().await;
                if engine == "postgres" {
                    common::drop_postgres("rackledger_bench_import_base").await;
                    common::drop_postgres("rackledger_bench_import_ledger").await;
                    common::drop_postgres("rackledger_bench_import_e2e").await;
                }
                println!(
                    "  {format} on {engine}, run {}: preview {:.2} s, commit {:.2} s; insert only {:.2} s, with ledger {:.2} s",
                    run + 1,
                    p.as_secs_f64(),
                    c.as_secs_f64(),
                    base.as_secs_f64(),
                    with_ledger.as_secs_f64()
                );
                insert = insert.min(base);
                ledger = ledger.min(with_ledger);
                if p + c < e2e {
                    (preview, commit, e2e) = (p, c, p + c);
                }
            }
            let slower = rate(n, parse).min(rate(n, insert));
            let ratio = rate(n, e2e) / slower;
            rows.push(
                Row::new(
                    &format!("{format} on {engine}: end to end rows/s"),
                    format!("{:.0} ({:.2} s)", rate(n, e2e), e2e.as_secs_f64()),
                    format!(
                        "{:.0} (parse {:.0}, insert {:.0})",
                        slower,
                        rate(n, parse),
                        rate(n, insert)
                    ),
                    format!("{:.0}%", ratio * 100.0),
                    ">= 50% of slower baseline",
                )
                .pass(ratio >= 0.5),
            );
            // For reading the gap, not a target: the same units with their ledger rows.
            let with_ledger = rate(n, e2e) / rate(n, parse).min(rate(n, ledger));
            rows.push(Row::new(
                &format!("{format} on {engine}: end to end against insert with ledger"),
                format!("{:.0} rows/s", rate(n, e2e)),
                format!("{:.0} (insert units + ledger)", rate(n, ledger)),
                format!("{:.0}%", with_ledger * 100.0),
                "",
            ));
            notes.push(format!(
                "- {format} on {engine}: preview {:.2} s, commit {:.2} s; parse only {:.2} s; insert only {:.2} s; insert with ledger {:.2} s",
                preview.as_secs_f64(), commit.as_secs_f64(), parse.as_secs_f64(), insert.as_secs_f64(), ledger.as_secs_f64()
            ));
            println!("{}", notes.last().unwrap());
        }
    }
    for format in ["xlsx", "csv"] {
        let (mib, secs) = cli_peak_rss(n, format).await;
        rows.push(
            Row::new(
                &format!("{format} on sqlite: peak RSS of `rackledger import` (commit)"),
                format!("{mib:.0} MiB ({secs:.1} s)"),
                String::new(),
                String::new(),
                "< 150 MiB",
            )
            .pass(mib < 150.0),
        );
    }
    common::report(
        "Import",
        &format!(
            "A {n}-row packing list (one serial per row, one order line) read, checked, previewed and \
             committed by `importers::run` (Preview, then Commit) in the bench process. Parse only: \
             csv / calamine reading the same bytes. Insert only: the same units in multi-row INSERTs \
             of 1,000 in one transaction, in a database of its own; insert with ledger (no target): \
             the same, then each unit's ledger movement in one `insert ... select`, as a receipt \
             writes both. Each figure is the best of {runs} \
             runs, each in fresh databases (`RACKLEDGER_BENCH_RUNS`).\n\n{}",
            notes.join("\n")
        ),
        &rows,
    );
}
