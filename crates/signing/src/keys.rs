//! RSA keys: PEM in (PKCS#1 or PKCS#8 private, SPKI or PKCS#1 public), PEM out, and fresh
//! key pairs for merchants.
//!
//! A private key never prints its material (`Debug` is redacted), and no key shorter than
//! [`MIN_KEY_BITS`] is ever accepted.

use std::fmt;

use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::Rsa;

/// Amazon Pay keys are RSA-2048; anything smaller is refused.
pub const MIN_KEY_BITS: usize = 2048;

/// The largest RSA key read: verification cost grows with the square of the size, so a key
/// far beyond what anyone uses (Amazon's are 2048 bits) would only make each request slow.
/// 4096 bits is the largest size in common use.
pub const MAX_KEY_BITS: usize = 4096;

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
pub struct PrivateKey(PKey<Private>);

/// An RSA public key: what a server verifies a merchant's signatures with.
#[derive(Clone)]
pub struct PublicKey(PKey<Public>);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} bits)", self.0.bits())
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &PublicKey) -> bool {
        self.0.public_eq(&other.0)
    }
}

impl Eq for PublicKey {}

impl PrivateKey {
    pub(crate) fn inner(&self) -> &PKey<Private> {
        &self.0
    }

    /// The public half, to register with Amazon (or amzpay) and to verify signatures with.
    pub fn public_key(&self) -> PublicKey {
        let rsa = self.0.rsa().expect("a PrivateKey holds an RSA key");
        let public = Rsa::from_public_components(
            rsa.n().to_owned().expect("copying the modulus"),
            rsa.e().to_owned().expect("copying the exponent"),
        )
        .expect("the public half of a valid RSA key");
        PublicKey(PKey::from_rsa(public).expect("wrapping an RSA public key"))
    }
}

impl PublicKey {
    pub(crate) fn inner(&self) -> &PKey<Public> {
        &self.0
    }
}

fn check_size(bits: usize, too_large: KeyError) -> Result<(), KeyError> {
    if bits < MIN_KEY_BITS {
        Err(KeyError::TooShort(bits))
    } else if bits > MAX_KEY_BITS {
        Err(too_large)
    } else {
        Ok(())
    }
}

/// A passphrase callback that refuses: an encrypted key is an error, never a prompt on the
/// terminal (OpenSSL's default when no callback is given).
fn no_passphrase(_buffer: &mut [u8]) -> Result<usize, ErrorStack> {
    Err(ErrorStack::get())
}

/// Reads a private key from PEM: PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`), as
/// Seller Central and the official SDKs hand them out. Encrypted keys are refused.
pub fn parse_private_key_pem(pem: &str) -> Result<PrivateKey, KeyError> {
    // OpenSSL reads both PEM forms here, and refuses a PKCS#8 key of another type.
    let rsa = Rsa::private_key_from_pem_callback(pem.trim().as_bytes(), no_passphrase)
        .map_err(|_| KeyError::BadPrivateKey)?;
    check_size(rsa.n().num_bits() as usize, KeyError::BadPrivateKey)?;
    // Parsing checks only the encoding; inconsistent numbers would sign garbage.
    if !rsa.check_key().unwrap_or(false) {
        return Err(KeyError::BadPrivateKey);
    }
    Ok(PrivateKey(PKey::from_rsa(rsa).map_err(|_| KeyError::BadPrivateKey)?))
}

/// Reads a public key from PEM: SPKI (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`), the
/// forms a merchant uploads.
pub fn parse_public_key_pem(pem: &str) -> Result<PublicKey, KeyError> {
    let pem = pem.trim().as_bytes();
    let rsa = Rsa::public_key_from_pem(pem)
        .or_else(|_| Rsa::public_key_from_pem_pkcs1(pem))
        .map_err(|_| KeyError::BadPublicKey)?;
    check_size(rsa.n().num_bits() as usize, KeyError::BadPublicKey)?;
    Ok(PublicKey(PKey::from_rsa(rsa).map_err(|_| KeyError::BadPublicKey)?))
}

/// A fresh RSA-2048 key pair, for a new merchant key; the public half is
/// [`PrivateKey::public_key`].
pub fn generate_private_key() -> PrivateKey {
    let rsa = Rsa::generate(MIN_KEY_BITS as u32).expect("RSA-2048 key generation with OpenSSL's random source");
    PrivateKey(PKey::from_rsa(rsa).expect("wrapping an RSA private key"))
}

