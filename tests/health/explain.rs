//! Why a BMC could not be reached, in the user's words: a closed port, a
//! plain-HTTP server asked for https://, a name that does not resolve.

use std::io::{Read, Write};
use std::net::TcpListener;

use rackledger::health::redfish::{FetchError, Limits, RedfishClient, TlsPolicy};
use rackledger::i18n::Lang;

async fn fetch(url: &str) -> FetchError {
    RedfishClient::new(url, &TlsPolicy::Verify, None, Limits::default())
        .expect("client")
        .get("/redfish/v1/")
        .await
        .expect_err("nothing answers Redfish there")
}

/// Both languages, with no library words in them.
fn said(e: &FetchError) -> (String, String) {
    let (en, ko) = (e.explain().render(Lang::En), e.explain().render(Lang::Ko));
    for w in [
        "os error",
        "tcp connect",
        "client error",
        "InvalidContentType",
        "dns error",
    ] {
        assert!(!en.contains(w) && !ko.contains(w), "{w} in {en} / {ko}");
    }
    let stored = rackledger::health::redfish::client::explain_stored(&e.to_string());
    assert_eq!(stored, e.explain(), "the stored text explains the same");
    (en, ko)
}

#[tokio::test]
async fn a_closed_port_says_nothing_listens_there() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    }; // closed again
    let e = fetch(&format!("http://127.0.0.1:{port}")).await;
    let (en, ko) = said(&e);
    assert!(
        en.contains("Nothing answers at") && en.contains("switched on"),
        "{en} ({e})"
    );
    assert!(ko.contains("응답하는 것이 없습니다"), "{ko}");
}

#[tokio::test]
async fn https_to_a_plain_http_server_says_use_http() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { return };
            let mut buf = [0u8; 2048];
            let _ = tcp.read(&mut buf);
            let _ = tcp.write_all(
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    let e = fetch(&format!("https://{addr}")).await;
    let (en, ko) = said(&e);
    assert!(
        en.contains("plain HTTP") && en.contains("http://"),
        "{en} ({e})"
    );
    assert!(ko.contains("http://"), "{ko}");
}

#[tokio::test]
async fn a_name_that_does_not_resolve_says_so() {
    let e = fetch("http://no-such-bmc.invalid").await;
    let (en, _) = said(&e);
    assert!(en.contains("name") && en.contains("DNS"), "{en} ({e})");
}

#[test]
fn a_connect_timeout_in_the_text_is_a_timeout() {
    let e = FetchError::Connect(
        "client error (Connect): tcp connect error: deadline has elapsed".into(),
    );
    let (en, _) = said(&e);
    assert!(en.contains("did not answer in time"), "{en}");
}
