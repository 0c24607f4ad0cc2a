//! Amazon Pay API v2 request signing (spec §9).
//!
//! ```text
//! CanonicalRequest = METHOD '\n' CanonicalURI '\n' CanonicalQuery '\n'
//!                    CanonicalHeaders '\n' SignedHeaders '\n' hex(sha256(body))
//! StringToSign     = ALG '\n' hex(sha256(CanonicalRequest))
//! Signature        = base64(RSASSA-PSS-SHA256(StringToSign))
//! ```
//!
//! Both sides live here: a server verifies what it received ([`canonical_uri_from_wire`],
//! [`canonical_query_from_wire`]), a client signs what it is about to send ([`sign_request`],
//! or [`sign_encoded_request`] for a path already encoded). The signatures of the SNS
//! envelopes IPNs travel in are here too ([`sns_string_to_sign`], [`sign_sns_v1`]).
//!
//! This crate does no IO and keeps no state; it never prints key material (a
//! [`PrivateKey`]'s `Debug` is redacted) and never decides whether a request is allowed,
//! only whether its signature matches.

#![deny(missing_docs)]

mod authorization;
mod canonical;
mod keys;
mod sns;

pub use authorization::{AuthorizationHeader, AuthorizationParseError};
pub use canonical::{
    CanonicalRequestInput, canonical_query_from_pairs, canonical_query_from_wire, canonical_request,
    canonical_uri_from_decoded, canonical_uri_from_wire, hex_sha256, string_to_sign,
};
pub use keys::{
    KeyError, PrivateKey, PublicKey, generate_private_key, parse_private_key_pem, parse_public_key_pem,
    private_key_to_pem, public_key_to_pem,
};
pub use sns::{SnsSignedFields, sign_sns_v1, sns_string_to_sign};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use openssl::hash::MessageDigest;
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Signer, Verifier};

/// The two signature algorithms Amazon Pay accepts. Both are RSASSA-PSS with SHA-256 and
/// MGF1-SHA-256; they differ only in salt length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `AMZN-PAY-RSASSA-PSS`, salt length 20: the official SDKs' default.
    V1,
    /// `AMZN-PAY-RSASSA-PSS-V2`, salt length 32 (the SHA-256 output size).
    V2,
}

impl Algorithm {
    /// Both algorithms, for tests and for servers that accept either.
    pub const ALL: [Algorithm; 2] = [Algorithm::V1, Algorithm::V2];

    /// The name as it appears in the `authorization` header and the string to sign.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::V1 => "AMZN-PAY-RSASSA-PSS",
            Algorithm::V2 => "AMZN-PAY-RSASSA-PSS-V2",
        }
    }

    /// PSS salt length in bytes (spec §9).
    pub fn salt_len(self) -> usize {
        match self {
            Algorithm::V1 => 20,
            Algorithm::V2 => 32,
        }
    }

    /// Parses an algorithm name exactly as Amazon spells it.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "AMZN-PAY-RSASSA-PSS" => Some(Algorithm::V1),
            "AMZN-PAY-RSASSA-PSS-V2" => Some(Algorithm::V2),
            _ => None,
        }
    }
}

/// Why a signature did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// The `Signature=` value cannot be a signature: it is not base64.
    #[error("the signature is not valid base64")]
    NotBase64,
    /// The signature was not made over this string to sign with the key's private half:
    /// a wrong key, a changed request, or a different canonicalization.
    #[error("the signature does not match the string to sign")]
    Mismatch,
}

/// Signs a string to sign. PSS signatures are randomized: two signatures of the same string
/// differ, and both verify.
pub fn sign(key: &PrivateKey, algorithm: Algorithm, string_to_sign: &str) -> String {
    let signature = pss_sign(key, algorithm, string_to_sign.as_bytes())
        // Signing with a well-formed RSA key (at least 2048 bits, far more than the PSS
        // encoding of a SHA-256 digest needs) cannot fail.
        .expect("RSASSA-PSS signing of a SHA-256 digest with a valid key");
    BASE64.encode(signature)
}

/// RSASSA-PSS with SHA-256, MGF1-SHA-256 and the algorithm's salt length.
fn pss_sign(key: &PrivateKey, algorithm: Algorithm, message: &[u8]) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    let mut signer = Signer::new(MessageDigest::sha256(), key.inner())?;
    signer.set_rsa_padding(Padding::PKCS1_PSS)?;
    signer.set_rsa_mgf1_md(MessageDigest::sha256())?;
    signer.set_rsa_pss_saltlen(RsaPssSaltlen::custom(algorithm.salt_len() as i32))?;
    signer.sign_oneshot_to_vec(message)
}

