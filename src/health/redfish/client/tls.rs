//! TLS: the policy per BMC, a pinned CA's roots, and the rustls
//! configuration and verifiers each policy builds.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;

use super::FetchError;

/// How the client checks the BMC's TLS certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsPolicy {
    /// Verify against the system's roots (platform verifier).
    Verify,
    /// Verify against this one CA certificate (PEM) only; no built-in roots.
    Pinned(String),
    /// No verification at all: only for an isolated management network.
    Insecure,
}

impl TlsPolicy {
    /// The stored name: `verify`, `pinned` or `insecure`.
    pub fn name(&self) -> &'static str {
        match self {
            TlsPolicy::Verify => "verify",
            TlsPolicy::Pinned(_) => "pinned",
            TlsPolicy::Insecure => "insecure",
        }
    }
}
/// The roots of a pinned CA (PEM): at least one certificate, each parsed as
/// a trust anchor.
pub fn pinned_roots(pem: &str) -> Result<rustls::RootCertStore, FetchError> {
    use rustls::pki_types::pem::PemObject;
    let ders: Vec<CertificateDer> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| FetchError::Tls(format!("pinned CA: {e}")))?;
    if ders.is_empty() {
        return Err(FetchError::Tls(
            "pinned CA: no certificate in the PEM".into(),
        ));
    }
    let mut roots = rustls::RootCertStore::empty();
    for der in ders {
        roots
            .add(der)
            .map_err(|e| FetchError::Tls(format!("pinned CA: {e}")))?;
    }
    Ok(roots)
}
pub(super) fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Fails only if another provider is already installed, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
/// TLS 1.2 and 1.3, verified as `tls` says.
pub(super) fn tls_config(tls: &TlsPolicy) -> Result<rustls::ClientConfig, FetchError> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Tls(e.to_string()))?;
    // hyper-rustls sets ALPN (HTTP/1.1 only).
    Ok(match tls {
        TlsPolicy::Verify => {
            let verifier = rustls_platform_verifier::Verifier::new(provider)
                .map_err(|e| FetchError::Tls(e.to_string()))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
        TlsPolicy::Pinned(pem) => builder
            .with_root_certificates(pinned_roots(pem)?)
            .with_no_client_auth(),
        TlsPolicy::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth(),
    })
}

/// [`TlsPolicy::Insecure`]: any certificate, any signature.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.verify_tls12_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
