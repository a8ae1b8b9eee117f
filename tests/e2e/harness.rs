//! The browser harness: a `rackledger serve --demo` child on a fresh database,
//! a chromedriver child, a WebDriver client to Debian's Chromium, and the
//! checks every page of a journey must pass.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether the browser lane can run here; panics when CI demands it.
pub fn browser_available() -> bool {
    let there = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !there {
        assert!(
            std::env::var("RACKLEDGER_REQUIRE_BROWSER").is_err(),
            "RACKLEDGER_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing \
             (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "BROWSER JOURNEYS SKIPPED: install Debian's chromium and chromium-driver to run them"
        );
    }
    there
}

/// A child process, started in a process group of its own, killed with its
/// whole group when dropped (chromedriver's Chromium processes too), also
/// when a test panics half way.
struct Reaped(Child);

impl Reaped {
    fn spawn(cmd: &mut Command) -> Reaped {
        use std::os::unix::process::CommandExt;
        Reaped(
            cmd.process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}")),
        )
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads a child's stdout until a line contains `marker`; returns that line.
fn wait_for_line(child: &mut Child, marker: &str, deadline: Duration) -> String {
    let out = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let marker = marker.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.contains(&marker) {
                let _ = tx.send(line);
            }
        }
    });
    rx.recv_timeout(deadline)
        .expect("the child printed its ready line in time")
}

/// One journey's world: server, driver, browser session.
pub struct World {
    pub base: String,
    pub client: Client,
    /// What the server, driver and database directory of this world and its
    /// [`World::sibling`]s hold; the last one dropped reaps them.
    shared: Arc<(Reaped, Reaped, tempfile::TempDir)>,
    driver_port: u16,
    checked_links: BTreeSet<String>,
    shots: PathBuf,
}

/// What [`World::inspect`] found on the current page.
pub struct PageReport {
    /// The HTTP status of the document.
    pub status: u64,
    /// Every failed check, one line each (what, and where on the page).
    pub problems: Vec<String>,
    /// Same-origin links on the page (not logout), without fragments.
    pub links: Vec<String>,
}

/// The checks every page must pass, run in the page in one call.
const PAGE_CHECKS: &str = include_str!("page_checks.js");

impl World {
    /// Starts a server with demo data on a fresh SQLite file, and a browser
    /// window `width` × `height`.
    pub async fn start(width: u32, height: u32) -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Reaped::spawn(
            Command::new(env!("CARGO_BIN_EXE_rackledger"))
                .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
                .current_dir(dir.path())
                .env(
                    "DATABASE_URL",
                    format!("sqlite://{}/e2e.sqlite", dir.path().display()),
                )
                .env("RUST_LOG", "warn")
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        );
        let line = wait_for_line(&mut server.0, "listening on", Duration::from_secs(120));
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("the ready line names the address")
            .to_owned();
        let port = free_port();
        let mut driver = Reaped::spawn(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        wait_for_line(
            &mut driver.0,
            "started successfully",
            Duration::from_secs(30),
        );
        let client = session(port, width, height).await;
        let shots = match std::env::var("RACKLEDGER_SCREENSHOTS").as_deref() {
            Ok("docs") => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots"),
            _ => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"),
        };
        std::fs::create_dir_all(&shots).unwrap();
        World {
            base,
            client,
            shared: Arc::new((server, driver, dir)),
            driver_port: port,
            checked_links: BTreeSet::new(),
            shots,
        }
    }

