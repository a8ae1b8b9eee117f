//! The two layout rules of docs/architecture.md, checked by reading `src/`:
//! domains never import the web layer (axum, askama), the web layer runs no
//! SQL of its own (it calls the domains, so each query is written once), one
//! module writes each table (`OWNERS`: `units` only from `inventory::units`), and no
//! file grows past 600 lines.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, with its path relative to `src/` (`/`-separated).
fn sources() -> Vec<(String, String)> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = relative(&root, &path);
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap();
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The code of a file without its `//` comments (doc comments included), so
/// a comment may name axum or a table.
fn code_of(src: &str) -> String {
    src.lines()
        .map(|l| match l.find("//") {
            // A `//` inside a string (a URL) is rare in these files and
            // harmless: cutting it only hides text from the check.
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Is `path` in a domain folder (anything under `src/` but the web layer,
/// the API, and the top-level files that assemble or serve them; the demo's
/// submodules, like `demo.rs`, assemble a demo and serve its simulated BMCs)?
fn in_domain(path: &str) -> bool {
    path.contains('/')
        && !path.starts_with("web/")
        && !path.starts_with("api/")
        && !path.starts_with("demo/")
}

fn mentions_word(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

#[test]
fn no_domain_folder_imports_axum_or_askama() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(path, _)| in_domain(path))
        .filter(|(_, src)| {
            let code = code_of(src);
            ["axum", "axum_extra", "askama", "askama_web"]
                .iter()
                .any(|w| mentions_word(&code, w))
        })
        .map(|(path, _)| path)
        .collect();
    assert!(
        offenders.is_empty(),
        "domain files that use the web layer (move the handler to src/web/<area>/): {offenders:?}"
    );
}

#[test]
fn the_web_layer_and_the_api_run_no_sql_of_their_own() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(path, _)| path.starts_with("web/") || path.starts_with("api/"))
        .filter(|(_, src)| mentions_word(&code_of(src), "sqlx"))
        .map(|(path, _)| path)
        .collect();
    assert!(
        offenders.is_empty(),
        "pages or API handlers with SQL of their own (call the domain's function instead): {offenders:?}"
    );
}

/// API handlers that answer with axum's `Json` rather than `api::money::Shown`
/// (which removes money for roles without `ViewMoney`): every `Json` in
/// `src/api/` but `money.rs` must be a request body extractor,
/// `Json(input): Json<T>`.
fn json_answers(code: &str) -> Vec<String> {
    code.lines()
        .filter(|l| l.contains("Json"))
        .filter(|l| {
            let extractor = l.contains("): Json<") && l.trim_start().starts_with("Json(");
            let import = l.trim_start().starts_with("use ");
            !extractor && !import
        })
        .map(|l| l.trim().to_owned())
        .collect()
}

#[test]
fn every_api_handler_answers_through_shown() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(path, _)| path.starts_with("api/") && path != "api/money.rs")
        .flat_map(|(path, src)| {
            json_answers(&code_of(&src))
                .into_iter()
                .map(move |l| format!("{path}: {l}"))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "API answers that bypass money hiding (return api::money::Shown instead of Json): {offenders:#?}"
    );
}

/// Longest source file, in lines, before it wants splitting by responsibility.
const MAX_FILE_LINES: usize = 600;

#[test]
fn no_source_file_is_over_600_lines_but_the_demo_data() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter(|(path, _)| path != "demo.rs")
        .filter(|(_, src)| src.lines().count() > MAX_FILE_LINES)
        .map(|(path, src)| format!("{path} ({} lines)", src.lines().count()))
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_FILE_LINES} lines (split them by responsibility): {long:?}"
    );
}

/// Statements that write `table`, found in `code` (lowercased, whitespace folded).
fn writes_table(code: &str, table: &str) -> bool {
    let folded = code
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    [
        format!("insert into {table} "),
        format!("insert into {table}("),
        format!("update {table} "),
        format!("delete from {table} "),
        format!("delete from {table}\""),
    ]
    .iter()
    .any(|s| folded.contains(s.as_str()))
}

