//! Sorting a list by a column the user clicked, safely: the key from the
//! query string only selects one of the list's whitelisted SQL expressions,
//! and the row id always breaks ties, so pages never overlap or skip rows.

/// `sort=name` (ascending) or `sort=-name` (descending), as read from a URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sort {
    /// The column key (not SQL; looked up in a whitelist).
    pub key: String,
    /// Descending.
    pub desc: bool,
}

impl Sort {
    /// Reads `name` or `-name`; blank is the list's default order.
    pub fn parse(s: &str) -> Sort {
        let s = s.trim();
        match s.strip_prefix('-') {
            Some(k) => Sort {
                key: k.to_owned(),
                desc: true,
            },
            None => Sort {
                key: s.to_owned(),
                desc: false,
            },
        }
    }

    /// The sort as written in a URL (`-name`), empty for the default.
    pub fn param(&self) -> String {
        if self.key.is_empty() {
            String::new()
        } else if self.desc {
            format!("-{}", self.key)
        } else {
            self.key.clone()
        }
    }

    /// Keeps the sort only when its key is one of `columns` (else the default).
    pub fn known(self, columns: &[(&str, &str)]) -> Sort {
        if columns.iter().any(|(k, _)| *k == self.key) {
            self
        } else {
            Sort::default()
        }
    }

    /// The `order by` list (without the words): the SQL of the key in
    /// `columns` (`(key, sql)`), or `default` for an unknown or empty key,
    /// then `tie` (a unique column, e.g. `u.id`) in the same direction. A
    /// column's SQL may be several expressions joined by ` | ` (for example
    /// a currency, then the amount), each sorted in the chosen direction.
    pub fn order_by(&self, columns: &[(&str, &str)], default: &str, tie: &str) -> String {
        match columns.iter().find(|(k, _)| *k == self.key) {
            Some((_, sql)) => {
                let dir = if self.desc { "desc" } else { "asc" };
                // Nulls sort as the smallest value on both engines.
                let nulls = if self.desc {
                    "nulls last"
                } else {
                    "nulls first"
                };
                let keys: Vec<String> = sql
                    .split(" | ")
                    .map(|e| format!("{e} {dir} {nulls}"))
                    .collect();
                format!("{}, {tie} {dir}", keys.join(", "))
            }
            None => format!("{default}, {tie}"),
        }
    }
}

/// `columns` without the keys in `hidden`: for example a list's money
/// columns, for a role that does not see money (an unknown key sorts by
/// the default, so nothing is learnt from it).
pub fn without<'a>(columns: &[(&'a str, &'a str)], hidden: &[&str]) -> Vec<(&'a str, &'a str)> {
    columns
        .iter()
        .filter(|(k, _)| !hidden.contains(k))
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: &[(&str, &str)] = &[("name", "lower(s.name)"), ("country", "s.country")];

    #[test]
    fn only_whitelisted_keys_reach_sql() {
        let s = Sort::parse("-country");
        assert_eq!(
            s.order_by(COLS, "lower(s.name)", "s.id"),
            "s.country desc nulls last, s.id desc"
        );
        let evil = Sort::parse("name; drop table users --");
        assert_eq!(
            evil.order_by(COLS, "lower(s.name)", "s.id"),
            "lower(s.name), s.id"
        );
        assert_eq!(evil.known(COLS), Sort::default());
        let two: &[(&str, &str)] = &[("price", "cur | cast(price as numeric)")];
        assert_eq!(
            Sort::parse("-price").order_by(two, "id", "id"),
            "cur desc nulls last, cast(price as numeric) desc nulls last, id desc"
        );
        assert_eq!(without(COLS, &["name"]), [("country", "s.country")]);
        assert_eq!(Sort::parse("name").param(), "name");
        assert_eq!(Sort::parse("-name").param(), "-name");
        assert_eq!(Sort::parse("").param(), "");
    }
}
