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
