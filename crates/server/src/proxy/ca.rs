//! The local certificate authority that lets amzpay answer TLS for Amazon Pay's host names
//! (product.md, "Standing in for Amazon's hosts"): made once into the data directory
//! (`ca.pem`, and `ca-key.pem` readable by its owner only), kept across restarts, and used to
//! issue a leaf certificate per host on demand, cached for the life of the process.
//!
//! It issues certificates only for the hosts in [`super::AMAZON_HOSTS`]; the CA's private
//! key is never written into `ca.pem` and never logged.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;

use crate::files::{Existing, Readers};

/// The CA certificate clients trust.
pub const CA_FILE: &str = "ca.pem";
/// The CA's private key (mode 0600).
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// The CA's name, as clients show it.
const CA_COMMON_NAME: &str = "amzpay local CA (sandbox only)";
const CA_ORGANIZATION: &str = "amzpay";
/// The CA is valid from here to 2049 (UTCTime, which every client reads, ends in 2049).
const CA_VALID_FROM: (i32, u8, u8) = (2024, 1, 1);
const CA_VALID_TO: (i32, u8, u8) = (2049, 12, 31);
/// A leaf is valid from a day before it is issued (clock skew) for this many days: below the
/// 398 days browsers accept for a server certificate.
const LEAF_VALID_DAYS: i64 = 365;

/// Why the CA could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the local CA in {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("issuing a certificate: {0}")]
    Issue(String),
}

/// The CA, and the leaf certificates issued so far.
pub struct LocalCa {
    path: PathBuf,
    certificate_der: CertificateDer<'static>,
    /// The CA as an issuer: the same name and key as `ca.pem`, so what it signs chains to it.
    issuer: rcgen::Certificate,
    key: KeyPair,
    /// One key for every leaf of this process.
    leaf_key: KeyPair,
    leaves: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa").field("path", &self.path).finish_non_exhaustive()
    }
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, CA_COMMON_NAME);
    name.push(DnType::OrganizationName, CA_ORGANIZATION);
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = rcgen::date_time_ymd(CA_VALID_FROM.0, CA_VALID_FROM.1, CA_VALID_FROM.2);
    params.not_after = rcgen::date_time_ymd(CA_VALID_TO.0, CA_VALID_TO.1, CA_VALID_TO.2);
    params
}

fn invalid(path: &Path, message: impl ToString) -> CaError {
    CaError::Invalid { path: path.to_owned(), message: message.to_string() }
}

/// Where the CA certificate of a data directory is.
pub fn ca_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CA_FILE)
}

impl LocalCa {
    /// The data directory's CA, made first if it has none.
    pub fn load_or_create(data_dir: &Path) -> Result<LocalCa, CaError> {
        let path = ca_path(data_dir);
        let key_path = data_dir.join(CA_KEY_FILE);
        let key = match std::fs::read_to_string(&key_path) {
            Ok(pem) => Some(KeyPair::from_pem(&pem).map_err(|e| {
                invalid(&key_path, format!("not a readable private key ({e}); restore it, or move it and {CA_FILE} away to make a new CA that clients must trust anew"))
            })?),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(error.into()),
        };
        let certificate_pem = match (key.as_ref(), path.exists()) {
            (Some(_), true) => Some(std::fs::read_to_string(&path)?),
            (None, true) => {
                return Err(invalid(
                    &key_path,
                    format!(
                        "missing, but {} exists: clients that trust it cannot be served without its key. Restore \
                         {CA_KEY_FILE}, or move {CA_FILE} away to make a new CA that clients must trust anew",
                        path.display()
                    ),
                ));
            }
            (_, false) => None,
        };
        std::fs::create_dir_all(data_dir)?;
        let key = match key {
            Some(key) => key,
            None => {
                let key = KeyPair::generate().map_err(|e| CaError::Issue(e.to_string()))?;
                crate::files::write_new_private(&key_path, key.serialize_pem().as_bytes())?;
                key
            }
        };
        let certificate_pem = match certificate_pem {
            Some(pem) => pem,
            // A lost certificate is made again for the same key and name: what clients
            // trusted before still verifies the leaves.
            None => {
                let certificate = ca_params().self_signed(&key).map_err(|e| CaError::Issue(e.to_string()))?;
                let pem = certificate.pem();
                crate::files::write_atomic(&path, pem.as_bytes(), Readers::Everyone, Existing::Replace)?;
                pem
            }
        };
        let der = CertificateDer::from_pem_slice(certificate_pem.as_bytes()).map_err(|e| invalid(&path, e))?;
        // The certificate holds its subject's public key verbatim (SubjectPublicKeyInfo):
        // a CA certificate without the key's is another CA's, and its leaves would not chain.
        let public_key = key.public_key_der();
        if !der.as_ref().windows(public_key.len()).any(|window| window == public_key.as_slice()) {
            return Err(invalid(
                &path,
                format!("not the certificate of {CA_KEY_FILE}; restore the pair, or move both away to make a new CA"),
            ));
        }
        // Re-signing the same name with the same key gives an issuer whose certificates chain
        // to the `ca.pem` clients trust (issuer name and key identifier are the same).
        let issuer = ca_params().self_signed(&key).map_err(|e| CaError::Issue(e.to_string()))?;
        if issuer.params().distinguished_name != ca_params().distinguished_name {
            return Err(invalid(&path, "unexpected name"));
        }
        let leaf_key = KeyPair::generate().map_err(|e| CaError::Issue(e.to_string()))?;
        Ok(LocalCa { path, certificate_der: der, issuer, key, leaf_key, leaves: Mutex::default() })
    }

    /// Where `ca.pem` is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The CA certificate, DER.
    pub fn certificate_der(&self) -> &CertificateDer<'static> {
        &self.certificate_der
    }

    /// The certificate chain (leaf, then the CA) and key for `host`, issued on first use.
    /// The caller decides which hosts may have one.
    pub fn certified(&self, host: &str) -> Result<Arc<CertifiedKey>, CaError> {
        if let Some(found) = self.leaves.lock().expect("leaf cache").get(host) {
            return Ok(found.clone());
        }
        let issued = Arc::new(self.issue(host)?);
        self.leaves.lock().expect("leaf cache").insert(host.to_owned(), issued.clone());
        Ok(issued)
    }

    fn issue(&self, host: &str) -> Result<CertifiedKey, CaError> {
        let issue = |e: rcgen::Error| CaError::Issue(e.to_string());
        let mut params = CertificateParams::new(vec![host.to_owned()]).map_err(issue)?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, host);
        params.is_ca = IsCa::NoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(LEAF_VALID_DAYS);
        let leaf = params.signed_by(&self.leaf_key, &self.issuer, &self.key).map_err(issue)?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()));
        let signing_key =
            rustls::crypto::ring::sign::any_supported_type(&key_der).map_err(|e| CaError::Issue(e.to_string()))?;
        // The chain ends with the CA: Chromium's --ignore-certificate-errors-spki-list matches
        // only certificates the server sends.
        Ok(CertifiedKey::new(vec![leaf.der().clone(), self.certificate_der.clone()], signing_key))
    }
}
