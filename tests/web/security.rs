//! Hardening (issue #9): every route refuses callers without a session, every
//! state change refuses a request without the CSRF token, a viewer reaches no
//! write, and a BMC password never comes back out (pages, API, audit, exports,
//! logs, database rows).
//!
//! The page routes are listed here by hand and the list is checked against
//! the `.route("…")` calls in `src/` at test time, so a new route without
//! coverage fails `page_route_list_matches_the_source`. API routes come from
//! the OpenAPI document, which lists every one of them.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex};

use axum_test::TestResponse;
use rackledger::on;
use scraper::{Html, Selector};

use crate::app::{TestApp, add_asset, with_master_key};
use crate::support::{backends, table_names, table_rows};

/// Routes anyone may call.
const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/lang"),
    ("GET", "/static/{*file}"),
    ("GET", "/favicon.ico"),
];

/// Every `.route("…")` in `src/`, with its methods.
pub(crate) const PAGES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/metrics"),
    ("GET", "/search"),
    ("POST", "/logout"),
    ("GET", "/account"),
    ("POST", "/account/preferences"),
    ("POST", "/account/password"),
    ("GET", "/account/site"),
    ("POST", "/account/site"),
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("GET", "/admin/users/{id}"),
    ("POST", "/admin/users/{id}"),
    ("GET", "/admin/tokens"),
    ("POST", "/admin/tokens"),
    ("GET", "/admin/tokens/{id}/revoke"),
    ("POST", "/admin/tokens/{id}/revoke"),
    ("GET", "/admin/logins"),
    ("GET", "/admin/logins/{id}/clear"),
    ("POST", "/admin/logins/{id}/clear"),
    ("GET", "/admin/audit"),
    ("GET", "/labels"),
    ("GET", "/labels/assets/{file}"),
    ("GET", "/labels/units/{file}"),
    ("GET", "/procurement/reports"),
    ("GET", "/procurement/reports/{file}"),
    ("GET", "/procurement/suppliers"),
    ("POST", "/procurement/suppliers"),
    ("GET", "/procurement/suppliers/{id}"),
    ("POST", "/procurement/suppliers/{id}"),
    ("GET", "/procurement/parts"),
    ("POST", "/procurement/parts"),
    ("GET", "/procurement/parts/{id}"),
    ("POST", "/procurement/parts/{id}"),
    ("GET", "/procurement/orders"),
    ("POST", "/procurement/orders"),
    ("GET", "/procurement/orders/{id}"),
    ("GET", "/procurement/orders/{id}/history"),
    ("POST", "/procurement/orders/{id}/lines"),
    ("POST", "/procurement/orders/{id}/costs"),
    ("POST", "/procurement/orders/{id}/costs/{cost}/delete"),
    ("POST", "/procurement/orders/{id}/lines/{line}/delete"),
    ("POST", "/procurement/orders/{id}/status"),
    ("POST", "/procurement/orders/{id}/receipts"),
    ("GET", "/procurement/rates"),
    ("POST", "/procurement/rates"),
    ("POST", "/procurement/rates/import"),
    ("GET", "/procurement/imports"),
    ("POST", "/procurement/imports"),
    ("GET", "/procurement/imports/{id}"),
    ("POST", "/procurement/imports/{id}/commit"),
    ("POST", "/procurement/imports/{id}/discard"),
    ("POST", "/procurement/imports/profiles"),
    ("GET", "/inventory/locations"),
    ("POST", "/inventory/locations"),
    ("GET", "/inventory/units"),
    ("GET", "/inventory/units/{id}"),
    ("GET", "/inventory/units/{id}/history"),
    ("POST", "/inventory/units/{id}/faulty"),
    ("POST", "/inventory/units/{id}/scrap"),
    ("GET", "/inventory/transfers"),
    ("POST", "/inventory/transfers"),
    ("GET", "/inventory/stock"),
    ("GET", "/inventory/reorder"),
    ("POST", "/inventory/reorder"),
    ("GET", "/inventory/warranty"),
    ("POST", "/inventory/warranty"),
    ("GET", "/inventory/rma"),
    ("POST", "/inventory/rma"),
    ("POST", "/inventory/rma/{id}"),
    ("GET", "/inventory/templates"),
    ("POST", "/inventory/templates"),
    ("GET", "/inventory/templates/{id}"),
    ("GET", "/inventory/templates/{id}/edit"),
    ("POST", "/inventory/templates/{id}/edit"),
    ("GET", "/inventory/assembly"),
    ("POST", "/inventory/assembly"),
    ("GET", "/inventory/assembly/{id}"),
    ("POST", "/inventory/assembly/{id}/complete"),
    ("POST", "/inventory/assembly/{id}/cancel"),
    ("POST", "/inventory/assembly/{id}/choose"),
    ("GET", "/inventory/assets"),
    ("GET", "/inventory/assets/{id}"),
    ("GET", "/inventory/assets/{id}/history"),
    ("GET", "/inventory/assets/{id}/readings"),
    ("POST", "/inventory/assets/{id}/swap"),
    ("GET", "/health"),
    ("GET", "/health/bmcs"),
    ("POST", "/health/assets/{id}/bmc"),
    ("POST", "/health/assets/{id}/bmc/delete"),
    ("POST", "/health/assets/{id}/poll"),
    ("POST", "/health/assets/{id}/accept"),
    ("POST", "/health/demo/dimm-failure"),
    ("POST", "/health/demo/dimm-restore"),
    ("GET", "/datacenter/audits"),
    ("POST", "/datacenter/audits"),
    ("GET", "/datacenter/audits/{id}"),
    ("POST", "/datacenter/audits/{id}/scan"),
    ("POST", "/datacenter/audits/{id}/finish"),
    ("POST", "/datacenter/audits/{id}/findings/{fid}/fix"),
    ("POST", "/datacenter/audits/{id}/findings/{fid}/workorder"),
    ("GET", "/datacenter/netbox"),
    ("POST", "/datacenter/netbox"),
    ("GET", "/datacenter/netbox/{file}"),
    ("GET", "/datacenter"),
    ("POST", "/datacenter"),
    ("GET", "/datacenter/racks/{id}"),
    ("GET", "/datacenter/racks/{id}/history"),
    ("POST", "/datacenter/racks/{id}/usable-u"),
    ("GET", "/datacenter/place/{asset_id}"),
    ("POST", "/datacenter/place/{asset_id}"),
    ("POST", "/datacenter/cables"),
    ("POST", "/datacenter/cables/{id}/disconnect"),
    ("POST", "/datacenter/cables/{id}/move"),
    ("GET", "/workorders"),
    ("POST", "/workorders"),
    ("GET", "/workorders/new"),
    ("GET", "/workorders/{id}"),
    ("POST", "/workorders/{id}/checks/{check_id}"),
    ("POST", "/workorders/{id}/status"),
    ("POST", "/workorders/{id}/assign"),
    ("POST", "/workorders/{id}/cancel"),
    ("POST", "/workorders/{id}/complete"),
    ("POST", "/workorders/{id}/no-fault"),
    ("POST", "/workorders/reconcile/{asset_id}"),
    ("GET", "/cost"),
    ("GET", "/cost/assets"),
    ("GET", "/cost/reports"),
    ("GET", "/cost/reports/{file}"),
    ("GET", "/cost/reports/{day}/{scenario}/{file}"),
    ("GET", "/cost/scenarios"),
    ("POST", "/cost/scenarios"),
    ("GET", "/cost/scenarios/{id}"),
    ("GET", "/cost/params"),
    ("POST", "/cost/params"),
    ("GET", "/cost/pricing"),
    ("POST", "/cost/tiers"),
    ("GET", "/cost/competitors"),
    ("POST", "/cost/competitors"),
    ("POST", "/cost/instance-types"),
];

