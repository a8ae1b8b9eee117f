//! Shared parts of the benchmarks: scale, machine description, the results
//! table and its section in docs/benchmarks.md, bulk data, a server in its own
//! process and a small HTTP load generator.
#![allow(dead_code)] // each bench binary uses a different part of this module

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rackledger::audit::Actor;
use rackledger::db::Db;

/// `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and
/// then the benchmark only checks that it starts, so CI stays fast.
pub fn is_bench_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Size factor from `RACKLEDGER_BENCH_SCALE` (default 1.0: the sizes of issue #9).
pub fn scale() -> f64 {
    std::env::var("RACKLEDGER_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(1.0)
}

/// `n` times the scale, at least 1.
pub fn scaled(n: usize) -> usize {
    ((n as f64 * scale()).round() as usize).max(1)
}

/// PostgreSQL server for the benches that use it (a database of its own is created).
pub fn pg_admin_url() -> String {
    std::env::var("RACKLEDGER_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// One line of a results table.
pub struct Row {
    pub figure: String,
    pub value: String,
    pub baseline: String,
    pub ratio: String,
    pub target: String,
    pub pass: Option<bool>,
}

impl Row {
    pub fn new(figure: &str, value: String, baseline: String, ratio: String, target: &str) -> Row {
        Row {
            figure: figure.into(),
            value,
            baseline,
            ratio,
            target: target.into(),
            pass: None,
        }
    }
    pub fn pass(mut self, ok: bool) -> Row {
        self.pass = Some(ok);
        self
    }
}

/// The table as Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| figure | measured | baseline | ratio | target | result |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let result = match r.pass {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            r.figure, r.value, r.baseline, r.ratio, r.target, result
        );
    }
    s
}

/// nproc, CPU model, RAM and date, for the report.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown")
        .to_owned();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "{date}; {nproc} CPUs ({model}); {:.1} GiB RAM; scale {}",
        mem_kib as f64 / 1024.0 / 1024.0,
        scale()
    )
}

/// Prints the table and rewrites this bench's section of docs/benchmarks.md.
pub fn report(title: &str, intro: &str, rows: &[Row]) {
    let body = format!(
        "## {title}\n\nMachine: {}\n\n{intro}\n\n{}",
        machine(),
        table(rows)
    );
    println!("\n{body}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/benchmarks.md");
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        "# Benchmarks\n\nWritten by `cargo bench` (see the README of each bench in `benches/`). \
         Each section is rewritten by its own bench; `RACKLEDGER_BENCH_SCALE` shrinks the data.\n"
            .into()
    });
    // Replace the section from its heading to the next `## `, or append it.
    let heading = format!("## {title}\n");
    let new = match old.find(&heading) {
        Some(start) => {
            let rest = &old[start + heading.len()..];
            let end = rest
                .find("\n## ")
                .map_or(old.len(), |i| start + heading.len() + i + 1);
            format!("{}{body}\n{}", &old[..start], &old[end..])
        }
        None => format!("{}\n{body}", old.trim_end_matches('\n').to_owned() + "\n"),
    };
    std::fs::write(&path, new).expect("write docs/benchmarks.md");
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A fresh, migrated SQLite database file in `dir`.
pub async fn fresh_sqlite(dir: &Path) -> (Db, String) {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let db = Db::connect(&url).await.expect("open sqlite");
    db.migrate().await.expect("migrate");
    (db, url)
}

/// A fresh, migrated PostgreSQL database named `name` (dropped first).
pub async fn fresh_postgres(name: &str) -> (Db, String) {
    let admin = pg_admin_url();
    let admin_db = Db::connect(&admin).await.expect("connect postgres");
    let Db::Postgres(pool) = &admin_db else {
        unreachable!()
    };
    let drop = format!("drop database if exists {name} with (force)");
    sqlx::query(sqlx::AssertSqlSafe(drop))
        .execute(pool)
        .await
        .expect("drop");
    let create = format!("create database {name}");
    sqlx::query(sqlx::AssertSqlSafe(create))
        .execute(pool)
        .await
        .expect("create");
    admin_db.close().await;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    let db = Db::connect(&url).await.expect("connect bench db");
    db.migrate().await.expect("migrate");
    (db, url)
}

