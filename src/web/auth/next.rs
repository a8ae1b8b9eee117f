//! `next`: where a user goes after logging in or switching language. It is
//! parsed as a path on this host and rebuilt from its checked segments and
//! query (the fragment dropped), never echoed; anything odd gives `/`.

/// Longest `next` considered, in bytes; a longer one gives `/`.
const MAX_NEXT_BYTES: usize = 2048;

/// A local path rebuilt from `next`, or `/`.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(rebuild).unwrap_or_else(|| "/".to_owned())
}

fn rebuild(raw: &str) -> Option<String> {
    if raw.len() > MAX_NEXT_BYTES {
        return None;
    }
    let raw = raw.split('#').next().unwrap_or_default();
    let (path, query) = match raw.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (raw, None),
    };
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let last = segments.len() - 1;
    let mut out = String::from("/");
    for (i, segment) in segments.into_iter().enumerate() {
        let text = decode(segment)?;
        // An empty segment but the last makes `//`; dot segments climb; a
        // decoded `/` or `\` or a control character is never part of a page.
        let odd = (text.is_empty() && i != last)
            || text == "."
            || text == ".."
            || text
                .chars()
                .any(|c| c.is_control() || c == '/' || c == '\\');
        if odd {
            return None;
        }
        if i > 0 {
            out.push('/');
        }
        encode_into(&text, &mut out);
    }
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).ok()?;
        if pairs
            .iter()
            .any(|(k, v)| k.chars().chain(v.chars()).any(char::is_control))
        {
            return None;
        }
        let q = serde_urlencoded::to_string(&pairs).ok()?;
        if !q.is_empty() {
            out.push('?');
            out.push_str(&q);
        }
    }
    Some(out)
}

/// A path segment percent-decoded as UTF-8; `None` for a stray `%` or bad UTF-8.
fn decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Appends `text` percent-encoded but for unreserved characters and the few
/// a path segment may hold as they are.
fn encode_into(text: &str, out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn local_paths_are_kept_and_the_rest_go_home() {
        let cases = [
            ("/", "/"),
            ("/admin/users", "/admin/users"),
            ("/a/", "/a/"),
            ("/units?q=SN%201&page=2#x", "/units?q=SN+1&page=2"),
            ("/부품", "/%EB%B6%80%ED%92%88"),
            ("//evil", "/"),
            ("/\\evil", "/"),
            ("/%09/evil", "/"),
            ("/\t/evil", "/"),
            ("/%2F%2Fevil", "/"),
            ("/%5Cevil", "/"),
            ("/./x", "/"),
            ("/../x", "/"),
            ("/a%zz", "/"),
            ("/%FF", "/"),
            ("/x?a=%0d%0a", "/"),
            ("https://evil", "/"),
            ("evil", "/"),
            ("", "/"),
        ];
        for (given, want) in cases {
            assert_eq!(safe_next(Some(given)), want, "{given:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(5000)))), "/");
    }
}
