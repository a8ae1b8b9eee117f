//! Text no field has a use for, refused at the edge: control characters
//! (NUL, which PostgreSQL cannot store in text, and the rest of C0 and C1
//! but tab and line breaks) and bidirectional overrides, which make a name
//! or serial read differently from what it holds. Query strings, URL-encoded
//! forms and JSON bodies are checked before any handler runs, on both
//! engines alike, with a 422 naming the field; a page form is not refused
//! here but handed on with its refused fields (`web::form`), so its page can
//! show it again as typed. Free-text fields (notes,
//! descriptions, titles) are capped here too, whatever page or API call
//! carries them; a domain may hold a field to a tighter cap of its own.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, FieldErrors};
use crate::i18n::Msg;

use crate::web::auth::MAX_FORM_BYTES;
use crate::web::form::EdgeRefusal;

/// The longest text, in characters, of a free-text field by its name, in a
/// form or at any depth of a JSON body.
const FIELD_CAPS: &[(&str, usize)] = &[
    ("notes", 4000),
    ("note", 4000),
    ("comment", 4000),
    ("reason", 2000),
    ("description", 2000),
    ("title", 300),
    ("name", 300),
    ("reference", 200),
];

/// Fields not checked here: the login's `next` is parsed and rebuilt by
/// `web::auth`, which drops anything odd in it and goes to `/`, so a crafted
/// link still shows the login form.
const UNCHECKED: &[&str] = &["next"];

/// Why `value` of the field `name` is refused, if it is.
fn problem(name: &str, value: &str) -> Option<Msg> {
    if UNCHECKED.contains(&name) {
        return None;
    }
    if let Some(code) = refused_char(value) {
        return Some(Msg::new("validation.hidden_char").arg("code", code));
    }
    let (_, max) = FIELD_CAPS.iter().find(|(n, _)| *n == name)?;
    (value.chars().count() > *max).then(|| Msg::new("validation.too_long").arg("max", max))
}

/// Whether `c` has no place in any text rackledger stores.
pub fn is_refused_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The first refused character of `text`, as `U+XXXX`.
pub fn refused_char(text: &str) -> Option<String> {
    text.chars()
        .find(|c| is_refused_char(*c))
        .map(|c| format!("U+{:04X}", u32::from(c)))
}

/// Middleware: refuses a query, form or JSON body holding a refused character.
pub async fn refuse_hidden_characters(mut req: Request, next: Next) -> Response {
    if req.method().is_safe()
        && !req.uri().path().starts_with("/api/")
        && let Some(uri) = req
            .uri()
            .query()
            .and_then(|q| without_refused(req.uri(), q))
    {
        // A page's address (a list's search): the characters are dropped
        // and the page shown, rather than an error page with no way back.
        *req.uri_mut() = uri;
    }
    if let Some(q) = req.uri().query()
        && let Some((field, why)) = first_in_urlencoded(q.as_bytes())
    {
        return refused(&field, why);
    }
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let form = kind.starts_with("application/x-www-form-urlencoded");
    let json = kind.starts_with("application/json");
    if !form && !json {
        return next.run(req).await;
    }
    let page = !req.uri().path().starts_with("/api/");
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    if form
        && page
        && let Some((refused, cleaned)) = refused_in_page_form(&bytes)
    {
        parts.extensions.insert(EdgeRefusal(refused));
        return next
            .run(Request::from_parts(parts, Body::from(cleaned)))
            .await;
    }
    let found = if form {
        first_in_urlencoded(&bytes)
    } else {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| first_in_json(&v, "body"))
    };
    if let Some((field, why)) = found {
        return refused(&field, why);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Every refused field of a page form, and the form as typed with each
/// refused character replaced by U+FFFD (so the page can show it again
/// without storing or echoing the character itself); `None` when nothing is
/// refused.
fn refused_in_page_form(raw: &[u8]) -> Option<(FieldErrors, String)> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw).ok()?;
    let mut refused = FieldErrors::default();
    let mut cleaned = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        let key: String = k.chars().filter(|c| !is_refused_char(*c)).collect();
        let why = refused_char(&k)
            .map(|code| Msg::new("validation.hidden_char").arg("code", code))
            .or_else(|| problem(&k, &v));
        if let Some(why) = why
            && refused.get(&key).is_none()
        {
            refused.add(&key, why);
        }
        let value: String = v
            .chars()
            .map(|c| if is_refused_char(c) { '\u{fffd}' } else { c })
            .collect();
        cleaned.push((key, value));
    }
    if refused.is_empty() {
        return None;
    }
    Some((refused, serde_urlencoded::to_string(cleaned).ok()?))
}