/// Drops a database made by [`fresh_postgres`].
pub async fn drop_postgres(name: &str) {
    let admin_db = Db::connect(&pg_admin_url()).await.expect("connect");
    if let Db::Postgres(pool) = &admin_db {
        let drop = format!("drop database if exists {name} with (force)");
        let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(pool).await;
    }
    admin_db.close().await;
}

/// Runs one statement of generated SQL (literals only, made by the bench).
pub async fn exec(db: &Db, sql: String) {
    let r = match db {
        Db::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(p)
            .await
            .map(|_| ()),
        Db::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(p)
            .await
            .map(|_| ()),
    };
    r.expect("bench sql");
}

/// Bulk insert: `rows` rendered as `(...)` tuples, in multi-row INSERTs of
/// `chunk` rows, all in one transaction.
pub async fn bulk_insert(
    db: &Db,
    head: &str,
    n: usize,
    chunk: usize,
    row: impl Fn(usize) -> String,
) {
    bulk_insert_then(db, head, n, chunk, row, None).await;
}

/// [`bulk_insert`], then the statement `then` in the same transaction.
pub async fn bulk_insert_then(
    db: &Db,
    head: &str,
    n: usize,
    chunk: usize,
    row: impl Fn(usize) -> String,
    then: Option<&str>,
) {
    let mut tx = db.begin().await.expect("begin");
    let mut i = 0;
    while i < n {
        let end = (i + chunk).min(n);
        let mut sql = String::with_capacity(128 * (end - i));
        sql.push_str(head);
        sql.push_str(" values ");
        for k in i..end {
            if k > i {
                sql.push(',');
            }
            sql.push_str(&row(k));
        }
        rackledger::exec!(&mut tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(c)
            .await)
        .expect("bulk insert");
        i = end;
    }
    if let Some(sql) = then {
        rackledger::exec!(&mut tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(c)
            .await)
        .expect("then");
    }
    tx.commit().await.expect("commit");
}

/// A unit's serial: three letters of its part model then 9 digits spread over
/// the space, so prefixes of 6 characters select about a thousandth.
pub fn serial(i: usize) -> String {
    // Multiplicative scramble (odd multiplier, modulo 10^9) keeps serials unique.
    let s = (i as u64).wrapping_mul(387_420_489) % 1_000_000_000;
    format!("S{:09}", s)
}

/// Id of the first bench asset (clear of the demo's own rows).
pub const ASSET0: i64 = 1_000_000;
/// Id of the first bench unit.
pub const UNIT0: i64 = 10_000_000;

/// What [`seed_fleet`] made.
pub struct Fleet {
    pub units: usize,
    pub assets: usize,
    pub racks: usize,
    pub token: String,
    pub first_rack_id: i64,
}

