//! Every page the demo's users can reach, at a desk (1366x768) and on a
//! phone (390x844): a breadth-first crawl of same-origin GET links from `/`
//! for each demo role, running the harness's page checks (no sideways
//! scroll, key table columns in view, 44 px controls on a phone, ...) on
//! each page at both sizes, and failing with the whole list of problems.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::harness::{PageReport, World, browser_available};

/// Pages visited per role at most (each at both sizes): enough for every
/// page pattern the demo links to, quick enough for CI on two cores.
const MAX_PAGES_PER_ROLE: usize = 80;
/// Concrete records visited per path pattern (`/racks/{id}`) by the first
/// role; the others, who mostly see the same pages, visit one.
const IDS_PER_PATTERN: usize = 2;

/// `/inventory/units/17/edit` → `/inventory/units/{id}/edit`.
fn pattern(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the crawl follows `path` (no query): not logging out, no
/// downloads, no API or static files.
fn followable(path: &str) -> bool {
    const SKIP_PREFIX: [&str; 4] = ["/logout", "/api/", "/static/", "/favicon"];
    const SKIP_SUFFIX: [&str; 6] = [".csv", ".xlsx", ".pdf", ".svg", ".png", ".zip"];
    !SKIP_PREFIX.iter().any(|p| path.starts_with(p))
        && !SKIP_SUFFIX.iter().any(|s| path.ends_with(s))
}

/// What the crawl has let into its queue: per path pattern the concrete
/// paths and whether a query-string variant was taken.
struct Frontier {
    ids_per_pattern: usize,
    seen: BTreeSet<String>,
    ids: BTreeMap<String, BTreeSet<String>>,
    queried: BTreeSet<String>,
}

impl Frontier {
    fn new(ids_per_pattern: usize) -> Frontier {
        Frontier {
            ids_per_pattern,
            seen: BTreeSet::new(),
            ids: BTreeMap::new(),
            queried: BTreeSet::new(),
        }
    }

    /// Whether `link` (an absolute URL) is new and within the limits; if so
    /// it is recorded and returned as path plus query.
    fn admit(&mut self, base: &str, link: &str) -> Option<String> {
        let rest = link.strip_prefix(base)?;
        let url = url::Url::parse(link).ok()?;
        let path = url.path();
        if !followable(path) {
            return None;
        }
        if let Some(q) = url.query()
            && (q.contains("format=") || q.contains("export"))
        {
            return None;
        }
        if self.seen.contains(rest) {
            return None;
        }
        let pat = pattern(path);
        let ids = self.ids.entry(pat.clone()).or_default();
        if !ids.contains(path) && ids.len() >= self.ids_per_pattern {
            return None;
        }
        if url.query().is_some() {
            if self.queried.contains(&pat) {
                return None;
            }
            self.queried.insert(pat);
        }
        ids.insert(path.to_owned());
        self.seen.insert(rest.to_owned());
        Some(rest.to_owned())
    }
}

/// Crawls as `user` in both windows; returns the pages visited and adds
/// every problem found to `problems`.
async fn crawl(
    desk: &mut World,
    phone: &mut World,
    (user, password): (&str, &str),
    ids_per_pattern: usize,
    problems: &mut Vec<String>,
) -> Vec<String> {
    for w in [&mut *desk, &mut *phone] {
        w.client.delete_all_cookies().await.unwrap();
        w.login_with_keyboard(user, password).await;
    }
    let mut frontier = Frontier::new(ids_per_pattern);
    let mut queue = VecDeque::new();
    queue.extend(frontier.admit(&desk.base.clone(), &desk.url("/")));
    let mut visited = Vec::new();
    while let Some(page) = queue.pop_front() {
        if visited.len() >= MAX_PAGES_PER_ROLE {
            break;
        }
        visited.push(page.clone());
        // Both windows load the page at once: two renderers, one server.
        let (on_desk, on_phone) = tokio::join!(visit(desk, &page), visit(phone, &page));
        for (size, (report, landed)) in [("1366", &on_desk), ("390", &on_phone)] {
            if report.status != 200 {
                problems.push(format!("{user} {page} @{size}: HTTP {}", report.status));
            }
            if landed.starts_with("/login") {
                problems.push(format!("{user} {page} @{size}: sent to the login page"));
            }
            problems.extend(
                report
                    .problems
                    .iter()
                    .map(|p| format!("{user} {page} @{size}: {p}")),
            );
        }
        let base = desk.base.clone();
        queue.extend(
            on_desk
                .0
                .links
                .iter()
                .filter_map(|l| frontier.admit(&base, l)),
        );
    }
    visited
}

/// Loads `page` and inspects it; returns the report and the path landed on.
async fn visit(w: &World, page: &str) -> (PageReport, String) {
    w.goto(page).await;
    let report = w.inspect().await;
    (report, w.path().await)
}

#[tokio::test]
async fn every_page_fits_a_desk_and_a_phone_for_every_role() {
    if !browser_available() {
        return;
    }
    let mut desk = World::start(1366, 768).await;
    let mut phone = desk.sibling(390, 844).await;
    let mut problems = Vec::new();
    let mut total = 0;
    for (i, (user, _role, password)) in rackledger::demo::DEMO_USERS.into_iter().enumerate() {
        let ids = if i == 0 { IDS_PER_PATTERN } else { 1 };
        let pages = crawl(&mut desk, &mut phone, (user, password), ids, &mut problems).await;
        eprintln!(
            "crawled as {user}: {} pages: {}",
            pages.len(),
            pages.join(" ")
        );
        total += pages.len();
    }
    assert!(total >= 25, "the crawl reached only {total} pages");
    phone.close().await;
    desk.close().await;
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_crawl_keeps_two_records_and_one_query_per_pattern() {
    let base = "http://h";
    let mut f = Frontier::new(IDS_PER_PATTERN);
    let got: Vec<_> = [
        "/racks/1",
        "/racks/2",
        "/racks/3",
        "/racks/1",
        "/racks?q=a",
        "/racks?q=b",
        "/racks",
        "/logout",
        "/x.csv",
        "/api/v1/x",
        "/units?format=csv",
    ]
    .iter()
    .filter_map(|p| f.admit(base, &format!("{base}{p}")))
    .collect();
    assert_eq!(got, ["/racks/1", "/racks/2", "/racks?q=a", "/racks"]);
}