/// Every route the source declares with `.route("path", method(..)…)`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                scan_routes(&std::fs::read_to_string(&path).unwrap(), &mut found);
            }
        }
    }
    found
}

fn scan_routes(src: &str, found: &mut BTreeSet<(String, String)>) {
    for (start, _) in src.match_indices(".route(") {
        let open = start + ".route".len();
        // The whole call, up to its matching parenthesis.
        let mut depth = 0;
        let mut end = open;
        for (i, c) in src[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let call = &src[open + 1..end];
        let rest = call.trim_start();
        let Some(rest) = rest.strip_prefix('"') else {
            panic!("a .route( call without a literal path: {call}");
        };
        let (path, handlers) = rest.split_once('"').unwrap();
        for method in ["get", "post", "put", "delete", "patch"] {
            let needle = format!("{method}(");
            let used = handlers.match_indices(&needle).any(|(i, _)| {
                i == 0 || {
                    let b = handlers.as_bytes()[i - 1];
                    !(b.is_ascii_alphanumeric() || b == b'_')
                }
            });
            if used {
                found.insert((method.to_uppercase(), path.to_owned()));
            }
        }
    }
}

#[test]
fn page_route_list_matches_the_source() {
    let listed: BTreeSet<(String, String)> = PAGES
        .iter()
        .chain(PUBLIC)
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let source = routes_in_source();
    let missing: Vec<_> = source.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&source).collect();
    assert!(
        missing.is_empty(),
        "routes in src/ that tests/web/security.rs does not cover (add them to PAGES or PUBLIC): {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "routes in tests/web/security.rs that src/ no longer declares: {stale:?}"
    );
}

