//! What every list page shares: its filters, sort and page read from the
//! query string and written back into every link (so a list is shareable
//! and bookmarkable), sortable column headers, and the CSV/XLSX download of
//! all matching rows.

use axum::response::Response;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::db::Sort;
use crate::error::{AppError, AppResult};
use crate::export::{self, Cell, Table};
use crate::i18n::Msg;
use crate::web::pager::DEFAULT_PER_PAGE;
use crate::web::{Ctx, Pager};

/// Most rows one download holds (an XLSX sheet holds 1,048,576).
pub const EXPORT_CAP: i64 = 1_000_000;

/// What every list reads from its query string besides its own filters
/// (flattened into the list's query struct): the sort, the page and rows
/// per page (read by [`crate::web::pager::lenient`], so any number is
/// clamped, never refused) and `download`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ListParams {
    /// `name` or `-name`.
    pub sort: Option<String>,
    /// Page number, from 1.
    #[serde(default, deserialize_with = "crate::web::pager::lenient")]
    pub page: Option<i64>,
    /// Rows per page, 1-500.
    #[serde(default, deserialize_with = "crate::web::pager::lenient")]
    pub per_page: Option<i64>,
    /// `csv` or `xlsx`.
    pub download: Option<String>,
}

/// A list's state from its URL: the path, the filters as given, the sort
/// and the page; `download` (`csv`/`xlsx`) asks for the rows as a file.
#[derive(Clone, Debug)]
pub struct ListState {
    /// The list's path, e.g. `/inventory/units`.
    pub path: &'static str,
    /// The filters kept in every link, in order (empty ones dropped).
    pub filters: Vec<(String, String)>,
    /// The sort (already checked against the list's columns).
    pub sort: Sort,
    /// The page.
    pub pager: Pager,
    /// `csv` or `xlsx` for a download.
    pub download: Option<String>,
}

