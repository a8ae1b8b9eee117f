//! Pages (issue #9, benchmark 5): requests per second, p50 and p99 of the rack
//! elevation page and the asset page under concurrent load, from this process
//! to the real server in its own process on loopback, over the Locate data set
//! (1,000,000 units, 20,000 assets in 1,000 racks) on SQLite. Baseline:
//! `/healthz` under the same load.
//!
//! `cargo bench --bench pages` (`RACKLEDGER_BENCH_SCALE=0.1` for a quick run).
#![allow(clippy::print_stdout, clippy::unwrap_used)] // a bench prints its table

mod common;

use std::time::Duration;

use common::{Row, ms};

const CONCURRENCY: usize = 8;

#[tokio::main]
async fn main() {
    if !common::is_bench_run() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, url) = common::fresh_sqlite(dir.path()).await;
    let (units, assets) = (common::scaled(1_000_000), common::scaled(20_000));
    let fleet = common::seed_fleet(&db, units, assets, false).await;
    db.close().await;
    let server = common::Server::start(&url, dir.path()).await;
    let client = common::client(&fleet.token);
    let (base, racks, first) = (server.base.clone(), fleet.racks, fleet.first_rack_id);
    let n = 4000;
    let b = base.clone();
    common::load(&client, CONCURRENCY, 400, move |i| {
        format!("{b}/datacenter/racks/{}", first + (i % racks) as i64)
    })
    .await;
    let b = base.clone();
    let health = common::load(&client, CONCURRENCY, n, move |_| format!("{b}/healthz")).await;
    let b = base.clone();
    let rack = common::load(&client, CONCURRENCY, n, move |i| {
        format!(
            "{b}/datacenter/racks/{}",
            first + ((i * 7919) % racks) as i64
        )
    })
    .await;
    let b = base.clone();
    let asset = common::load(&client, CONCURRENCY, n, move |i| {
        format!(
            "{b}/inventory/assets/{}",
            common::ASSET0 + ((i * 7919) % assets) as i64
        )
    })
    .await;
    let rss = server.peak_rss_mib();
    drop(server);
    let mut rows = Vec::new();
    for (name, l, p50_target, p99_target) in [
        ("rack elevation", &rack, Some(2), Some(5)),
        ("asset page", &asset, None, None),
    ] {
        rows.push(Row::new(
            &format!("{name} req/s"),
            format!("{:.0}", l.rps),
            format!("{:.0} (/healthz)", health.rps),
            format!("{:.2}x", l.rps / health.rps),
            "",
        ));
        for (q, v, hv, target) in [
            ("p50", l.p50, health.p50, p50_target),
            ("p99", l.p99, health.p99, p99_target),
        ] {
            let r = Row::new(
                &format!("{name} {q}"),
                ms(v),
                format!("{} (/healthz)", ms(hv)),
                format!("{:.1}x", v.as_secs_f64() / hv.as_secs_f64()),
                &target.map_or(String::new(), |t| format!("< {t} ms")),
            );
            rows.push(match target {
                Some(t) => r.pass(v < Duration::from_millis(t)),
                None => r,
            });
        }
    }
    rows.push(Row::new(
        "server peak RSS",
        format!("{rss:.0} MiB"),
        String::new(),
        String::new(),
        "",
    ));
    common::report(
        "Pages",
        &format!(
            "{} units, {} assets, {} racks of 20 placed 2U servers on SQLite. {n} requests per page over \
             {CONCURRENCY} concurrent connections from the bench process to `rackledger serve` in its own \
             process (both on the same {} CPUs).",
            fleet.units,
            fleet.assets,
            fleet.racks,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ),
        &rows,
    );
}
