//! Poll (issue #9, benchmark 2): 2,000 simulated BMCs on 127.0.0.1 (a second
//! process: this binary run as `fake-bmcs N`), each serving the DMTF
//! `public-rackmount1` tree (collections with their members inline when asked
//! with `$expand`, which its service root offers) and answering every request
//! after 100 ms. The real
//! `Poller::run` loop (default concurrency) polls the fleet once from this
//! process over SQLite. Baseline (the ideal): one BMC polled alone, times
//! BMCs / concurrency, i.e. requests x latency / concurrency along the
//! critical path. Also CPU time per BMC poll and this process's peak RSS.
//! Then a second round, the fleet due again by its schedule: the steady
//! state, where polls read health only (the inventory is read hourly).
//! Targets: within 10% of the ideal; under 2 ms CPU per BMC poll.
//!
//! `cargo bench --bench poll` (`RACKLEDGER_BENCH_SCALE=0.1` for a quick run).
#![allow(clippy::print_stdout, clippy::unwrap_used)] // a bench prints its table

mod common;

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rackledger::db::Db;
use rackledger::health::HealthConfig;
use rackledger::health::poller::{self, Poller};

use common::Row;

const LATENCY: Duration = Duration::from_millis(100);

/// The fake fleet: `n` listeners, each answering from the mockup in memory.
fn fake_bmcs(n: usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/redfish-mockups/public-rackmount1");
        let mut docs = HashMap::new();
        load(&dir, &dir, &mut docs);
        let expanded = Arc::new(expand_collections(&docs));
        let docs = Arc::new(docs);
        let hits = Arc::new(AtomicUsize::new(0));
        let mut ports = Vec::new();
        for _ in 0..n {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ports.push(listener.local_addr().unwrap().port());
            let (docs, expanded, hits) = (docs.clone(), expanded.clone(), hits.clone());
            let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
                let (docs, expanded, hits) = (docs.clone(), expanded.clone(), hits.clone());
                async move {
                    let path = uri.path().trim_end_matches('/').to_owned();
                    if path == "/hits" {
                        return (
                            axum::http::StatusCode::OK,
                            hits.load(Ordering::Relaxed).to_string(),
                        );
                    }
                    hits.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(LATENCY).await;
                    // The service root offers `$expand` (`ExpandQuery`), as real BMCs do.
                    let docs = if uri.query().is_some_and(|q| q.contains("$expand=.")) {
                        &expanded
                    } else {
                        &docs
                    };
                    match docs.get(&path) {
                        Some(d) => (axum::http::StatusCode::OK, String::clone(d)),
                        None => (axum::http::StatusCode::NOT_FOUND, String::new()),
                    }
                }
            });
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
        }
        let out = ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        println!("{out}");
        // Until the parent closes stdin.
        let _ = tokio::task::spawn_blocking(|| {
            let mut s = String::new();
            let _ = std::io::stdin().read_line(&mut s);
        })
        .await;
    });
}

/// Every `index.json` under `dir`, by its Redfish path.
fn load(root: &std::path::Path, dir: &std::path::Path, docs: &mut HashMap<String, String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            load(root, &p, docs);
        } else if p.file_name().is_some_and(|f| f == "index.json") {
            let rel = p.parent().unwrap().strip_prefix(root).unwrap();
            let key = format!("/redfish/v1/{}", rel.display());
            docs.insert(
                key.trim_end_matches('/').to_owned(),
                std::fs::read_to_string(&p).unwrap(),
            );
        }
    }
}

/// Every collection of `docs` with its members inline, as a BMC answers
/// `$expand=.($levels=1)`.
fn expand_collections(docs: &HashMap<String, String>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (path, text) in docs {
        let mut doc: serde_json::Value = serde_json::from_str(text).unwrap();
        let Some(serde_json::Value::Array(members)) = doc.get_mut("Members") else {
            continue;
        };
        for m in members.iter_mut() {
            let link = m["@odata.id"].as_str().unwrap_or_default();
            if let Some(member) = docs.get(link.trim_end_matches('/')) {
                *m = serde_json::from_str(member).unwrap();
            }
        }
        out.insert(path.clone(), doc.to_string());
    }
    out
}