/// Who writes each table: the files (or folders, ending in `/`) under
/// `src/` allowed to insert, update or delete its rows. Every other module
/// calls one of their functions. A table created by a migration and missing
/// here fails the test once something writes it.
const OWNERS: &[(&str, &[&str])] = &[
    ("api_tokens", &["auth/"]),
    ("form_submissions", &["auth/"]),
    ("login_throttles", &["auth/"]),
    ("sessions", &["auth/"]),
    ("users", &["auth/"]),
    ("audit_log", &["audit/"]),
    ("assembly_orders", &["inventory/assembly.rs"]),
    ("assets", &["inventory/assets.rs", "inventory/assembly.rs"]),
    (
        "installations",
        &["inventory/assets.rs", "inventory/assembly.rs"],
    ),
    ("build_templates", &["inventory/templates.rs"]),
    ("slot_part_models", &["inventory/templates.rs"]),
    ("template_slots", &["inventory/templates.rs"]),
    ("min_stock", &["inventory/reorder.rs"]),
    ("rmas", &["inventory/rma.rs"]),
    ("stock_locations", &["inventory/locations.rs"]),
    ("units", &["inventory/units/"]),
    ("stock_movements", &["inventory/units/"]),
    ("warranty_terms", &["inventory/warranty.rs"]),
    ("bmcs", &["health/"]),
    ("bmc_serials", &["health/"]),
    ("health_alerts", &["health/"]),
    ("health_events", &["health/"]),
    ("health_latest", &["health/"]),
    ("health_readings", &["health/"]),
    ("cables", &["datacenter/"]),
    ("cable_ends", &["datacenter/"]),
    ("placements", &["datacenter/"]),
    ("ports", &["datacenter/"]),
    ("racks", &["datacenter/"]),
    ("rack_rows", &["datacenter/"]),
    ("rooms", &["datacenter/"]),
    ("sites", &["datacenter/"]),
    ("competitor_prices", &["cost/"]),
    ("competitors", &["cost/"]),
    ("cost_param_classes", &["cost/"]),
    ("cost_param_sites", &["cost/"]),
    ("cost_params", &["cost/"]),
    ("cost_scenarios", &["cost/"]),
    ("instance_types", &["cost/"]),
    ("pricing_tiers", &["cost/"]),
    ("fx_rates", &["procurement/"]),
    ("part_models", &["procurement/"]),
    ("po_costs", &["procurement/"]),
    ("po_lines", &["procurement/"]),
    ("purchase_orders", &["procurement/"]),
    ("receipt_lines", &["procurement/"]),
    ("receipts", &["procurement/"]),
    ("suppliers", &["procurement/"]),
    ("import_batches", &["importers/"]),
    ("import_profiles", &["importers/"]),
    ("stocktake_findings", &["stocktake/"]),
    ("stocktake_scans", &["stocktake/"]),
    ("stocktakes", &["stocktake/"]),
    ("work_order_checks", &["workorders/"]),
    ("work_order_entries", &["workorders/"]),
    ("work_orders", &["workorders/"]),
    ("write_probes", &["db/"]),
];

/// Every table a SQLite migration creates.
fn tables() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let sql = std::fs::read_to_string(entry.unwrap().path())
            .unwrap()
            .to_lowercase();
        for part in sql.split("create table ").skip(1) {
            let name: String = part
                .trim_start_matches("if not exists ")
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn each_table_is_written_by_its_owner_only() {
    let sources = sources();
    let tables = tables();
    assert!(tables.contains(&"units".to_owned()), "{tables:?}");
    let mut offenders = Vec::new();
    for table in &tables {
        let owners = OWNERS
            .iter()
            .find(|(t, _)| t == table)
            .map_or(&[][..], |(_, o)| *o);
        for (path, src) in &sources {
            let owner = owners
                .iter()
                .any(|o| path == o || (o.ends_with('/') && path.starts_with(o)));
            if !owner && writes_table(&code_of(src), table) {
                offenders.push(format!("{path} writes {table} (owners: {owners:?})"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "tables written outside their owner (call the owner's function instead, or name the owner in OWNERS): {offenders:#?}"
    );
}

#[test]
fn the_checks_find_what_they_look_for() {
    // The scanners themselves: a word is whole, web and API files are not
    // domains, a statement split over lines is still a write, a comment is
    // not, a longer table name is another table.
    assert!(writes_table("\"update\n    units set x = 1\"", "units"));
    assert!(writes_table(
        "\"INSERT INTO units (a) values (1)\"",
        "units"
    ));
    assert!(!writes_table(&code_of("// update units set"), "units"));
    assert!(!writes_table("\"update units_seen set x = 1\"", "units"));
    assert!(mentions_word("use axum::Router;", "axum"));
    assert!(!mentions_word("let axum_like = 1;", "axum"));
    assert!(in_domain("inventory/units/mod.rs"));
    assert!(!in_domain("web/inventory/units.rs"));
    assert!(!in_domain("app.rs"));
    assert!(!in_domain("demo/sim.rs"));
    assert!(json_answers("    Json(input): Json<RackInput>,\nuse axum::Json;").is_empty());
    assert_eq!(
        json_answers(") -> AppResult<(StatusCode, Json<Value>)> {\n    Ok(Json(v))"),
        [") -> AppResult<(StatusCode, Json<Value>)> {", "Ok(Json(v))"]
    );
}
