//! The `authorization` header:
//! `{ALG} PublicKeyId={id}, SignedHeaders={h1;h2;...}, Signature={base64}`, parsed by a
//! server and written by a client.
//!
//! Parsing checks the header's shape only: it never verifies the signature or looks the
//! key up, and its `Debug` never prints the signature.

use std::fmt;

use crate::Algorithm;

/// An `authorization` header split into its parts: what a server reads to find the key
/// and the signed headers, and what a client writes with `to_string()`.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    /// Which of the two algorithms signed the request.
    pub algorithm: Algorithm,
    /// The key that signed, as registered with Amazon (`SANDBOX-...`, `LIVE-...` or a
    /// legacy id without prefix).
    pub public_key_id: String,
    /// Lowercase header names in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// The base64 RSASSA-PSS signature over the string to sign.
    pub signature: String,
}

impl fmt::Debug for AuthorizationHeader {
    // The signature is not a secret, but it is long and useless in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationHeader")
            .field("algorithm", &self.algorithm)
            .field("public_key_id", &self.public_key_id)
            .field("signed_headers", &self.signed_headers)
            .finish_non_exhaustive()
    }
}

/// Why an `authorization` header could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthorizationParseError {
    /// The header names an algorithm Amazon Pay does not accept (e.g. AWS's SigV4).
    #[error("unknown signature algorithm '{0}'; use AMZN-PAY-RSASSA-PSS or AMZN-PAY-RSASSA-PSS-V2")]
    UnknownAlgorithm(String),
    /// A required part (`PublicKeyId`, `SignedHeaders` or `Signature`) is absent or empty.
    #[error("the authorization header lacks {0}")]
    Missing(&'static str),
    /// The header is not `{ALG} Name=value, ...`, or names a part Amazon does not define.
    #[error("the authorization header is malformed: {0}")]
    Malformed(&'static str),
}

impl AuthorizationHeader {
    /// Reads a header as the official SDKs write it: the algorithm, then the three parts in
    /// any order, separated by commas (whitespace around them ignored).
    pub fn parse(value: &str) -> Result<AuthorizationHeader, AuthorizationParseError> {
        let value = value.trim();
        let (algorithm_name, rest) = value.split_once(' ').ok_or(AuthorizationParseError::Malformed(
            "expected '{ALG} PublicKeyId=..., SignedHeaders=..., Signature=...'",
        ))?;
        let algorithm = Algorithm::from_name(algorithm_name)
            .ok_or_else(|| AuthorizationParseError::UnknownAlgorithm(algorithm_name.to_owned()))?;
        let mut public_key_id = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (name, field) =
                part.split_once('=').ok_or(AuthorizationParseError::Malformed("each part must be Name=value"))?;
            match name.trim() {
                "PublicKeyId" => public_key_id = Some(field.trim().to_owned()),
                "SignedHeaders" => {
                    signed_headers = Some(
                        field
                            .split(';')
                            .map(|h| h.trim().to_ascii_lowercase())
                            .filter(|h| !h.is_empty())
                            .collect::<Vec<_>>(),
                    )
                }
                // Base64 may end in '=', so keep everything after the first '='.
                "Signature" => signature = Some(field.trim().to_owned()),
                _ => return Err(AuthorizationParseError::Malformed("unknown part")),
            }
        }
        let public_key_id =
            public_key_id.filter(|id| !id.is_empty()).ok_or(AuthorizationParseError::Missing("PublicKeyId"))?;
        let signed_headers =
            signed_headers.filter(|h| !h.is_empty()).ok_or(AuthorizationParseError::Missing("SignedHeaders"))?;
        let signature = signature.filter(|s| !s.is_empty()).ok_or(AuthorizationParseError::Missing("Signature"))?;
        Ok(AuthorizationHeader { algorithm, public_key_id, signed_headers, signature })
    }
}

impl fmt::Display for AuthorizationHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} PublicKeyId={}, SignedHeaders={}, Signature={}",
            self.algorithm.name(),
            self.public_key_id,
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_sdks_send_and_prints_it_back() {
        let text = "AMZN-PAY-RSASSA-PSS-V2 PublicKeyId=SANDBOX-ABC, SignedHeaders=accept;content-type;x-amz-pay-date, Signature=ab+c/d==";
        let header = AuthorizationHeader::parse(text).unwrap();
        assert_eq!(header.algorithm, Algorithm::V2);
        assert_eq!(header.public_key_id, "SANDBOX-ABC");
        assert_eq!(header.signed_headers, ["accept", "content-type", "x-amz-pay-date"]);
        assert_eq!(header.signature, "ab+c/d==");
        assert_eq!(header.to_string(), text);
    }

    #[test]
    fn rejects_unknown_algorithms_and_missing_parts() {
        assert_eq!(
            AuthorizationHeader::parse("AWS4-HMAC-SHA256 Credential=x"),
            Err(AuthorizationParseError::UnknownAlgorithm("AWS4-HMAC-SHA256".into()))
        );
        assert_eq!(
            AuthorizationHeader::parse("AMZN-PAY-RSASSA-PSS PublicKeyId=X, SignedHeaders=a"),
            Err(AuthorizationParseError::Missing("Signature"))
        );
        assert!(AuthorizationHeader::parse("garbage").is_err());
    }
}
