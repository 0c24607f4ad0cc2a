//! RSA keys: PEM in (PKCS#1 or PKCS#8 private, SPKI or PKCS#1 public), PEM out.

use std::fmt;

use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

/// Amazon Pay keys are RSA-2048; anything smaller is refused.
pub const MIN_KEY_BITS: usize = 2048;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("not a PEM RSA private key (PKCS#1 'RSA PRIVATE KEY' or PKCS#8 'PRIVATE KEY')")]
    BadPrivateKey,
    #[error("not a PEM RSA public key ('PUBLIC KEY' or 'RSA PUBLIC KEY')")]
    BadPublicKey,
    #[error("the RSA key has {0} bits; at least {MIN_KEY_BITS} are required")]
    TooShort(usize),
}

/// An RSA private key. Its `Debug` output never shows key material.
#[derive(Clone)]
pub struct PrivateKey(RsaPrivateKey);

/// An RSA public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(RsaPublicKey);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} bits)", self.0.n().bits())
    }
}

impl PrivateKey {
    pub(crate) fn inner(&self) -> &RsaPrivateKey {
        &self.0
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.to_public_key())
    }
}

impl PublicKey {
    pub(crate) fn inner(&self) -> &RsaPublicKey {
        &self.0
    }
}

fn check_size(bits: usize) -> Result<(), KeyError> {
    if bits < MIN_KEY_BITS { Err(KeyError::TooShort(bits)) } else { Ok(()) }
}

pub fn parse_private_key_pem(pem: &str) -> Result<PrivateKey, KeyError> {
    let key = RsaPrivateKey::from_pkcs1_pem(pem.trim())
        .or_else(|_| RsaPrivateKey::from_pkcs8_pem(pem.trim()))
        .map_err(|_| KeyError::BadPrivateKey)?;
    check_size(key.n().bits())?;
    Ok(PrivateKey(key))
}

pub fn parse_public_key_pem(pem: &str) -> Result<PublicKey, KeyError> {
    let key = RsaPublicKey::from_public_key_pem(pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
        .map_err(|_| KeyError::BadPublicKey)?;
    check_size(key.n().bits())?;
    Ok(PublicKey(key))
}

/// A fresh RSA-2048 key pair.
pub fn generate_private_key() -> PrivateKey {
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), MIN_KEY_BITS)
        .expect("RSA-2048 key generation with the OS random source");
    PrivateKey(key)
}

/// PKCS#8 PEM, the form the official SDKs and Seller Central use.
pub fn private_key_to_pem(key: &PrivateKey) -> String {
    key.0.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8 encoding of a valid RSA key").to_string()
}

/// SPKI (`PUBLIC KEY`) PEM.
pub fn public_key_to_pem(key: &PublicKey) -> String {
    key.0.to_public_key_pem(LineEnding::LF).expect("SPKI encoding of a valid RSA key")
}
