//! Locate (issue #9, benchmark 3): 1,000,000 units and 20,000 assets on SQLite;
//! `/search` by exact serial and by serial prefix over HTTP, against the real
//! server in its own process. Baseline: `/healthz` from the same client.
//!
//! `cargo bench --bench locate` (`RACKLEDGER_BENCH_SCALE=0.1` for a quick run).
#![allow(clippy::print_stdout, clippy::unwrap_used)] // a bench prints its table

mod common;

use common::{Row, ms};

#[tokio::main]
async fn main() {
    if !common::is_bench_run() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, url) = common::fresh_sqlite(dir.path()).await;
    let (units, assets) = (common::scaled(1_000_000), common::scaled(20_000));
    let t = std::time::Instant::now();
    let fleet = common::seed_fleet(&db, units, assets, false).await;
    println!(
        "seeded {units} units, {assets} assets in {:.1?}",
        t.elapsed()
    );
    db.close().await;
    let server = common::Server::start(&url, dir.path()).await;
    let client = common::client(&fleet.token);
    let base = server.base.clone();
    let n = 2000;
    // Warm up the server, the connection and SQLite's page cache.
    let b = base.clone();
    common::load(&client, 1, 200, move |i| {
        format!("{b}/search?q={}", common::serial(i * 7919 % units))
    })
    .await;
    let b = base.clone();
    let health = common::load(&client, 1, n, move |_| format!("{b}/healthz")).await;
    let b = base.clone();
    let exact = common::load(&client, 1, n, move |i| {
        format!("{b}/search?q={}", common::serial((i * 104_729) % units))
    })
    .await;
    // Six characters of a serial: about a thousandth of the serial space.
    let b = base.clone();
    let prefix = common::load(&client, 1, n, move |i| {
        format!(
            "{b}/search?q={}",
            &common::serial((i * 15_485_863) % units)[..6]
        )
    })
    .await;
    let rss = server.peak_rss_mib();
    drop(server);
    let five = std::time::Duration::from_millis(5);
    let row = |name: &str, l: &common::Load, q: &str, target: bool| {
        let p = if q == "p50" { l.p50 } else { l.p99 };
        let hp = if q == "p50" { health.p50 } else { health.p99 };
        let r = Row::new(
            &format!("{name} {q}"),
            ms(p),
            format!("{} (/healthz)", ms(hp)),
            format!("{:.1}x", p.as_secs_f64() / hp.as_secs_f64()),
            if target { "p99 < 5 ms" } else { "" },
        );
        if target { r.pass(p < five) } else { r }
    };
    let rows = vec![
        row("search by serial (303 to the unit)", &exact, "p50", false),
        row("search by serial (303 to the unit)", &exact, "p99", true),
        row(
            "search by 6-char prefix (result page)",
            &prefix,
            "p50",
            false,
        ),
        row(
            "search by 6-char prefix (result page)",
            &prefix,
            "p99",
            true,
        ),
        Row::new(
            "server peak RSS",
            format!("{rss:.0} MiB"),
            String::new(),
            String::new(),
            "",
        ),
    ];
    common::report(
        "Locate",
        &format!(
            "{} units, {} assets, {} racks on SQLite. {n} sequential `GET /search?q=...` per figure \
             from the bench process to `rackledger serve` in its own process, after 200 warm-up requests.",
            fleet.units, fleet.assets, fleet.racks
        ),
        &rows,
    );
}
