//! What every list page shares: its filters, sort and page read from the
//! query string and written back into every link (so a list is shareable
//! and bookmarkable), sortable column headers, and the CSV/XLSX download of
//! all matching rows.

use axum::response::Response;

use crate::db::Sort;
use crate::error::{AppError, AppResult};
use crate::export::{self, Table};
use crate::i18n::Msg;
use crate::web::Pager;

/// Most rows one download holds (an XLSX sheet holds 1,048,576).
pub const EXPORT_CAP: i64 = 1_000_000;

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
    /// `path` with `filters` (blank values dropped), `sort` (`name` or
    /// `-name`; kept only when a key of `columns`), `page` and `download`.
    pub fn new(
        path: &'static str,
        filters: &[(&str, &str)],
        sort: Option<&str>,
        columns: &[(&str, &str)],
        page: Option<i64>,
        download: Option<&str>,
    ) -> ListState {
        ListState {
            path,
            filters: filters
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| ((*k).to_owned(), v.trim().to_owned()))
                .collect(),
            sort: Sort::parse(sort.unwrap_or_default()).known(columns),
            pager: Pager {
                page: page.unwrap_or(1),
                ..Pager::default()
            },
            download: download.map(str::to_owned),
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

    /// The filter value of `key`, or empty.
    pub fn filter(&self, key: &str) -> &str {
        self.filters
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The rows as a download: a header row first, then every row; more rows
/// than [`EXPORT_CAP`] is refused with a message to narrow the filter.
pub fn download(table: &Table, ext: &str, stem: &str) -> AppResult<Response> {
    if i64::try_from(table.rows.len()).unwrap_or(i64::MAX) > EXPORT_CAP {
        return Err(AppError::Conflict(
            Msg::new("list2.too_many_rows").arg("max", EXPORT_CAP),
        ));
    }
    export::attachment(table, ext, stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_filters_and_sort() {
        let cols: &[(&str, &str)] = &[("serial", "u.serial")];
        let s = ListState::new(
            "/inventory/units",
            &[("q", "ab c"), ("status", "")],
            Some("serial"),
            cols,
            Some(3),
            None,
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
        let bad = ListState::new("/x", &[], Some("1;drop"), cols, None, None);
        assert_eq!(bad.base(), "/x?");
    }
}
