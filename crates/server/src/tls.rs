//! The self-signed certificate for the HTTPS listener, generated once into the data
//! directory and reused afterwards.

use std::path::{Path, PathBuf};

pub const CERT_FILE: &str = "tls-cert.pem";
pub const KEY_FILE: &str = "tls-key.pem";

/// Paths of the certificate and key, creating them when absent.
pub fn ensure_self_signed(data_dir: &Path) -> std::io::Result<(PathBuf, PathBuf)> {
    let cert_path = data_dir.join(CERT_FILE);
    let key_path = data_dir.join(KEY_FILE);
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names).map_err(std::io::Error::other)?;
    std::fs::create_dir_all(data_dir)?;
    crate::files::write_private(&key_path, certified.key_pair.serialize_pem().as_bytes())?;
    std::fs::write(&cert_path, certified.cert.pem())?;
    Ok((cert_path, key_path))
}

/// The HTTPS listener's TLS: the certificate and key at these paths, HTTP/1.1 in ALPN (the
/// only protocol the listeners speak).
pub fn acceptor(cert_path: &Path, key_path: &Path) -> std::io::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |path: &Path, error: rustls::pki_types::pem::Error| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {error}", path.display()))
    };
    let chain = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| invalid(cert_path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(cert_path, e))?;
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| invalid(key_path, e))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(std::io::Error::other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}