/// Demo users and catalogue, then `assets` assets (20 per 42U rack, 2U each)
/// and `units` units: half installed in the assets (with installations), half
/// in stock. Bulk-inserted in one transaction per table.
/// With `showcase`, the demo's showcase (cost parameters, instance types,
/// tiers, a build template) comes first and every bench asset uses its template.
pub async fn seed_fleet(db: &Db, units: usize, assets: usize, showcase: bool) -> Fleet {
    rackledger::demo::seed(db, "UTC").await.expect("demo seed");
    let template = if showcase {
        rackledger::demo::seed_showcase(db).await.expect("showcase");
        let sql = "select cast(min(id) as text) from build_templates";
        let t: Option<String> = match db {
            Db::Sqlite(p) => sqlx::query_scalar(sql)
                .fetch_one(p)
                .await
                .expect("template"),
            Db::Postgres(p) => sqlx::query_scalar(sql)
                .fetch_one(p)
                .await
                .expect("template"),
        };
        t.unwrap_or_else(|| "null".into())
    } else {
        "null".into()
    };
    let parts: Vec<(i64, String)> = match db {
        Db::Sqlite(p) => sqlx::query_as("select id, manufacturer from part_models order by id")
            .fetch_all(p)
            .await
            .expect("parts"),
        Db::Postgres(p) => sqlx::query_as("select id, manufacturer from part_models order by id")
            .fetch_all(p)
            .await
            .expect("parts"),
    };
    let location: i64 = match db {
        Db::Sqlite(p) => sqlx::query_scalar("select min(id) from stock_locations")
            .fetch_one(p)
            .await
            .expect("location"),
        Db::Postgres(p) => sqlx::query_scalar("select min(id) from stock_locations")
            .fetch_one(p)
            .await
            .expect("location"),
    };
    let ts = "'2026-01-01T00:00:00Z'";
    let racks = assets.div_ceil(20);
    exec(
        db,
        format!(
            "insert into sites (id, name, created_at, updated_at) values (9001, 'BENCH', {ts}, {ts})"
        ),
    )
    .await;
    exec(db, format!("insert into rooms (id, site_id, name, created_at, updated_at) values (9001, 9001, 'Hall 1', {ts}, {ts})")).await;
    exec(db, format!("insert into rack_rows (id, room_id, name, created_at, updated_at) values (9001, 9001, 'A', {ts}, {ts})")).await;
    let first_rack_id = 100_001;
    bulk_insert(
        db,
        "insert into racks (id, row_id, name, height_u, power_budget_watts, created_at, updated_at)",
        racks,
        1000,
        |r| format!("({}, 9001, 'R{r:04}', 42, 12000, {ts}, {ts})", first_rack_id + r as i64),
    )
    .await;
    bulk_insert(
        db,
        "insert into assets (id, asset_tag, hostname, template_id, kind, status, assembly_labour_minor, created_at, updated_at)",
        assets,
        2000,
        |a| format!("({}, 'BA{:06}', 'bnode{:06}', {template}, 'server', 'in_service', 5000, {ts}, {ts})", ASSET0 + a as i64, a + 1, a + 1),
    )
    .await;
    bulk_insert(
        db,
        "insert into placements (asset_id, rack_id, u_position, height_u, face, depth, created_at, updated_at)",
        assets,
        2000,
        |a| format!("({}, {}, {}, 2, 'front', 'full', {ts}, {ts})", ASSET0 + a as i64, first_rack_id + (a / 20) as i64, 1 + 2 * (a % 20)),
    )
    .await;
    // Even units are installed in asset (i / 2) % assets, odd ones are in stock.
    bulk_insert(
        db,
        "insert into units (id, part_model_id, manufacturer, serial, location_id, status, landed_cost_minor, cost_currency, asset_id, slot_name, created_at, updated_at)",
        units,
        2000,
        |i| {
            let (pm, mf) = &parts[i % parts.len()];
            let s = serial(i);
            if i % 2 == 0 {
                let asset = ASSET0 + ((i / 2) % assets) as i64;
                format!("({}, {pm}, '{mf}', '{s}', null, 'installed', 12345, 'USD', {asset}, 'slot{}', {ts}, {ts})", UNIT0 + i as i64, (i / 2) / assets)
            } else {
                format!("({}, {pm}, '{mf}', '{s}', {location}, 'in_stock', 12345, 'USD', null, null, {ts}, {ts})", UNIT0 + i as i64)
            }
        },
    )
    .await;
    let installed = units.div_ceil(2);
    bulk_insert(
        db,
        "insert into installations (asset_id, unit_id, slot_name, installed_at, created_at, updated_at)",
        installed,
        3000,
        |k| {
            let i = 2 * k;
            format!("({}, {}, 'slot{}', {ts}, {ts}, {ts})", ASSET0 + (k % assets) as i64, UNIT0 + i as i64, k / assets)
        },
    )
    .await;
    match db {
        Db::Sqlite(p) => {
            sqlx::query("analyze").execute(p).await.expect("analyze");
        }
        Db::Postgres(p) => {
            sqlx::query("analyze").execute(p).await.expect("analyze");
        }
    }
    let token = bench_token(db).await;
    Fleet {
        units,
        assets,
        racks,
        token,
        first_rack_id,
    }
}