/// Every API route from the OpenAPI document, as (method, `/api/v1/...`).
fn api_routes() -> Vec<(&'static str, String)> {
    let doc = rackledger::api::openapi();
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        let full = format!("/api/v1{path}");
        for (m, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
        ] {
            if op.is_some() {
                out.push((m, full.clone()));
            }
        }
    }
    assert!(out.len() > 40, "the OpenAPI document lists the API routes");
    out
}

/// Fills path parameters with something that parses.
fn fill(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{*file}" => "app.css",
            "{file}" => "assets.csv",
            s if s.starts_with('{') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every non-public route: pages and API, with placeholders filled.
pub(crate) fn protected_routes() -> Vec<(&'static str, String)> {
    let mut all: Vec<(&'static str, String)> = PAGES.iter().map(|(m, p)| (*m, fill(p))).collect();
    all.extend(api_routes().into_iter().map(|(m, p)| (m, fill(&p))));
    all.push(("GET", "/api/v1/openapi.json".to_owned()));
    all.push(("GET", "/api/v1/docs/".to_owned()));
    all
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/metrics"
}

async fn send(app: &TestApp, method: &str, path: &str, csrf: Option<&str>) -> TestResponse {
    let s = &app.server;
    let req = match method {
        "GET" => s.get(path),
        "POST" => s.post(path),
        "PUT" => s.put(path),
        "DELETE" => s.delete(path),
        "PATCH" => s.patch(path),
        other => panic!("method {other}"),
    };
    let req = if method == "GET" {
        req
    } else if is_api(path) {
        req.json(&serde_json::json!({}))
    } else {
        let mut form = vec![("name", "x")];
        if let Some(t) = csrf {
            form.push(("_csrf", t));
        }
        req.form(&form)
    };
    match csrf {
        Some(t) if is_api(path) => req.add_header("x-csrf-token", t),
        _ => req,
    }
    .await
}

/// Row counts of every table but sessions (logging in writes one).
async fn table_counts(app: &TestApp) -> Vec<(String, i64)> {
    let tables = table_names(&app.db).await;
    let mut out = Vec::new();
    for t in tables {
        if t == "sessions" || t.starts_with("_sqlx") {
            continue;
        }
        let sql = format!("select count(*) from {t}");
        let n: i64 = on!(&app.db, |p| {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .fetch_one(p)
                .await
        })
        .unwrap();
        out.push((t, n));
    }
    out
}

#[tokio::test]
async fn every_protected_route_refuses_a_caller_without_a_session() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let mut wrong = Vec::new();
        for (method, path) in protected_routes() {
            let r = send(&app, method, &path, None).await;
            let status = r.status_code().as_u16();
            let ok = if is_api(&path) {
                status == 401 && r.maybe_header("www-authenticate").is_some()
            } else if method == "GET" {
                status == 303 && r.header("location").to_str().unwrap().starts_with("/login")
            } else {
                // A form post without a session fails the CSRF check (there is
                // no pre-login cookie either) before the login check.
                status == 403
            };
            if !ok {
                wrong.push(format!("{method} {path} -> {status}"));
            }
        }
        assert!(
            wrong.is_empty(),
            "{backend:?}: without a session these did not refuse: {wrong:#?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn every_state_change_without_the_csrf_token_is_refused() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        // Public writes: the login form and the language switch.
        for path in ["/login", "/lang"] {
            let r = app.server.post(path).form(&[("lang", "ko")]).await;
            assert_eq!(r.status_code(), 403, "{backend:?} POST {path}");
        }
        app.login("admin", "rackledger-admin").await;
        let before = table_counts(&app).await;
        let mut wrong = Vec::new();
        for (method, path) in protected_routes() {
            if method == "GET" {
                continue;
            }
            for token in [None, Some("not-the-token")] {
                let r = send(&app, method, &path, token).await;
                if r.status_code() != 403 {
                    wrong.push(format!(
                        "{method} {path} token={token:?} -> {}",
                        r.status_code()
                    ));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{backend:?}: accepted without a valid CSRF token: {wrong:#?}"
        );
        // Still logged in: the refused logout did not log us out.
        assert_eq!(app.server.get("/account").await.status_code(), 200);
        assert_eq!(
            before,
            table_counts(&app).await,
            "{backend:?}: nothing written"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_viewer_reaches_no_write() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("guest", "rackledger-guest").await;
        let before = table_counts(&app).await;
        let mut wrong = Vec::new();
        for (method, path) in protected_routes() {
            // Their own account and session are the viewer's to change.
            if method == "GET" || path.starts_with("/account/") || path == "/logout" {
                continue;
            }
            let r = send(&app, method, &path, Some(&csrf)).await;
            // Refused before the body is read: even a malformed body gets 403.
            if r.status_code() != 403 {
                wrong.push(format!("{method} {path} -> {}", r.status_code()));
            }
        }
        assert!(
            wrong.is_empty(),
            "{backend:?}: a viewer was not refused with 403: {wrong:#?}"
        );
        assert_eq!(
            before,
            table_counts(&app).await,
            "{backend:?}: a viewer's writes changed nothing"
        );
        app.finish().await;
    }
}

/// A `MakeWriter` that keeps everything logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Everything this test binary logs from now on, at DEBUG and above. A
/// process-wide subscriber rather than a scoped one: tracing caches callsite
/// interest globally, so a scoped subscriber misses events when other tests
/// run on other threads.
fn global_log_capture() -> Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other test installs a global subscriber");
        logs
    })
    .clone()
}

/// The text of a response; XLSX (zip) bodies are unpacked first.
fn body_text(r: &TestResponse) -> String {
    let bytes = r.as_bytes();
    if bytes.starts_with(b"PK") {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let mut all = String::new();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).unwrap();
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut f, &mut s);
            all.push_str(&s);
        }
        all
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// Every row of every table as text.
async fn every_row_as_text(app: &TestApp) -> String {
    table_rows(&app.db)
        .await
        .into_values()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_bmc_password_never_appears_in_responses_logs_exports_or_rows() {
    const PAGE_PW: &str = "PagePw-7f3c1e9a";
    const API_PW: &str = "ApiPw-2b8d4f60";
    let logs = global_log_capture();
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = TestApp::start_with(backend, with_master_key(&dir)).await;
        let asset = add_asset(&app.db, "SEC-1").await;
        let other = add_asset(&app.db, "SEC-2").await;
        let csrf = app.login("tech", "rackledger-tech").await;
        let r = app
            .post_form(
                &format!("/health/assets/{asset}/bmc"),
                &csrf,
                &[
                    ("url", "https://127.0.0.1:9/redfish/v1"),
                    ("username", "root"),
                    ("password", PAGE_PW),
                    ("tls_policy", "insecure"),
                    ("ca_cert_pem", ""),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let r = app
            .server
            .put(&format!("/api/v1/assets/{other}/bmc"))
            .add_header("x-csrf-token", &csrf)
            .json(&serde_json::json!({
                "url": "https://127.0.0.1:9",
                "username": "admin",
                "password": API_PW,
                "tls_policy": "insecure",
            }))
            .await;
        assert_eq!(r.status_code(), 200, "{backend:?}: {}", r.text());
        assert!(!r.text().contains(API_PW));
        // A save with a bad field echoes the form back: without the password.
        let r = app
            .post_form(
                &format!("/health/assets/{asset}/bmc"),
                &csrf,
                &[
                    ("url", "not a url"),
                    ("username", "root"),
                    ("password", PAGE_PW),
                    ("tls_policy", "insecure"),
                    ("ca_cert_pem", ""),
                ],
            )
            .await;
        assert!(!r.text().contains(PAGE_PW), "{backend:?}: echoed form");

        // As admin, who sees everything: every GET route, then every link.
        app.login("admin", "rackledger-admin").await;
        let mut queue: Vec<String> = PAGES
            .iter()
            .filter(|(m, _)| *m == "GET")
            .map(|(_, p)| fill(p))
            .chain(
                api_routes()
                    .into_iter()
                    .filter(|(m, _)| *m == "GET")
                    .map(|(_, p)| fill(&p)),
            )
            .collect();
        for id in [asset, other] {
            queue.push(format!("/inventory/assets/{id}"));
            queue.push(format!("/api/v1/assets/{id}"));
            queue.push(format!("/api/v1/assets/{id}/health"));
        }
        queue.push("/api/v1/audit?per_page=500".to_owned());
        queue.push("/admin/audit?per_page=500".to_owned());
        let link = Selector::parse("a[href]").unwrap();
        let mut seen = BTreeSet::new();
        let mut leaks = Vec::new();
        while let Some(path) = queue.pop() {
            if !seen.insert(path.clone()) || seen.len() > 600 {
                continue;
            }
            let r = app.server.get(&path).await;
            let body = body_text(&r);
            for pw in [PAGE_PW, API_PW] {
                if body.contains(pw) {
                    leaks.push(format!("GET {path}"));
                }
            }
            if r.status_code() != 200 || body.starts_with('{') || body.starts_with('[') {
                continue;
            }
            for a in Html::parse_document(&body).select(&link) {
                let href = a.value().attr("href").unwrap_or_default();
                if href.starts_with('/')
                    && !href.starts_with("//")
                    && !href.starts_with("/static/")
                    && !href.starts_with("/api/v1/docs")
                {
                    queue.push(href.split('#').next().unwrap_or_default().to_owned());
                }
            }
        }
        assert!(seen.len() > 80, "{backend:?}: crawled {} pages", seen.len());
        assert!(
            seen.iter()
                .any(|p| p.contains("/reports/") && p.ends_with(".xlsx"))
        );
        assert!(
            seen.iter()
                .any(|p| p.contains("/reports/") && p.ends_with(".csv"))
        );
        assert!(leaks.is_empty(), "{backend:?}: password in {leaks:?}");
        let rows = every_row_as_text(&app).await;
        assert!(rows.contains("SEC-1"), "the row dump reads the tables");
        for pw in [PAGE_PW, API_PW] {
            assert!(!rows.contains(pw), "{backend:?}: {pw} stored in plaintext");
        }
        app.finish().await;
    }
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logged.contains("/health/assets/{id}/bmc"),
        "the log capture sees the requests"
    );
    for pw in [PAGE_PW, API_PW] {
        assert!(!logged.contains(pw), "{pw} was logged");
    }
}
