//! The message catalogue: every user-visible string, in English and Korean.
//!
//! Catalogues are TOML files beside this module (`en.toml`, `ko.toml`), compiled
//! into the binary and flattened to dotted keys (`nav.procurement`). Templates
//! call `ctx.t("key")`; services return [`Msg`] values that are rendered in the
//! reader's language only when a page or JSON body is written.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// A language the interface is available in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// Korean (the default for this company).
    #[default]
    Ko,
}

impl Lang {
    /// Every supported language, in menu order.
    pub const ALL: [Lang; 2] = [Lang::Ko, Lang::En];

    /// ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }

    /// Parses an ISO 639-1 code (`en`, `ko`, also `ko-KR`).
    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "ko" => Some(Lang::Ko),
            _ => None,
        }
    }

    /// Picks the best language from an `Accept-Language` header, by q-value.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else {
            return Lang::default();
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut bits = part.split(';');
            let Some(lang) = bits.next().and_then(Lang::parse) else {
                continue;
            };
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    /// The language's own name, for the language menu.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ko => "한국어",
        }
    }
}

type Catalogue = HashMap<String, String>;

static EN: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("en.toml")));
static KO: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("ko.toml")));

fn load(src: &str) -> Catalogue {
    // The catalogues are compiled in and checked by tests; a broken one is a
    // build defect, so an empty catalogue (keys shown raw) is the fallback.
    let table: toml::Table = src.parse().unwrap_or_else(|e| {
        tracing::error!(error = %e, "message catalogue does not parse");
        toml::Table::new()
    });
    let mut out = HashMap::new();
    flatten("", &table, &mut out);
    out
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalogue) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

fn catalogue(lang: Lang) -> &'static Catalogue {
    match lang {
        Lang::En => &EN,
        Lang::Ko => &KO,
    }
}

/// Looks `key` up in `lang`, falling back to English, then to the key itself.
pub fn t(lang: Lang, key: &str) -> &str {
    catalogue(lang)
        .get(key)
        .or_else(|| EN.get(key))
        .map(String::as_str)
        .unwrap_or(key)
}

/// Every key of one language's catalogue (for tests and tooling).
pub fn keys(lang: Lang) -> impl Iterator<Item = &'static str> {
    catalogue(lang).keys().map(String::as_str)
}

/// A placeholder's name, the catalogue prefix and the code it shows.
pub type Coded = (Cow<'static, str>, Cow<'static, str>, String);

/// A message to show a user: a catalogue key and named arguments for its
/// `{placeholders}`. It is stored as JSON where a text is kept for readers
/// of any language (a work order made from an alert, a default checklist).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Msg {
    /// Catalogue key.
    pub key: Cow<'static, str>,
    /// Values for `{name}` placeholders.
    #[serde(default)]
    pub args: Vec<(Cow<'static, str>, String)>,
    /// Placeholders filled with a code shown through the catalogue
    /// (`prefix.code`, a status say), in the reader's language; a code the
    /// catalogue lacks is shown as it is.
    /// (Boxed: most messages have none, and a `Msg` travels in many `Err`s.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coded: Option<Box<Vec<Coded>>>,
}

impl Msg {
    /// A message without arguments.
    pub fn new(key: impl Into<Cow<'static, str>>) -> Msg {
        Msg {
            key: key.into(),
            args: Vec::new(),
            coded: None,
        }
    }

    /// Adds the value for `{name}`.
    pub fn arg(mut self, name: impl Into<Cow<'static, str>>, value: impl ToString) -> Msg {
        self.args.push((name.into(), value.to_string()));
        self
    }

    /// Fills `{name}` with the code `value` shown through the catalogue as
    /// `prefix.value` (`arg_code("status", "unit_status", "in_stock")`).
    pub fn arg_code(
        mut self,
        name: impl Into<Cow<'static, str>>,
        prefix: &'static str,
        value: impl ToString,
    ) -> Msg {
        self.coded.get_or_insert_with(Box::default).push((
            name.into(),
            prefix.into(),
            value.to_string(),
        ));
        self
    }

    /// The message stored as JSON (see [`Msg::from_json`]).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A message stored with [`Msg::to_json`]; `None` when the text is not one.
    pub fn from_json(json: &str) -> Option<Msg> {
        serde_json::from_str(json).ok()
    }

    /// The message in `lang` with its placeholders filled in.
    pub fn render(&self, lang: Lang) -> String {
        let mut s = t(lang, &self.key).to_owned();
        for (name, value) in &self.args {
            s = plural_forms(&s, name, value).replace(&format!("{{{name}}}"), value);
        }
        for (name, prefix, code) in self.coded.iter().flat_map(|c| c.iter()) {
            let key = format!("{prefix}.{code}");
            let shown = catalogue(lang)
                .get(&key)
                .or_else(|| EN.get(&key))
                .map_or(code.as_str(), String::as_str);
            s = s.replace(&format!("{{{name}}}"), shown);
        }
        s
    }
}