impl ListState {
    /// `path` with `filters` (blank values dropped), the sort of `params`
    /// (`name` or `-name`; kept only when a key of `columns`), its page,
    /// rows per page and download.
    pub fn new(
        path: &'static str,
        filters: &[(&str, &str)],
        columns: &[(&str, &str)],
        params: &ListParams,
    ) -> ListState {
        ListState {
            path,
            filters: filters
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| ((*k).to_owned(), v.trim().to_owned()))
                .collect(),
            sort: Sort::parse(params.sort.as_deref().unwrap_or_default()).known(columns),
            pager: Pager {
                page: params.page.unwrap_or(1),
                per_page: params.per_page.unwrap_or(DEFAULT_PER_PAGE),
            },
            download: params.download.clone(),
        }
    }

    /// Limit and offset: one page, or every row (up to the cap) for a download.
    pub fn window(&self) -> (i64, i64) {
        if self.download.is_some() {
            (EXPORT_CAP + 1, 0)
        } else {
            (self.pager.limit(), self.pager.offset())
        }
    }

    fn url(&self, sort: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .filters
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if !sort.is_empty() {
            pairs.push(("sort", sort));
        }
        let per_page = self.pager.limit().to_string();
        if self.pager.limit() != DEFAULT_PER_PAGE {
            pairs.push(("per_page", &per_page));
        }
        pairs.extend_from_slice(extra);
        let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if q.is_empty() {
            self.path.to_owned()
        } else {
            format!("{}?{q}", self.path)
        }
    }

    /// The pager's base: filters and sort, ending in `?` or `&`.
    pub fn base(&self) -> String {
        let u = self.url(&self.sort.param(), &[]);
        if u.contains('?') {
            format!("{u}&")
        } else {
            format!("{u}?")
        }
    }

    /// Where a click on column `key`'s header goes: ascending, or
    /// descending when it is already ascending; back to page 1.
    pub fn sort_href(&self, key: &str) -> String {
        let next = if self.sort.key == key && !self.sort.desc {
            format!("-{key}")
        } else {
            key.to_owned()
        };
        self.url(&next, &[])
    }

    /// `aria-sort` of column `key`.
    pub fn aria_sort(&self, key: &str) -> &'static str {
        match (self.sort.key == key, self.sort.desc) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }

    /// The download link of the list as shown (filters and sort), as `ext`.
    pub fn download_href(&self, ext: &str) -> String {
        self.url(&self.sort.param(), &[("download", ext)])
    }

    /// When the page asked for is past the last one of `total` rows (and
    /// there are rows): what to say and the link to the last page.
    pub fn past_end(&self, total: i64) -> Option<(Msg, String)> {
        let last = self.pager.pages(total);
        let page = self.pager.page();
        (total > 0 && page > last).then(|| {
            (
                Msg::new("list3.past_end")
                    .arg("page", page)
                    .arg("last", last),
                format!("{}page={last}", self.base()),
            )
        })
    }

    /// The filter value of `key`, or empty.
    pub fn filter(&self, key: &str) -> &str {
        self.filters
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The rows as a download named `{stem}-{today}.{ext}` (today in the
/// user's time zone): a header row first, then every row; more rows than
/// [`EXPORT_CAP`] is refused with a message to narrow the filter. The file
/// is built in memory: XLSX always (a workbook is written whole), CSV of
/// the small lists; a long list streams its CSV with [`download_rows`].
pub fn download(ctx: &Ctx, table: &Table, ext: &str, stem: &str) -> AppResult<Response> {
    if i64::try_from(table.rows.len()).unwrap_or(i64::MAX) > EXPORT_CAP {
        return Err(too_many());
    }
    export::titled_attachment(table, ext, &file_stem(ctx, stem), None)
}

fn too_many() -> AppError {
    AppError::Conflict(Msg::new("list2.too_many_rows").arg("max", EXPORT_CAP))
}

/// `{stem}-{today}`, today's date in the user's time zone.
fn file_stem(ctx: &Ctx, stem: &str) -> String {
    let now = crate::clock::now();
    let day = jiff::Timestamp::from_second(now.unix_timestamp())
        .map(|ts| ts.to_zoned(zone(ctx)).date().to_string())
        .unwrap_or_else(|_| now.date().to_string());
    format!("{stem}-{day}")
}

fn zone(ctx: &Ctx) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&ctx.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// A time as a download shows it: in the user's time zone, to the second
/// (`2026-12-08 09:15:02`); the column's header names the zone
/// ([`zoned_header`]).
pub fn zoned_time(ctx: &Ctx, t: &OffsetDateTime) -> String {
    match jiff::Timestamp::from_second(t.unix_timestamp()) {
        Ok(ts) => ts
            .to_zoned(zone(ctx))
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => t.to_string(),
    }
}

/// The header of a time column: its label and the user's time zone,
/// `Received (Asia/Seoul)`.
pub fn zoned_header(ctx: &Ctx, key: &str) -> String {
    ctx.msg(
        &Msg::new("list3.in_zone")
            .arg("label", ctx.t(key))
            .arg("zone", zone(ctx).iana_name().unwrap_or("UTC")),
    )
}

/// Rows a streamed CSV download fetches and writes at a time.
pub const CHUNK: i64 = 2000;

/// One chunk of a streamed download: `limit` rows from `offset` as cells,
/// and how many rows match in all.
pub type ChunkFuture = BoxFuture<'static, AppResult<(Vec<Vec<Cell>>, i64)>>;

/// The list as a download of the rows `fetch(limit, offset)` gives (cells
/// matching `headers`). An XLSX is fetched whole and built in memory (a
/// workbook is written at once), up to [`EXPORT_CAP`] rows. A CSV streams:
/// `fetch` is called for [`CHUNK`] rows at a time (in the list's order,
/// whose last key is unique, so chunks neither overlap nor skip), and each
/// chunk is written to the response as it comes, so memory does not grow
/// with the rows. The first chunk is fetched before answering, so a failure
/// or more rows than [`EXPORT_CAP`] is an error page, not a cut file; a
/// failure later ends the body early (the client sees an incomplete file).
pub async fn download_rows<F>(
    ctx: &Ctx,
    list: &ListState,
    stem: &str,
    headers: Vec<String>,
    fetch: F,
) -> AppResult<Response>
where
    F: Fn(i64, i64) -> ChunkFuture + Send + Sync + 'static,
{
    match list.download.as_deref() {
        Some("csv") => {}
        Some("xlsx") => {
            let (rows, _) = fetch(EXPORT_CAP + 1, 0).await?;
            let name = stem.to_owned();
            return download(
                ctx,
                &Table {
                    name,
                    headers,
                    rows,
                },
                "xlsx",
                stem,
            );
        }
        _ => return Err(AppError::NotFound),
    }
    use axum::http::header;
    use axum::response::IntoResponse;
    let (first, total) = fetch(CHUNK, 0).await?;
    if total > EXPORT_CAP {
        return Err(too_many());
    }
    let mut head = Vec::from("\u{feff}".as_bytes());
    head.extend(export::csv_rows(std::iter::once(
        headers.into_iter().map(Cell::Text).collect(),
    ))?);
    let more = i64::try_from(first.len()).unwrap_or(0) == CHUNK;
    head.extend(export::csv_rows(first)?);
    let rest = futures_util::stream::unfold((CHUNK, more), move |(offset, more)| {
        let next = more.then(|| fetch(CHUNK, offset));
        async move {
            let (rows, _) = match next?.await {
                Ok(chunk) => chunk,
                Err(e) => {
                    tracing::warn!(error = %e, "a streamed download stopped");
                    return Some((
                        Err(std::io::Error::other("download stopped")),
                        (offset, false),
                    ));
                }
            };
            let n = i64::try_from(rows.len()).unwrap_or(0);
            let bytes = export::csv_rows(rows).map_err(std::io::Error::other);
            Some((bytes.map(bytes::Bytes::from), (offset + n, n == CHUNK)))
        }
    });
    let body = futures_util::stream::once(async move { Ok(bytes::Bytes::from(head)) }).chain(rest);
    let disposition = format!("attachment; filename=\"{}.csv\"", file_stem(ctx, stem));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_filters_and_sort() {
        let cols: &[(&str, &str)] = &[("serial", "u.serial")];
        let params = ListParams {
            sort: Some("serial".into()),
            page: Some(3),
            ..ListParams::default()
        };
        let s = ListState::new(
            "/inventory/units",
            &[("q", "ab c"), ("status", "")],
            cols,
            &params,
        );
        assert_eq!(s.base(), "/inventory/units?q=ab+c&sort=serial&");
        assert_eq!(
            s.sort_href("serial"),
            "/inventory/units?q=ab+c&sort=-serial"
        );
        assert_eq!(s.aria_sort("serial"), "ascending");
        assert_eq!(s.aria_sort("status"), "none");
        assert_eq!(
            s.download_href("csv"),
            "/inventory/units?q=ab+c&sort=serial&download=csv"
        );
        let bad = ListParams {
            sort: Some("1;drop".into()),
            per_page: Some(i64::MAX),
            ..ListParams::default()
        };
        let bad = ListState::new("/x", &[], cols, &bad);
        assert_eq!(bad.base(), "/x?per_page=500&");
        assert_eq!(s.past_end(101), None, "page 3 of 3");
        let (msg, href) = s.past_end(100).expect("page 3 of 2");
        assert_eq!(href, "/inventory/units?q=ab+c&sort=serial&page=2");
        assert_eq!(
            msg.render(crate::i18n::Lang::En),
            "Page 3 is past the end — go to the last page (2)."
        );
    }
}