/// `uri` with every refused character dropped from its query `q`; `None`
/// when there is none (or the query does not decode).
fn without_refused(uri: &axum::http::Uri, q: &str) -> Option<axum::http::Uri> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).ok()?;
    if !pairs
        .iter()
        .any(|(k, v)| refused_char(k).is_some() || refused_char(v).is_some())
    {
        return None;
    }
    let clean = |s: &str| {
        s.chars()
            .filter(|c| !is_refused_char(*c))
            .collect::<String>()
    };
    let cleaned: Vec<(String, String)> = pairs.iter().map(|(k, v)| (clean(k), clean(v))).collect();
    let query = serde_urlencoded::to_string(cleaned).ok()?;
    format!("{}?{query}", uri.path()).parse().ok()
}

fn first_in_urlencoded(raw: &[u8]) -> Option<(String, Msg)> {
    // Decoded the way the extractors decode it; undecodable input is left to them.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw).ok()?;
    pairs.into_iter().find_map(|(k, v)| {
        let why = refused_char(&k)
            .map(|code| Msg::new("validation.hidden_char").arg("code", code))
            .or_else(|| problem(&k, &v))?;
        Some((k.chars().filter(|c| !is_refused_char(*c)).collect(), why))
    })
}

fn first_in_json(v: &serde_json::Value, path: &str) -> Option<(String, Msg)> {
    first_in_json_field(v, path, "")
}

fn first_in_json_field(v: &serde_json::Value, path: &str, name: &str) -> Option<(String, Msg)> {
    match v {
        serde_json::Value::String(s) => problem(name, s).map(|why| (path.to_owned(), why)),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| first_in_json_field(x, &format!("{path}[{i}]"), name)),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
            if let Some(code) = refused_char(k) {
                let why = Msg::new("validation.hidden_char").arg("code", code);
                return Some((path.to_owned(), why));
            }
            first_in_json_field(x, &format!("{path}.{k}"), k)
        }),
        _ => None,
    }
}

fn refused(field: &str, why: Msg) -> Response {
    let mut f = FieldErrors::default();
    f.add(field, why);
    AppError::Validation(f).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_refused_tabs_and_line_breaks_kept() {
        assert_eq!(refused_char("a\u{0}b").as_deref(), Some("U+0000"));
        assert_eq!(refused_char("x\u{1b}[31m").as_deref(), Some("U+001B"));
        assert_eq!(refused_char("x\u{85}").as_deref(), Some("U+0085"));
        assert_eq!(refused_char("S4\u{202e}NX").as_deref(), Some("U+202E"));
        assert_eq!(refused_char("\u{2066}x").as_deref(), Some("U+2066"));
        assert_eq!(refused_char("line one\r\nline two\tend"), None);
        assert_eq!(refused_char("서울 랙 A-01 · ₩1,000"), None);
        // Marks (not overrides) are ordinary text in right-to-left names.
        assert_eq!(refused_char("\u{200f}שלום"), None);
    }

    #[test]
    fn the_field_is_named_in_forms_and_json() {
        let (field, _) = first_in_urlencoded(b"name=ok&notes=a%00b").expect("found");
        assert_eq!(field, "notes");
        let v: serde_json::Value =
            serde_json::from_str(r#"{"lines":[{"serial":"ok"},{"serial":"a\u0000"}]}"#)
                .expect("json");
        let (field, why) = first_in_json(&v, "body").expect("found");
        assert_eq!(field, "body.lines[1].serial");
        assert!(why.render(crate::i18n::Lang::En).contains("U+0000"));
        assert!(first_in_urlencoded(b"q=%E2%80%AEevil").is_some());
        assert!(first_in_urlencoded(b"q=plain+text").is_none());
    }

    #[test]
    fn free_text_fields_are_capped_by_name_in_forms_and_json() {
        let long = "가".repeat(4001);
        let form = format!("serials={}&notes={long}", "S".repeat(9000));
        let (field, why) = first_in_urlencoded(form.as_bytes()).expect("found");
        assert_eq!(
            (field.as_str(), why.key.as_ref()),
            ("notes", "validation.too_long")
        );
        assert!(first_in_urlencoded(format!("notes={}", "가".repeat(4000)).as_bytes()).is_none());
        // A name (template, supplier, rack, scenario) is capped like a title.
        let (field, why) =
            first_in_urlencoded(format!("name={}", "x".repeat(301)).as_bytes()).expect("refused");
        assert_eq!(
            (field.as_str(), why.key.as_ref()),
            ("name", "validation.too_long")
        );
        assert!(first_in_urlencoded(format!("name={}", "가".repeat(300)).as_bytes()).is_none());
        let v = serde_json::json!({"lines": [{"description": "x".repeat(2001)}]});
        let (field, _) = first_in_json(&v, "body").expect("found");
        assert_eq!(field, "body.lines[0].description");
    }
}