/// PKCS#8 PEM, the form the official SDKs and Seller Central use.
pub fn private_key_to_pem(key: &PrivateKey) -> String {
    let pem = key.0.private_key_to_pem_pkcs8().expect("PKCS#8 encoding of a valid RSA key");
    String::from_utf8(pem).expect("PEM is ASCII")
}

/// SPKI (`PUBLIC KEY`) PEM, the form Seller Central takes when a merchant registers a key.
pub fn public_key_to_pem(key: &PublicKey) -> String {
    let pem = key.0.public_key_to_pem().expect("SPKI encoding of a valid RSA key");
    String::from_utf8(pem).expect("PEM is ASCII")
}

#[cfg(test)]
mod tests {
    use openssl::bn::BigNum;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::symm::Cipher;

    use super::*;

    fn text(pem: Vec<u8>) -> String {
        String::from_utf8(pem).unwrap()
    }

    #[test]
    fn an_encrypted_private_key_is_refused() {
        let key = generate_private_key();
        let rsa = key.inner().rsa().unwrap();
        let pkcs1 = text(rsa.private_key_to_pem_passphrase(Cipher::aes_128_cbc(), b"secret").unwrap());
        assert!(pkcs1.contains("ENCRYPTED"), "{pkcs1}");
        let pkcs8 = text(key.inner().private_key_to_pem_pkcs8_passphrase(Cipher::aes_128_cbc(), b"secret").unwrap());
        assert!(pkcs8.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "{pkcs8}");
        for pem in [pkcs1, pkcs8] {
            assert_eq!(parse_private_key_pem(&pem).unwrap_err(), KeyError::BadPrivateKey);
        }
    }

    #[test]
    fn keys_of_another_type_are_refused() {
        let ec = PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap())
            .unwrap();
        assert_eq!(
            parse_private_key_pem(&text(ec.private_key_to_pem_pkcs8().unwrap())).unwrap_err(),
            KeyError::BadPrivateKey
        );
        assert_eq!(parse_public_key_pem(&text(ec.public_key_to_pem().unwrap())).unwrap_err(), KeyError::BadPublicKey);
    }

    #[test]
    fn keys_shorter_than_2048_bits_or_longer_than_4096_are_refused() {
        let short = Rsa::generate(1024).unwrap();
        assert_eq!(
            parse_private_key_pem(&text(short.private_key_to_pem().unwrap())).unwrap_err(),
            KeyError::TooShort(1024)
        );
        assert_eq!(
            parse_public_key_pem(&text(short.public_key_to_pem().unwrap())).unwrap_err(),
            KeyError::TooShort(1024)
        );
        // A public key needs no primes: any odd modulus of the size will do.
        for (bits, accepted) in [(MAX_KEY_BITS, true), (MAX_KEY_BITS + 8, false)] {
            let mut n = BigNum::new().unwrap();
            n.rand(bits as i32, openssl::bn::MsbOption::ONE, true).unwrap();
            let long = Rsa::from_public_components(n, BigNum::from_u32(65537).unwrap()).unwrap();
            for pem in [long.public_key_to_pem().unwrap(), long.public_key_to_pem_pkcs1().unwrap()] {
                let parsed = parse_public_key_pem(&text(pem));
                assert_eq!(parsed.is_ok(), accepted, "{bits} bits: {parsed:?}");
            }
        }
    }

    #[test]
    fn a_private_key_whose_numbers_disagree_is_refused() {
        let rsa = generate_private_key().inner().rsa().unwrap();
        let copy = |n: &openssl::bn::BigNumRef| n.to_owned().unwrap();
        // d off by two: the encoding is well formed, the key is not.
        let mut d = copy(rsa.d());
        d.add_word(2).unwrap();
        let broken = Rsa::from_private_components(
            copy(rsa.n()),
            copy(rsa.e()),
            d,
            copy(rsa.p().unwrap()),
            copy(rsa.q().unwrap()),
            copy(rsa.dmp1().unwrap()),
            copy(rsa.dmq1().unwrap()),
            copy(rsa.iqmp().unwrap()),
        )
        .unwrap();
        assert_eq!(
            parse_private_key_pem(&text(broken.private_key_to_pem().unwrap())).unwrap_err(),
            KeyError::BadPrivateKey
        );
    }
}
