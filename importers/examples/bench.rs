//! Throughput and peak memory of reading a 100,000-row packing list.
//!
//! ```sh
//! cargo run --release -p rackledger-importers --example bench -- csv write
//! cargo run --release -p rackledger-importers --example bench -- csv read
//! cargo run --release -p rackledger-importers --example bench -- xlsx write
//! cargo run --release -p rackledger-importers --example bench -- xlsx read
//! ```
//!
//! `write` puts the file in the temp directory; `read` reads it with `open_path` and
//! reports rows per second and the process's peak resident memory (Linux `VmHWM`),
//! which is why the two are separate runs.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rackledger_importers::{Kind, open_path};

const ROWS: u32 = 100_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let format = std::env::args().nth(1).unwrap_or_else(|| "csv".to_string());
    let mode = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "read".to_string());
    let path = std::env::temp_dir().join(format!("rackledger-bench.{format}"));
    if mode == "write" {
        return match format.as_str() {
            "csv" => Ok(write_csv(&path)?),
            "xlsx" => Ok(write_xlsx(&path)?),
            other => Err(format!("unknown format {other}: use csv or xlsx").into()),
        };
    }
    let size = std::fs::metadata(&path)?.len();
    let before = peak_rss_kib();
    let started = Instant::now();
    let reader = open_path(&path, Kind::PackingList, None)?;
    let (mut ok, mut bad) = (0u32, 0u32);
    for parsed in reader {
        if parsed.result.is_ok() {
            ok += 1
        } else {
            bad += 1
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{format}: {ROWS} rows ({:.1} MB) in {seconds:.2} s = {:.0} rows/s; ok {ok}, errors {bad}; \
         peak RSS {} MiB (before reading {} MiB)",
        size as f64 / 1e6,
        f64::from(ROWS) / seconds,
        peak_rss_kib() / 1024,
        before / 1024,
    );
    Ok(())
}

fn serial(i: u32) -> String {
    format!("S4EMNX0W{i:06}")
}

fn write_csv(path: &PathBuf) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "Carton,Part Number,Manufacturer,Serial Number,Qty")?;
    for i in 0..ROWS {
        writeln!(
            out,
            "C-{:04},M321R4GA3BB6-CQK,Samsung,{},1",
            i / 400,
            serial(i)
        )?;
    }
    out.flush()
}

fn write_xlsx(path: &Path) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, header) in [
        "Carton",
        "Part Number",
        "Manufacturer",
        "Serial Number",
        "Qty",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, col as u16, *header)?;
    }
    for i in 0..ROWS {
        sheet.write_string(i + 1, 0, format!("C-{:04}", i / 400))?;
        sheet.write_string(i + 1, 1, "M321R4GA3BB6-CQK")?;
        sheet.write_string(i + 1, 2, "Samsung")?;
        sheet.write_string(i + 1, 3, serial(i))?;
        sheet.write_number(i + 1, 4, 1.0)?;
    }
    workbook.save(path)
}

/// Peak resident set size in KiB, from /proc/self/status; 0 where unavailable.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}