/// An API token of the first admin, for `Authorization: Bearer`.
pub async fn bench_token(db: &Db) -> String {
    let admin: i64 = match db {
        Db::Sqlite(p) => sqlx::query_scalar("select min(id) from users where role = 'admin'")
            .fetch_one(p)
            .await
            .expect("admin"),
        Db::Postgres(p) => sqlx::query_scalar("select min(id) from users where role = 'admin'")
            .fetch_one(p)
            .await
            .expect("admin"),
    };
    let (_, token) =
        rackledger::auth::service::issue_token(db, &Actor::system("bench"), admin, "bench")
            .await
            .expect("token");
    token
}

/// The real server binary, in its own process, on a free loopback port.
pub struct Server {
    pub child: Child,
    pub base: String,
    _dir: PathBuf,
}

impl Server {
    pub async fn start(database_url: &str, dir: &Path) -> Server {
        // reqwest is built without a default rustls provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        // `RACKLEDGER_BENCH_WRAP="perf record -g -o /tmp/perf.data --"` profiles the server.
        let wrap = std::env::var("RACKLEDGER_BENCH_WRAP").unwrap_or_default();
        let mut argv: Vec<String> = wrap.split_whitespace().map(str::to_owned).collect();
        argv.push(env!("CARGO_BIN_EXE_rackledger").to_owned());
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .current_dir(dir)
            .env("DATABASE_URL", database_url)
            // `RACKLEDGER_BENCH_LOG=sqlx::query=debug` shows each statement and its time.
            .env(
                "RUST_LOG",
                std::env::var("RACKLEDGER_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rackledger serve");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let start = Instant::now();
        loop {
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Server {
            child,
            base,
            _dir: dir.to_owned(),
        }
    }

    /// Peak resident memory of the server so far (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        peak_rss_mib_of(&format!("/proc/{}/status", self.child.id()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGINT first, so a profiler wrapping the server writes its data.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// VmHWM of a `/proc/<pid>/status` file, in MiB.
pub fn peak_rss_mib_of(status: &str) -> f64 {
    std::fs::read_to_string(status)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// An HTTP client that sends the bench token and does not follow redirects.
pub fn client(token: &str) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .expect("client")
}

/// Latencies and throughput of one load run.
pub struct Load {
    pub p50: Duration,
    pub p99: Duration,
    pub rps: f64,
    pub requests: usize,
}

/// Sends `total` requests over `concurrency` connections, the URL of
/// request `i` being `url(i)`; every answer must be 2xx or 3xx.
pub async fn load(
    client: &reqwest::Client,
    concurrency: usize,
    total: usize,
    url: impl Fn(usize) -> String + Send + Sync + 'static,
) -> Load {
    let url = std::sync::Arc::new(url);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, next) = (client.clone(), url.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let u = url(i);
                let t = Instant::now();
                let r = client.get(&u).send().await.expect("request");
                let status = r.status();
                let body = r.bytes().await.expect("body");
                lat.push(t.elapsed());
                assert!(
                    status.is_success() || status.is_redirection(),
                    "{u}: {status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
            lat
        }));
    }
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let wall = start.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Load {
        p50: pct(0.50),
        p99: pct(0.99),
        rps: all.len() as f64 / wall.as_secs_f64(),
        requests: all.len(),
    }
}
