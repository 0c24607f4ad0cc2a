//! The canonical request and the string to sign: percent-encoding of paths and queries
//! the way Amazon's SDKs do it, from a path not yet encoded (a client) or as received on
//! the wire (a server), headers sorted and trimmed, the body hashed.
//!
//! Pure text functions: nothing here signs, verifies or touches a key.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::Algorithm;

/// Everything RFC 3986 does not call unreserved is percent-encoded: the unreserved set is
/// `A-Z a-z 0-9 - _ . ~`.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Lowercase hex SHA-256 of some bytes: the body hash in a canonical request and the hash
/// in a string to sign.
pub fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(openssl::sha::sha256(bytes))
}

/// Canonical URI of a path that is not percent-encoded yet: each segment encoded, `/` kept,
/// an empty path becomes `/`.
pub fn canonical_uri_from_decoded(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    path.split('/').map(|segment| utf8_percent_encode(segment, ENCODE).to_string()).collect::<Vec<_>>().join("/")
}

/// Canonical URI of a path as it arrived on the wire: each segment is decoded, then encoded
/// the canonical way, so `%e1%88%b4`, `%E1%88%B4` and a raw `ሴ` all sign alike.
pub fn canonical_uri_from_wire(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_owned();
    }
    raw_path
        .split('/')
        .map(|segment| {
            let decoded: Vec<u8> = percent_decode_str(segment).collect();
            percent_encoding::percent_encode(&decoded, ENCODE).to_string()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Canonical query of decoded name/value pairs: each encoded, sorted by name then value,
/// joined with `&`.
pub fn canonical_query_from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(name, value)| {
            (utf8_percent_encode(&name, ENCODE).to_string(), utf8_percent_encode(&value, ENCODE).to_string())
        })
        .collect();
    encoded.sort();
    encoded.into_iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("&")
}

/// Canonical query of a raw query string as received (without the `?`). `+` is a literal
/// plus, as RFC 3986 has it; the SDKs encode spaces as `%20`.
pub fn canonical_query_from_wire(raw_query: &str) -> String {
    let pairs = raw_query.split('&').filter(|pair| !pair.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode_lossy(name), decode_lossy(value))
    });
    canonical_query_from_pairs(pairs)
}

fn decode_lossy(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// The inputs of a canonical request once URI and query are canonical.
pub struct CanonicalRequestInput<'a> {
    /// The HTTP method, uppercase, as sent.
    pub method: &'a str,
    /// The path, already canonical ([`canonical_uri_from_decoded`] or
    /// [`canonical_uri_from_wire`]).
    pub canonical_uri: &'a str,
    /// The query, already canonical ([`canonical_query_from_pairs`] or
    /// [`canonical_query_from_wire`]); empty when there is none.
    pub canonical_query: &'a str,
    /// The request's headers (names in any case). Only those named in `signed_headers` count.
    pub headers: &'a [(String, String)],
    /// Lowercase header names, in the order the client listed them in `SignedHeaders`.
    pub signed_headers: &'a [String],
    /// The body as sent; only its SHA-256 enters the canonical request.
    pub body: &'a [u8],
}

/// Builds the canonical request. Signed headers are written sorted by name; a signed header
/// that was not sent counts with an empty value (and so will not verify unless the client
/// signed it empty too). Repeated headers are joined with `,`.
pub fn canonical_request(input: &CanonicalRequestInput<'_>) -> String {
    let mut names: Vec<&str> = input.signed_headers.iter().map(String::as_str).collect();
    names.sort_unstable();
    let mut out = String::with_capacity(512);
    out.push_str(input.method);
    out.push('\n');
    out.push_str(input.canonical_uri);
    out.push('\n');
    out.push_str(input.canonical_query);
    out.push('\n');
    for name in &names {
        let values: Vec<&str> = input
            .headers
            .iter()
            .filter(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim())
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&input.signed_headers.join(";"));
    out.push('\n');
    out.push_str(&hex_sha256(input.body));
    out
}

/// The string to sign, what the signature covers: `ALG '\n' hex(sha256(CanonicalRequest))`.
pub fn string_to_sign(algorithm: Algorithm, canonical_request: &str) -> String {
    format!("{}\n{}", algorithm.name(), hex_sha256(canonical_request.as_bytes()))
}
