//! Why a BMC could not be read, in the user's words: each [`FetchError`]
//! kind as a catalogue message saying what to do, instead of the TLS or
//! HTTP library's own words (`CaUsedAsEndEntity`).

use super::FetchError;
use crate::i18n::Msg;

impl FetchError {
    /// This failure as a message for the people who set up the BMC.
    pub fn explain(&self) -> Msg {
        match self {
            FetchError::Timeout => Msg::new("bmc_error.timeout"),
            FetchError::Connect(d) => explain_connect(d),
            FetchError::Tls(d) => explain_tls(d),
            FetchError::Status(s) => Msg::new("bmc_error.http_status").arg("status", s),
            FetchError::Auth(s) => Msg::new("bmc_error.auth").arg("status", s),
            FetchError::TooLarge(n) => Msg::new("bmc_error.too_large").arg("bytes", n),
            FetchError::OffHost(to) if to == "?" => Msg::new("bmc_error.no_location"),
            FetchError::OffHost(to) => Msg::new("bmc_error.off_host").arg("to", to),
            FetchError::TooManyRedirects(to) => Msg::new("bmc_error.redirect_loop").arg("to", to),
            FetchError::Malformed(d) => Msg::new("bmc_error.malformed").arg("detail", d),
            FetchError::BadUrl(d) => Msg::new("bmc_error.bad_url").arg("detail", d),
        }
    }
}

/// A failed connection, by what the network library said of it: nothing
/// listening, a name that does not resolve, a timeout, or https:// aimed at
/// a plain-HTTP server (the TLS handshake got an HTTP answer).
fn explain_connect(detail: &str) -> Msg {
    let has = |words: &[&str]| words.iter().any(|w| detail.contains(w));
    if has(&["Connection refused", "os error 111", "os error 10061"]) {
        Msg::new("bmc2.refused")
    } else if has(&[
        "InvalidContentType",
        "corrupt message",
        "wrong version number",
    ]) {
        Msg::new("bmc2.plain_http")
    } else if has(&[
        "dns error",
        "failed to lookup address",
        "Name or service not known",
    ]) {
        Msg::new("bmc2.dns")
    } else if has(&["deadline has elapsed", "timed out", "os error 110"]) {
        Msg::new("bmc_error.timeout")
    } else if has(&[
        "No route to host",
        "Network is unreachable",
        "os error 113",
        "os error 101",
    ]) {
        Msg::new("bmc2.unreachable")
    } else if has(&[
        "Connection reset",
        "connection closed",
        "IncompleteMessage",
        "os error 104",
    ]) {
        Msg::new("bmc2.closed")
    } else {
        Msg::new("bmc2.connect")
    }
}

/// A refused certificate, by what the TLS library said of it.
fn explain_tls(detail: &str) -> Msg {
    let has = |words: &[&str]| words.iter().any(|w| detail.contains(w));
    if has(&[
        "CaUsedAsEndEntity",
        "UnknownIssuer",
        "SelfSigned",
        "self-signed",
    ]) {
        Msg::new("bmc_error.tls_self_signed")
    } else if has(&["NotValidForName", "NotValidForNameContext"]) {
        Msg::new("bmc_error.tls_name")
    } else if has(&["Expired", "NotValidYet"]) {
        Msg::new("bmc_error.tls_expired")
    } else {
        Msg::new("bmc_error.tls_other").arg("detail", detail)
    }
}

/// The technical text worth showing beside [`explain_stored`]'s message
/// (once, small): none when the message already quotes it.
pub fn stored_detail(text: &str) -> Option<&str> {
    let m = explain_stored(text);
    (!m.args.iter().any(|(k, _)| k == "detail")).then_some(text)
}

/// A BMC's stored last error (the text of a [`FetchError`], or of a failure
/// before any request) as a message for the people who set up the BMC.
pub fn explain_stored(text: &str) -> Msg {
    let after = |prefix: &str| text.strip_prefix(prefix).map(str::to_owned);
    let number = |s: &str| s.trim_end_matches(|c: char| !c.is_ascii_digit()).to_owned();
    let e = if text == "timed out" {
        FetchError::Timeout
    } else if let Some(d) = after("connection failed: ") {
        FetchError::Connect(d)
    } else if let Some(d) = after("TLS: ") {
        FetchError::Tls(d)
    } else if let Some(d) = after("authentication refused (HTTP ") {
        match number(&d).parse() {
            Ok(s) => FetchError::Auth(s),
            Err(_) => return Msg::new("bmc_error.other").arg("detail", text),
        }
    } else if let Some(d) = after("HTTP ")
        && let Ok(s) = d.parse()
    {
        FetchError::Status(s)
    } else if let Some(d) = after("response larger than ")
        && let Ok(n) = number(d.trim_end_matches(" bytes")).parse()
    {
        FetchError::TooLarge(n)
    } else if let Some(d) = after("refused to follow a redirect or link to ") {
        FetchError::OffHost(d)
    } else if let Some(d) = after("too many redirects within the BMC (last to ") {
        FetchError::TooManyRedirects(d.trim_end_matches(')').to_owned())
    } else if let Some(d) = after("malformed JSON: ") {
        FetchError::Malformed(d)
    } else if let Some(d) = after("bad URL: ") {
        FetchError::BadUrl(d)
    } else {
        return Msg::new("bmc_error.other").arg("detail", text);
    };
    e.explain()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn a_self_signed_certificate_is_explained_without_the_library_words() {
        let e = FetchError::Tls(
            "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))".into(),
        );
        let en = e.explain().render(Lang::En);
        assert!(en.contains("self-signed") && en.contains("pinned"), "{en}");
        assert!(!en.contains("CaUsedAsEndEntity"), "{en}");
        assert_eq!(explain_stored(&e.to_string()).key, e.explain().key);
    }

    #[test]
    fn every_stored_error_text_maps_back_to_its_kind() {
        for e in [
            FetchError::Timeout,
            FetchError::Connect("refused".into()),
            FetchError::Status(500),
            FetchError::Auth(401),
            FetchError::TooLarge(1024),
            FetchError::OffHost("https://elsewhere/".into()),
            FetchError::OffHost("?".into()),
            FetchError::TooManyRedirects("/redfish/v1/".into()),
            FetchError::Malformed("expected value".into()),
            FetchError::BadUrl("no host".into()),
        ] {
            assert_eq!(explain_stored(&e.to_string()), e.explain(), "{e}");
        }
        assert_eq!(explain_stored("no key").key, "bmc_error.other");
    }
}
