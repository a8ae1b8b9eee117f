//! Issue 24 (High 2): decompression bombs and oversized supplier files, uploaded
//! to the real `rackledger serve` process, are refused naming the cap, and the
//! server's peak memory (VmHWM) stays under 300 MiB throughout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

#[path = "../importers/tests/common/bombs.rs"]
mod bombs;

use std::time::{Duration, Instant};

use rackledger::audit::Actor;
use rackledger::db::Db;
use support::Server;

const PEAK_MIB: u64 = 300;

async fn scalar(db: &Db, sql: &'static str) -> i64 {
    rackledger::on!(db, |p| sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await).unwrap()
}

async fn batch(db: &Db, id: i64) -> (String, Option<String>) {
    rackledger::on!(db, |p| sqlx::query_as::<_, (String, Option<String>)>(
        "select status, summary_json from import_batches where id = $1"
    )
    .bind(id)
    .fetch_one(p)
    .await)
    .unwrap()
}

/// The process's peak resident set (VmHWM), MiB.
fn peak_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024
}

fn upload(port: u16, token: &str, supplier: i64, name: &str, file: &[u8]) -> i64 {
    support::upload_price_list(port, token, supplier, name, file)
}

/// Polls (with a deadline) until the batch is no longer running.
async fn finished(db: &Db, id: i64) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tick.tick().await;
        let (status, summary) = batch(db, id).await;
        if !matches!(status.as_str(), "queued" | "previewing" | "committing") {
            return (status, summary.unwrap_or_default());
        }
        assert!(Instant::now() < deadline, "batch {id} still {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bombs_of_every_kind_are_refused_naming_the_cap_and_the_server_stays_under_300_mib() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bombs.sqlite").display());
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    assert!(rackledger::demo::seed(&db, "Asia/Seoul").await.unwrap());
    let buyer = scalar(&db, "select id from users where username = 'buyer'").await;
    let (_, token) =
        rackledger::auth::service::issue_token(&db, &Actor::system("test"), buyer, "bombs")
            .await
            .unwrap();
    let supplier = scalar(&db, "select min(id) from suppliers where currency = 'USD'").await;

    let server = Server::start(&url).await;
    let pid = server.pid();
    let baseline = peak_mib(pid);

    // (file name, bytes, words of the cap's message the summary must hold)
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("cell-1500mib.xlsx", bombs::huge_inline_cell(1500), "MiB"),
        ("cell-200mib.xlsx", bombs::huge_inline_cell(200), "32767"),
        (
            "sst-30m.xlsx",
            bombs::shared_strings_bomb(30_000_000),
            "64 MiB",
        ),
        (
            "sst-3m.xlsx",
            bombs::shared_strings_bomb(3_000_000),
            "1000000",
        ),
        ("rows-3m.xlsx", bombs::many_rows(3_000_000), "MiB"),
        ("rows-1.5m.xlsx", bombs::many_rows(1_500_000), "1000000"),
        ("repeat.ods", bombs::ods_repeat_bomb(1_000_000, 100), "MiB"),
        // 16 MiB: far over the row cap.
        ("line.csv", bombs::csv_long_line(16), "256 KiB"),
        // Just under the 32 MiB upload cap: what the upload and the database
        // copy of a file cost, not the reader (60 MiB peaked at 296 MiB
        // when the cap was 64 MiB).
        ("line-31mib.csv", bombs::csv_long_line(31), "256 KiB"),
    ];
    let mut report = Vec::new();
    for (name, bytes, words) in cases {
        let size = bytes.len();
        let id = upload(server.port, &token, supplier, name, &bytes);
        drop(bytes);
        let (status, summary) = finished(&db, id).await;
        assert_eq!(status, "failed", "{name}: {summary}");
        assert!(
            // A bearer client without a language preference gets Korean, the default.
            summary.contains(words) && summary.contains("한도"),
            "{name}: {summary}"
        );
        report.push(format!("{name} ({size} bytes): peak {} MiB", peak_mib(pid)));
    }

    // A legitimate 50,000-row price list still previews, after all of that.
    let id = upload(
        server.port,
        &token,
        supplier,
        "legit.xlsx",
        &bombs::many_rows(50_176),
    );
    let (status, summary) = finished(&db, id).await;
    assert_eq!(status, "previewed", "{summary}");

    let peak = peak_mib(pid);
    eprintln!(
        "baseline {baseline} MiB; {}; final peak {peak} MiB",
        report.join("; ")
    );
    assert!(
        peak < PEAK_MIB,
        "peak RSS {peak} MiB (baseline {baseline} MiB): {}",
        report.join("; ")
    );
    server.kill();
}