/// CPU time of this process so far (user + system).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime), counted from `state` as field 3.
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(p)
            .await
            .unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

/// Waits (for an hour at most) until `count_sql` reaches `n`: looking every
/// 50 ms near the end, and every half second before it, since each look is
/// CPU this process spends that the poller does not (about 5% of the CPU per
/// BMC poll when it looked every 50 ms all along).
async fn wait_for_all(db: &Db, count_sql: &str, n: usize, what: &str) {
    let t = Instant::now();
    loop {
        let done = scalar(db, count_sql).await as usize;
        if done >= n {
            break;
        }
        let pause = if n - done > 100 { 500 } else { 50 };
        tokio::time::sleep(Duration::from_millis(pause)).await;
        assert!(
            t.elapsed() < Duration::from_secs(3600),
            "{what} did not finish"
        );
    }
}

async fn hits(base: &str) -> usize {
    reqwest::get(format!("{base}/hits"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .parse()
        .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("fake-bmcs") {
        return fake_bmcs(args[2].parse().unwrap());
    }
    if !common::is_bench_run() {
        return;
    }
    // As `rackledger serve` does.
    #[cfg(feature = "tuned-alloc")]
    rackledger::alloc::tune();
    // `RACKLEDGER_BENCH_LOG=sqlx::query=debug` shows each statement and its time.
    if let Ok(filter) = std::env::var("RACKLEDGER_BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
    tokio::runtime::Runtime::new().unwrap().block_on(bench());
}

async fn bench() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let n = common::scaled(2000);
    let mut fakes = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["fake-bmcs", &n.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(fakes.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ports: Vec<u16> = line
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(ports.len(), n);
    let dir = tempfile::tempdir().unwrap();
    let (db, url) = common::fresh_sqlite(dir.path()).await;
    common::seed_fleet(&db, 0, n, false).await;
    let ts = "'2026-01-01T00:00:00Z'";
    let ports2 = ports.clone();
    common::bulk_insert(
        &db,
        "insert into bmcs (id, asset_id, url, tls_policy, enabled, next_poll_at, created_at, updated_at)",
        n,
        1000,
        move |i| format!("({}, {}, 'http://127.0.0.1:{}', 'verify', {}, {ts}, {ts}, {ts})",
            i + 1, common::ASSET0 + i as i64, ports2[i], if i == 0 { 1 } else { 0 }),
    )
    .await;
    let cfg = HealthConfig::default();
    let concurrency = cfg.concurrency;
    let first = format!("http://127.0.0.1:{}", ports[0]);

    // Baseline: one BMC alone.
    let poller = Poller::new(db.clone(), cfg.clone(), None);
    let out = poller.run_round().await.unwrap();
    assert_eq!(out.len(), 1);
    assert!(out[0].error.is_none(), "{:?}", out[0].error);
    let lone = out[0].finished - out[0].started;
    let per_bmc = hits(&first).await;

    // The fleet, through the poller's own loop.
    common::exec(&db, "update bmcs set enabled = 1, next_poll_at = '2026-01-01T00:00:00Z', leased_by = null, leased_until = null, last_success_at = null".into()).await;
    // The peak of the fleet poll itself, not of seeding the database before
    // it (writing 5 to clear_refs resets VmHWM to the current RSS).
    let rss_before = common::peak_rss_mib_of("/proc/self/status");
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let cpu0 = cpu_time();
    let t = Instant::now();
    // As `rackledger serve` runs it: its own thread and runtime.
    let poller = poller::spawn_thread(&db, &url, cfg.clone(), None).unwrap();
    // Every recorded poll, ok or failed, moves `next_poll_at` past the seeded
    // time: counted on its index, this check costs little of the CPU measured.
    let done_sql = "select count(*) from bmcs where next_poll_at > '2026-01-01T00:00:00Z'";
    wait_for_all(&db, done_sql, n, "fleet poll").await;
    let fleet = t.elapsed();
    let cpu = cpu_time() - cpu0;

    // Steady state: the fleet due again by its schedule (last polled one
    // interval ago), polled by the same poller, which now reads health only
    // (the inventory is read once an hour, or when a system's status moves).
    let hits0 = hits(&first).await;
    let due = time::macros::datetime!(2025-06-01 00:00 UTC);
    let last = due - time::Duration::seconds(cfg.poll_interval_secs as i64);
    let rfc = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    common::exec(
        &db,
        format!(
            "update bmcs set next_poll_at = '{}', last_polled_at = '{}', leased_by = null, leased_until = null",
            rfc(due),
            rfc(last)
        ),
    )
    .await;
    let cpu1 = cpu_time();
    let t1 = Instant::now();
    wait_for_all(&db, done_sql, n, "steady-state poll").await;
    let steady = t1.elapsed();
    let steady_cpu = cpu_time() - cpu1;
    let steady_requests = hits(&first).await - hits0;
    tokio::task::spawn_blocking(move || poller.stop())
        .await
        .unwrap();
    let failed = scalar(
        &db,
        "select count(*) from bmcs where last_error is not null",
    )
    .await;
    let rss = common::peak_rss_mib_of("/proc/self/status");
    drop(fakes.stdin.take());
    let _ = fakes.wait();

    let ideal = lone.mul_f64(n.div_ceil(concurrency) as f64);
    let cpu_per = cpu.div_f64(n as f64);
    let rows = vec![
        Row::new(
            "fleet poll time",
            format!("{:.1} s", fleet.as_secs_f64()),
            format!(
                "{:.1} s ideal ({:.2} s alone x {} rounds)",
                ideal.as_secs_f64(),
                lone.as_secs_f64(),
                n.div_ceil(concurrency)
            ),
            format!("{:.2}x", fleet.as_secs_f64() / ideal.as_secs_f64()),
            "<= 1.10x ideal",
        )
        .pass(fleet.as_secs_f64() <= ideal.as_secs_f64() * 1.1),
        Row::new(
            "CPU per BMC poll, first poll (everything)",
            format!("{:.2} ms", cpu_per.as_secs_f64() * 1000.0),
            String::new(),
            String::new(),
            "< 2 ms",
        )
        .pass(cpu_per < Duration::from_millis(2)),
        Row::new(
            "CPU per BMC poll, steady state (health only)",
            format!("{:.2} ms", steady_cpu.as_secs_f64() * 1000.0 / n as f64),
            format!(
                "{:.1} requests per poll, fleet in {:.1} s",
                steady_requests as f64 / n as f64,
                steady.as_secs_f64()
            ),
            String::new(),
            "< 2 ms",
        )
        .pass(steady_cpu < Duration::from_millis(2).mul_f64(n as f64)),
        Row::new(
            "poller process peak RSS during the fleet poll",
            format!("{rss:.0} MiB"),
            format!("{rss_before:.0} MiB (peak before it: seeding)"),
            String::new(),
            "< 150 MiB",
        )
        .pass(rss < 150.0),
    ];
    common::report(
        "Poll",
        &format!(
            "{n} fake BMCs (a second process) serving `public-rackmount1` (and its collections \
             expanded on `$expand=.`, as its service root offers), 100 ms per answer; \
             {per_bmc} requests per BMC poll; `Poller::run` on its own thread (as `serve` runs it) at concurrency {concurrency} over SQLite, \
             until every BMC has a result ({failed} failed); then the fleet due again by its schedule, \
             polled by the same poller (steady state: health only, the inventory being read hourly). \
             CPU is this process's user + system time during each round (USER_HZ resolution)."
        ),
        &rows,
    );
}