/// `text` with each `{name|one|other}` replaced by `one` when `value` is 1
/// and by `other` else: the word a count takes in languages with a singular
/// ("1 second", "2 seconds"); a language without one just writes `{name}초`.
fn plural_forms(text: &str, name: &str, value: &str) -> String {
    let open = format!("{{{name}|");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        let Some(end) = after.find('}') else { break };
        let (one, other) = after[..end].split_once('|').unwrap_or((&after[..end], ""));
        out.push_str(&rest[..at]);
        out.push_str(if value.trim() == "1" { one } else { other });
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coded_argument_is_shown_in_the_readers_language() {
        let m = Msg::new("receipt.not_open").arg_code("status", "po_status", "draft");
        let (en, ko) = (m.render(Lang::En), m.render(Lang::Ko));
        assert!(en.contains(t(Lang::En, "po_status.draft")), "{en}");
        assert!(ko.contains(t(Lang::Ko, "po_status.draft")), "{ko}");
        assert!(!ko.contains("draft"), "{ko}");
        let odd = Msg::new("receipt.not_open").arg_code("status", "po_status", "no-such-status");
        assert!(odd.render(Lang::Ko).contains("no-such-status"));
    }

    #[test]
    fn a_stored_message_reads_back_in_any_language() {
        let m = Msg::new("wo_alert.title")
            .arg_code("severity", "wo_alert", "critical")
            .arg("slot", "DIMM A3");
        let back = Msg::from_json(&m.to_json()).expect("reads back");
        assert_eq!(back, m);
        assert!(back.render(Lang::En).contains("Critical"));
        assert!(
            back.render(Lang::Ko)
                .contains(t(Lang::Ko, "wo_alert.critical"))
        );
        assert_eq!(Msg::from_json("plain text"), None);
    }

    #[test]
    fn a_count_of_one_reads_in_the_singular_where_the_language_has_one() {
        let wait = |n: i64| Msg::new("login.rate_limited").arg("seconds", n);
        assert!(wait(1).render(Lang::En).ends_with("Try again in 1 second."));
        assert!(
            wait(5)
                .render(Lang::En)
                .ends_with("Try again in 5 seconds.")
        );
        assert!(wait(1).render(Lang::Ko).contains("1초"));
        let poll = |n: u64| Msg::new("history.no_readings").arg("minutes", n);
        assert!(poll(1).render(Lang::En).ends_with("every 1 minute."));
        assert!(poll(2).render(Lang::En).ends_with("every 2 minutes."));
        for lang in Lang::ALL {
            for key in keys(lang) {
                assert!(!t(lang, key).contains("1 seconds"), "{key}");
            }
        }
        // A choice whose argument is missing, or an unclosed one, stays as written.
        assert_eq!(plural_forms("a {n|b|c", "n", "1"), "a {n|b|c");
        assert_eq!(
            plural_forms("{x|one|many} {x|one|many}", "x", "1"),
            "one one"
        );
        assert_eq!(plural_forms("{x|one|many}", "x", "21"), "many");
    }

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let en: std::collections::BTreeSet<_> = keys(Lang::En).collect();
        let ko: std::collections::BTreeSet<_> = keys(Lang::Ko).collect();
        assert!(en.len() > 20, "English catalogue failed to load");
        let only_en: Vec<_> = en.difference(&ko).collect();
        let only_ko: Vec<_> = ko.difference(&en).collect();
        assert!(only_en.is_empty(), "missing in ko.toml: {only_en:?}");
        assert!(only_ko.is_empty(), "missing in en.toml: {only_ko:?}");
    }

    fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "html") {
                out.push(path);
            }
        }
    }

    /// Literal keys passed to `t("...")` or `Msg::new("...")` in a source text.
    fn literal_keys(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for opener in ["t(\"", "Msg::new(\""] {
            for (i, _) in text.match_indices(opener) {
                let rest = &text[i + opener.len()..];
                let Some(end) = rest.find('"') else { continue };
                let key = &rest[..end];
                if key.contains('.')
                    && !key.starts_with('.')
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
                {
                    keys.push(key.to_owned());
                }
            }
        }
        keys
    }

    #[test]
    fn every_key_used_in_code_and_templates_is_in_the_catalogue() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        files_under(&root.join("src"), &mut files);
        files_under(&root.join("templates"), &mut files);
        let known: std::collections::BTreeSet<_> = keys(Lang::En).collect();
        let mut missing = Vec::new();
        for f in &files {
            let text = std::fs::read_to_string(f).expect("readable source");
            for key in literal_keys(&text) {
                if !known.contains(key.as_str()) {
                    missing.push(format!("{}: {key}", f.display()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from en.toml: {missing:#?}"
        );
    }

    #[test]
    fn accept_language_picks_highest_quality_supported_language() {
        assert_eq!(Lang::negotiate(Some("en-US,en;q=0.9,ko;q=0.8")), Lang::En);
        assert_eq!(
            Lang::negotiate(Some("fr-FR, ko-KR;q=0.7, en;q=0.5")),
            Lang::Ko
        );
        assert_eq!(Lang::negotiate(Some("de")), Lang::Ko);
        assert_eq!(Lang::negotiate(None), Lang::Ko);
    }

    #[test]
    fn message_arguments_fill_placeholders() {
        let m = Msg::new("error.duplicate").arg("what", "username");
        assert!(m.render(Lang::En).contains("username"));
        assert!(!m.render(Lang::En).contains("{what}"));
    }
}
