//! The self-signed certificate for the HTTPS listener, generated once into the data
//! directory and reused afterwards. Both files are written atomically; the key is never
//! replaced (a certificate that was lost is issued again for the same key).

use std::path::{Path, PathBuf};

use crate::files::{Existing, Readers, write_atomic, write_new_private};

pub const CERT_FILE: &str = "tls-cert.pem";
pub const KEY_FILE: &str = "tls-key.pem";

/// Paths of the certificate and key, creating what is absent.
pub fn ensure_self_signed(data_dir: &Path) -> std::io::Result<(PathBuf, PathBuf)> {
    let cert_path = data_dir.join(CERT_FILE);
    let key_path = data_dir.join(KEY_FILE);
    let key = match std::fs::read_to_string(&key_path) {
        Ok(pem) => Some(rcgen::KeyPair::from_pem(&pem).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} is not a readable private key ({e}); move it out of the data directory to have a new \
                     key and certificate made",
                    key_path.display()
                ),
            )
        })?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error),
    };
    if key.is_some() && cert_path.exists() {
        return Ok((cert_path, key_path));
    }
    std::fs::create_dir_all(data_dir)?;
    let key = match key {
        Some(key) => key,
        None => {
            let key = rcgen::KeyPair::generate().map_err(std::io::Error::other)?;
            write_new_private(&key_path, key.serialize_pem().as_bytes())?;
            key
        }
    };
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let params = rcgen::CertificateParams::new(names).map_err(std::io::Error::other)?;
    let certificate = params.self_signed(&key).map_err(std::io::Error::other)?;
    write_atomic(&cert_path, certificate.pem().as_bytes(), Readers::Everyone, Existing::Replace)?;
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
