//! The CSRF token of a file upload, sent as the first field of its
//! multipart body (so it stays out of URLs, logs and history). Only that
//! first part is read; the body goes on to the handler as it came.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header;
use futures_util::StreamExt;

use super::middleware::CSRF_FIELD;

/// How far into the body the first part may end.
const FIRST_PART_MAX: usize = 4096;

/// The boundary of a `multipart/form-data` request, as sent (case kept).
fn boundary(req: &Request) -> Option<String> {
    let kind = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    kind.split(';')
        .map(str::trim)
        .find_map(|p| {
            p.get(..9)
                .filter(|k| k.eq_ignore_ascii_case("boundary="))
                .map(|_| &p[9..])
        })
        .map(|b| b.trim_matches('"').to_owned())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The token when the first part of `head` is the `_csrf` field: `None`
/// while more bytes are needed, `Some(None)` once it is clear it is not.
fn first_part(head: &[u8], boundary: &str) -> Option<Option<String>> {
    let open = format!("--{boundary}\r\n");
    if head.len() < open.len() {
        return None;
    }
    let Some(rest) = head.strip_prefix(open.as_bytes()) else {
        return Some(None);
    };
    let end_headers = find(rest, b"\r\n\r\n")?;
    let headers = String::from_utf8_lossy(&rest[..end_headers]).to_ascii_lowercase();
    let wanted = format!("name=\"{CSRF_FIELD}\"");
    let named = headers
        .split("\r\n")
        .any(|l| l.starts_with("content-disposition:") && l.split(';').any(|p| p.trim() == wanted));
    if !named {
        return Some(None);
    }
    let value = &rest[end_headers + 4..];
    let end = find(value, format!("\r\n--{boundary}").as_bytes())?;
    Some(String::from_utf8(value[..end].to_vec()).ok())
}

/// The `_csrf` field when it is the first part of the multipart body, and
/// the request with its body whole again (read only as far as that part).
pub(super) async fn token(req: Request) -> (Option<String>, Request) {
    let Some(boundary) = boundary(&req) else {
        return (None, req);
    };
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let (mut head, mut failed, mut token) = (Vec::new(), None, None);
    while head.len() < FIRST_PART_MAX {
        match stream.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(e)) => {
                failed = Some(e);
                break;
            }
            None => break,
        }
        if let Some(found) = first_part(&head, &boundary) {
            token = found;
            break;
        }
    }
    let again =
        futures_util::stream::iter(std::iter::once(Ok(Bytes::from(head))).chain(failed.map(Err)))
            .chain(stream);
    (token, Request::from_parts(parts, Body::from_stream(again)))
}

#[cfg(test)]
mod tests {
    use super::first_part;

    #[test]
    fn the_first_part_is_read_only_when_it_is_the_token() {
        let body =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nt0k\r\n--XyZ\r\nrest";
        assert_eq!(first_part(body, "XyZ"), Some(Some("t0k".into())));
        assert_eq!(first_part(&body[..30], "XyZ"), None, "more is needed");
        let other = b"--XyZ\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nx\r\n--XyZ";
        assert_eq!(first_part(other, "XyZ"), Some(None));
        let file =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"_csrf\"\r\n\r\n";
        assert_eq!(
            first_part(file, "XyZ"),
            Some(None),
            "a file named so is not it"
        );
    }
}