/// Verifies a base64 signature over a string to sign.
pub fn verify(
    key: &PublicKey,
    algorithm: Algorithm,
    string_to_sign: &str,
    signature_base64: &str,
) -> Result<(), VerifyError> {
    let signature = BASE64.decode(signature_base64.trim()).map_err(|_| VerifyError::NotBase64)?;
    match pss_verify(key, algorithm, string_to_sign.as_bytes(), &signature) {
        Ok(true) => Ok(()),
        // A signature of the wrong length or one that does not match: both are a mismatch.
        Ok(false) | Err(_) => Err(VerifyError::Mismatch),
    }
}

/// RSASSA-PSS verification; the salt must be exactly the algorithm's length, so a V1
/// signature never passes as V2 nor the reverse.
fn pss_verify(
    key: &PublicKey,
    algorithm: Algorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, openssl::error::ErrorStack> {
    let mut verifier = Verifier::new(MessageDigest::sha256(), key.inner())?;
    verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
    verifier.set_rsa_mgf1_md(MessageDigest::sha256())?;
    verifier.set_rsa_pss_saltlen(RsaPssSaltlen::custom(algorithm.salt_len() as i32))?;
    verifier.verify_oneshot(signature, message)
}

/// The string to sign of a button payload (`generateButtonSignature`): the payload bytes as
/// given, hashed; no timestamp.
pub fn button_string_to_sign(algorithm: Algorithm, payload: &str) -> String {
    format!("{}\n{}", algorithm.name(), hex_sha256(payload.as_bytes()))
}

/// Signs a button payload exactly as the official SDKs' `generateButtonSignature`.
pub fn generate_button_signature(key: &PrivateKey, algorithm: Algorithm, payload: &str) -> String {
    sign(key, algorithm, &button_string_to_sign(algorithm, payload))
}

/// A request a client is about to send: what [`sign_request`] and [`sign_encoded_request`]
/// sign.
pub struct RequestToSign<'a> {
    /// The HTTP method, uppercase (`GET`, `POST`, `PATCH`, `DELETE`).
    pub method: &'a str,
    /// The path: not yet percent-encoded for [`sign_request`] (`/sandbox/v2/charges`), and
    /// exactly as sent, percent-encoded, for [`sign_encoded_request`].
    pub path: &'a str,
    /// Query parameters, not percent-encoded.
    pub query: &'a [(String, String)],
    /// Every header that will be signed, with its value. Names in any case.
    pub headers: &'a [(String, String)],
    /// The body as sent (empty for GET).
    pub body: &'a [u8],
}

/// Signs a request whose path is not percent-encoded yet and returns the value of its
/// `authorization` header. Every header given is signed. A `/` in the path always separates
/// segments; a client whose path segments may contain `/` or `%` encodes them itself and
/// signs with [`sign_encoded_request`].
pub fn sign_request(
    key: &PrivateKey,
    algorithm: Algorithm,
    public_key_id: &str,
    request: &RequestToSign<'_>,
) -> String {
    sign_with_canonical_uri(key, algorithm, public_key_id, request, &canonical_uri_from_decoded(request.path))
}

/// Signs a request whose path is already percent-encoded, exactly as it will be sent
/// (`/v2/checkoutSessions/a%2Fb`), and returns the value of its `authorization` header. The
/// canonical URI is computed as a server computes it from what it receives
/// ([`canonical_uri_from_wire`]), so an encoded `/` inside a segment signs as that segment.
/// For a path of unreserved characters only, this signs exactly as [`sign_request`] does.
pub fn sign_encoded_request(
    key: &PrivateKey,
    algorithm: Algorithm,
    public_key_id: &str,
    request: &RequestToSign<'_>,
) -> String {
    sign_with_canonical_uri(key, algorithm, public_key_id, request, &canonical_uri_from_wire(request.path))
}

fn sign_with_canonical_uri(
    key: &PrivateKey,
    algorithm: Algorithm,
    public_key_id: &str,
    request: &RequestToSign<'_>,
    canonical_uri: &str,
) -> String {
    let mut signed_headers: Vec<String> = request.headers.iter().map(|(name, _)| name.to_ascii_lowercase()).collect();
    signed_headers.sort();
    let canonical_query = canonical_query_from_pairs(request.query.iter().cloned());
    let canonical = canonical_request(&CanonicalRequestInput {
        method: request.method,
        canonical_uri,
        canonical_query: &canonical_query,
        headers: request.headers,
        signed_headers: &signed_headers,
        body: request.body,
    });
    let to_sign = string_to_sign(algorithm, &canonical);
    let signature = sign(key, algorithm, &to_sign);
    AuthorizationHeader { algorithm, public_key_id: public_key_id.to_owned(), signed_headers, signature }.to_string()
}
