//! Cost (issue #9, benchmark 4): recompute the cost per asset and per instance
//! type (`cost::service::report`) for 20,000 placed assets with 500,000
//! installed units, on SQLite. Baseline: loading the same inputs
//! (`cost::repo::placed_assets` and `installed_totals`) without computing.
//! Target: under 1 s. Also, without a target: a what-if that restates every
//! unit's cost (a memory price change), which reads every unit.
//!
//! `cargo bench --bench cost` (`RACKLEDGER_BENCH_SCALE=0.1` for a quick run).
#![allow(clippy::print_stdout, clippy::unwrap_used)] // a bench prints its table

mod common;

use std::time::{Duration, Instant};

use common::{Row, ms};

#[tokio::main]
async fn main() {
    if !common::is_bench_run() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = common::fresh_sqlite(dir.path()).await;
    let (units, assets) = (common::scaled(1_000_000), common::scaled(20_000));
    let fleet = common::seed_fleet(&db, units, assets, true).await;
    let day = time::OffsetDateTime::now_utc().date();
    let ov = rackledger::cost::scenario::Overrides::default();
    let base = rackledger::money::Currency::USD;
    let mut load = Vec::new();
    let mut report = Vec::new();
    let mut counts = (0, 0);
    for _ in 0..3 {
        let t = Instant::now();
        let placed = rackledger::cost::repo::placed_assets(&db).await.unwrap();
        let installed = rackledger::cost::repo::installed_totals(&db).await.unwrap();
        load.push(t.elapsed());
        let t = Instant::now();
        let r = rackledger::cost::service::report(&db, base, day, &ov, 1000)
            .await
            .unwrap();
        report.push(t.elapsed());
        counts = (r.assets.len(), r.instance_costs.len());
        assert!(placed.len() >= fleet.assets && installed.len() >= fleet.assets);
    }
    // A what-if that restates units: memory 10% dearer.
    let mut dearer = rackledger::cost::scenario::Overrides::default();
    dearer
        .part_price_pct
        .insert("memory".into(), rust_decimal::Decimal::from(10));
    let mut what_if = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        rackledger::cost::service::report(&db, base, day, &dearer, 1000)
            .await
            .unwrap();
        what_if.push(t.elapsed());
    }
    let best = |v: &[Duration]| *v.iter().min().unwrap();
    let (l, r) = (best(&load), best(&report));
    let rows = vec![
        Row::new(
            "cost report (per asset, per instance type)",
            ms(r),
            format!("{} (load inputs only)", ms(l)),
            format!("{:.1}x", r.as_secs_f64() / l.as_secs_f64()),
            "< 1 s",
        )
        .pass(r < Duration::from_secs(1)),
        Row::new(
            "what-if restating every unit (memory +10%)",
            ms(best(&what_if)),
            format!("{} (cost report)", ms(r)),
            format!("{:.1}x", best(&what_if).as_secs_f64() / r.as_secs_f64()),
            "",
        ),
    ];
    common::report(
        "Cost",
        &format!(
            "{} assets costed ({} bench assets in {} racks with {} installed units, plus the demo's), \
             {} instance types; best of 3 runs of `cost::service::report` in the bench process on SQLite.",
            counts.0,
            fleet.assets,
            fleet.racks,
            fleet.units.div_ceil(2),
            counts.1
        ),
        &rows,
    );
}
