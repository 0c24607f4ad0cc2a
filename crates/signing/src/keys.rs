//! RSA keys: PEM in (PKCS#1 or PKCS#8 private, SPKI or PKCS#1 public), PEM out, and fresh
//! key pairs for merchants.
//!
//! A private key never prints its material (`Debug` is redacted), and no key shorter than
//! [`MIN_KEY_BITS`] is ever accepted.

use std::fmt;

use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

/// Amazon Pay keys are RSA-2048; anything smaller is refused.
pub const MIN_KEY_BITS: usize = 2048;

/// Why a PEM key was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// The text is neither a PKCS#1 nor a PKCS#8 PEM RSA private key.
    #[error("not a PEM RSA private key (PKCS#1 'RSA PRIVATE KEY' or PKCS#8 'PRIVATE KEY')")]
    BadPrivateKey,
    /// The text is neither an SPKI nor a PKCS#1 PEM RSA public key.
    #[error("not a PEM RSA public key ('PUBLIC KEY' or 'RSA PUBLIC KEY')")]
    BadPublicKey,
    /// The key is an RSA key, but shorter than Amazon Pay's 2048 bits (its size given).
    #[error("the RSA key has {0} bits; at least {MIN_KEY_BITS} are required")]
    TooShort(usize),
}

/// An RSA private key. Its `Debug` output never shows key material.
#[derive(Clone)]
pub struct PrivateKey(RsaPrivateKey);

/// An RSA public key: what a server verifies a merchant's signatures with.
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

    /// The public half, to register with Amazon (or amzpay) and to verify signatures with.
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

/// Reads a private key from PEM: PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`), as
/// Seller Central and the official SDKs hand them out.
pub fn parse_private_key_pem(pem: &str) -> Result<PrivateKey, KeyError> {
    let key = RsaPrivateKey::from_pkcs1_pem(pem.trim())
        .or_else(|_| RsaPrivateKey::from_pkcs8_pem(pem.trim()))
        .map_err(|_| KeyError::BadPrivateKey)?;
    check_size(key.n().bits())?;
    Ok(PrivateKey(key))
}

/// Reads a public key from PEM: SPKI (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`), the
/// forms a merchant uploads.
pub fn parse_public_key_pem(pem: &str) -> Result<PublicKey, KeyError> {
    let key = RsaPublicKey::from_public_key_pem(pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
        .map_err(|_| KeyError::BadPublicKey)?;
    check_size(key.n().bits())?;
    Ok(PublicKey(key))
}

/// A fresh RSA-2048 key pair, for a new merchant key; the public half is
/// [`PrivateKey::public_key`].
pub fn generate_private_key() -> PrivateKey {
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), MIN_KEY_BITS)
        .expect("RSA-2048 key generation with the OS random source");
    PrivateKey(key)
}

/// PKCS#8 PEM, the form the official SDKs and Seller Central use.
pub fn private_key_to_pem(key: &PrivateKey) -> String {
    key.0.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8 encoding of a valid RSA key").to_string()
}

/// SPKI (`PUBLIC KEY`) PEM, the form Seller Central takes when a merchant registers a key.
pub fn public_key_to_pem(key: &PublicKey) -> String {
    key.0.to_public_key_pem(LineEnding::LF).expect("SPKI encoding of a valid RSA key")
}
