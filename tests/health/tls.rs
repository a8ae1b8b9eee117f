//! TLS policies against a local HTTPS server whose certificate is signed by a
//! test CA (fixtures in tests/health/tls, valid for 127.0.0.1 until 2125).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use rackledger::health::redfish::{FetchError, Limits, RedfishClient, TlsPolicy};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/health/tls")
            .join(name),
    )
    .unwrap()
}

/// An HTTPS server answering every request with a small service root; returns its URL.
fn https_server() -> String {
    let certs: Vec<CertificateDer> =
        CertificateDer::pem_slice_iter(fixture("server.pem").as_bytes())
            .map(Result::unwrap)
            .collect();
    let key = PrivateKeyDer::from_pem_slice(fixture("server.key").as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            let config = config.clone();
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut buf = [0u8; 4096];
                if tls.read(&mut buf).is_err() {
                    return; // the client refused the certificate
                }
                let body = r#"{"@odata.id": "/redfish/v1/", "RedfishVersion": "1.6.0"}"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes());
                let _ = tls.write_all(body.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    url
}

async fn fetch(url: &str, policy: TlsPolicy) -> Result<serde_json::Value, FetchError> {
    RedfishClient::new(url, &policy, None, Limits::default())
        .unwrap()
        .get("/redfish/v1/")
        .await
}

#[tokio::test]
async fn each_tls_policy_accepts_or_refuses_a_self_signed_bmc_as_it_should() {
    let url = https_server();
    let pinned = fetch(&url, TlsPolicy::Pinned(fixture("ca.pem")))
        .await
        .expect("the pinned CA signed it");
    assert_eq!(pinned["RedfishVersion"], "1.6.0");
    assert!(
        matches!(
            fetch(&url, TlsPolicy::Verify).await,
            Err(FetchError::Tls(_))
        ),
        "not in the system roots"
    );
    // Said in the user's words, not the TLS library's (`CaUsedAsEndEntity`).
    let refused = fetch(&url, TlsPolicy::Verify).await.unwrap_err();
    let said = refused.explain().render(rackledger::i18n::Lang::En);
    assert!(
        said.contains("self-signed") && said.contains("pinned"),
        "{said} ({refused})"
    );
    let stored = rackledger::health::redfish::client::explain_stored(&refused.to_string());
    assert_eq!(stored, refused.explain());
    assert!(
        matches!(
            fetch(&url, TlsPolicy::Pinned(fixture("other-ca.pem"))).await,
            Err(FetchError::Tls(_))
        ),
        "another CA is refused"
    );
    assert!(
        fetch(&url, TlsPolicy::Insecure).await.is_ok(),
        "insecure accepts anything"
    );
    assert!(matches!(
        RedfishClient::new(
            &url,
            &TlsPolicy::Pinned("not a pem".into()),
            None,
            Limits::default()
        ),
        Err(FetchError::Tls(_))
    ));
}