    /// A second browser session, `width` × `height`, on the same server
    /// and database (not logged in).
    pub async fn sibling(&self, width: u32, height: u32) -> World {
        World {
            base: self.base.clone(),
            client: session(self.driver_port, width, height).await,
            shared: Arc::clone(&self.shared),
            driver_port: self.driver_port,
            checked_links: BTreeSet::new(),
            shots: self.shots.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&self.url(path)).await.unwrap();
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!("{css} on {}: {e}", self.path().await),
        }
    }

    /// The text of `css`; retried while a refreshing page replaces it.
    pub async fn text(&self, css: &str) -> String {
        poll_until(Duration::from_secs(15), css, || async {
            self.find(css).await.text().await.ok()
        })
        .await
    }

    pub async fn path(&self) -> String {
        let u = self.client.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    }

    /// Logs in with the keyboard only: the user name field has focus, Tab
    /// moves to the password, Enter submits.
    pub async fn login_with_keyboard(&mut self, user: &str, password: &str) {
        self.goto("/login").await;
        // autofocus lands once the document is ready, not always before
        // the navigation returns: asked again until a deadline.
        let focused = poll_until(
            Duration::from_secs(10),
            "the login form to start in the user name field",
            || async {
                let el = self.client.active_element().await.ok()?;
                (el.attr("name").await.ok()?.as_deref() == Some("username")).then_some(el)
            },
        )
        .await;
        focused.send_keys(user).await.unwrap();
        focused.send_keys("\u{E004}").await.unwrap(); // Tab
        let pw = self.client.active_element().await.unwrap();
        assert_eq!(pw.attr("name").await.unwrap().as_deref(), Some("password"));
        pw.send_keys(password).await.unwrap();
        pw.send_keys("\u{E007}").await.unwrap(); // Enter
        self.wait_until_path(|p| !p.starts_with("/login")).await;
    }

    /// Marks the current document, so [`World::wait_new_page`] can tell when
    /// the browser has moved on to the next one.
    pub async fn mark_page(&self) {
        self.client
            .execute("document.documentElement.dataset.old = '1'", vec![])
            .await
            .unwrap();
    }

    /// Waits (deadline 15 s) until the marked document has been replaced by a
    /// fully loaded new one.
    pub async fn wait_new_page(&self) {
        poll_until(Duration::from_secs(15), "a new page", || async {
            self.client
                .execute(
                    "return !document.documentElement.dataset.old && document.readyState === 'complete'",
                    vec![],
                )
                .await
                .ok()
                .filter(|v| *v == json!(true))
        })
        .await;
    }

    /// Clicks `css` and waits for the page it leads to.
    pub async fn click_and_wait(&self, css: &str) {
        let target = self.find(css).await;
        self.mark_page().await;
        target.click().await.unwrap();
        self.wait_new_page().await;
    }

    /// Polls the current path until `ok` says yes (deadline 15 s).
    pub async fn wait_until_path(&self, ok: impl Fn(&str) -> bool) -> String {
        poll_until(Duration::from_secs(15), "the expected page", || async {
            Some(self.path().await).filter(|p| ok(p))
        })
        .await
    }

    /// Runs every page check (`page_checks.js`, one call) on the current
    /// page and reads the browser console: the HTTP status, and every
    /// problem found rather than only the first.
    pub async fn inspect(&self) -> PageReport {
        let report = self.client.execute(PAGE_CHECKS, vec![]).await.unwrap();
        let strings = |key: &str| -> Vec<String> {
            report[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut problems = strings("problems");
        problems.extend(
            self.console_errors()
                .await
                .into_iter()
                .map(|e| format!("console error {e}")),
        );
        PageReport {
            status: report["status"].as_u64().unwrap_or(0),
            problems,
            links: strings("links"),
        }
    }

    /// What every page reached must pass: the status expected, and every
    /// check of [`World::inspect`] (no resource that failed to load, no
    /// console error, every form field labelled and reachable with Tab, no
    /// sideways scroll, key table columns in view, controls big enough for
    /// a finger on a phone), and every same-origin link answering below 400.
    pub async fn check_page(&mut self, expect_status: u16) {
        let report = self.inspect().await;
        let page = self.path().await;
        assert_eq!(
            report.status,
            u64::from(expect_status),
            "{page}: HTTP status"
        );
        assert!(report.problems.is_empty(), "{page}: {:#?}", report.problems);
        let fresh: Vec<String> = report
            .links
            .into_iter()
            .filter(|l| !self.checked_links.contains(l))
            .collect();
        if !fresh.is_empty() {
            let statuses = self
                .client
                .execute_async(
                    r#"
const [links, done] = arguments;
Promise.all(links.map(l => fetch(l, { credentials: 'same-origin' })
    .then(r => [l, r.status]).catch(() => [l, 0]))).then(done);
"#,
                    vec![json!(fresh)],
                )
                .await
                .unwrap();
            for pair in statuses.as_array().unwrap() {
                let status = pair[1].as_u64().unwrap_or(0);
                assert!(
                    (200..400).contains(&status),
                    "{page}: broken link {} ({status})",
                    pair[0]
                );
            }
            self.checked_links.extend(fresh);
        }
    }

    /// Browser console messages at level SEVERE since the last call.
    async fn console_errors(&self) -> Vec<String> {
        let log = self.client.issue_cmd(BrowserLog).await.unwrap_or(json!([]));
        log.as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// After a form the server refused on purpose (a wrong scan): the
    /// browser's only complaints are the refusal's `status` (logged as a
    /// failed resource), and they are cleared.
    pub async fn check_refused(&self, status: u16) {
        let errors = self.console_errors().await;
        let said = format!("status of {status}");
        assert!(
            errors.iter().all(|e| e.contains(&said)),
            "console errors {errors:?}"
        );
    }

    /// Saves a screenshot of the whole page as `name.png`.
    pub async fn screenshot(&self, name: &str) {
        let (w, _) = self.client.get_window_size().await.unwrap();
        let h = self
            .client
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(900)
            .clamp(400, 4000);
        self.client
            .set_window_size(w as u32, h as u32)
            .await
            .unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Chromedriver's browser log (`goog:loggingPrefs`), read and cleared.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

/// Asks `probe` again every 50 ms until it answers, failing the test after
/// `within` with `what`: the one place the journeys wait, always on a
/// condition and with a deadline, never for a fixed time.
pub async fn poll_until<T, F, Fut>(within: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        // The interval between probes of a poll with a deadline, not a wait.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A new Chromium session through the chromedriver on `port`, its page
/// `width` × `height` CSS px (a phone emulated below 600).
async fn session(port: u16, width: u32, height: u32) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-extensions", "--no-first-run",
                     "--disable-sync", "--lang=en-US", format!("--window-size={width},{height}")],
            "prefs": {"intl.accept_languages": "en-US,en"},
            // Chromium's window is never narrower than 500 px: a phone's
            // width is emulated instead, so a page at 390 is at 390.
            "mobileEmulation": {"deviceMetrics": {"width": width, "height": height,
                "pixelRatio": 1.0, "touch": width < 600, "mobile": width < 600}}
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    // rustls is built with ring (the Redfish client) and fantoccini's
    // hyper-rustls may bring another provider: name the one to use.
    let _ = rustls::crypto::ring::default_provider().install_default();
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
