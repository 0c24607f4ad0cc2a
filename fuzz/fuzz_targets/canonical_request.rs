//! The canonical request a server rebuilds from the wire (`canonical_uri_from_wire`,
//! `canonical_query_from_wire`, `canonical_request`, `string_to_sign`): never panics on any
//! path, query, header or body bytes. The canonical path and query use only unreserved
//! characters and upper-case `%XX` escapes, are fixed points (canonicalizing them again
//! changes nothing), keep every `/` of the path (an encoded `%2F` stays inside its
//! segment), and agree with what a client signs for the same decoded path and query
//! (`canonical_uri_from_decoded`, `canonical_query_from_pairs`).
//!
//! Input: lines (`\n`): method, raw path, raw query, `;`-separated signed header names,
//! then `name:value` header lines; the whole input is also the body.

#![no_main]

use amzpay_signing::{
    Algorithm, CanonicalRequestInput, canonical_query_from_pairs, canonical_query_from_wire, canonical_request,
    canonical_uri_from_decoded, canonical_uri_from_wire, string_to_sign,
};
use libfuzzer_sys::fuzz_target;

/// Only unreserved characters, the given separators and `%XX` with upper-case hex digits.
fn assert_canonical(text: &str, separators: &[u8]) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).unwrap_or_else(|| panic!("{text:?}: a cut escape"));
            assert!(hex.iter().all(|h| h.is_ascii_digit() || (b'A'..=b'F').contains(h)), "{text:?}: escape {hex:?}");
            i += 3;
            continue;
        }
        assert!(b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || separators.contains(&b), "{text:?}: {b:#x}");
        i += 1;
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let method = lines.next().unwrap_or_default();
    let raw_path = lines.next().unwrap_or_default();
    let raw_query = lines.next().unwrap_or_default();
    let signed_headers: Vec<String> = lines.next().unwrap_or_default().split(';').map(str::to_owned).collect();
    let headers: Vec<(String, String)> = lines
        .map(|line| line.split_once(':').unwrap_or((line, "")))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();

    let uri = canonical_uri_from_wire(raw_path);
    assert_canonical(&uri, b"/");
    assert_eq!(canonical_uri_from_wire(&uri), uri, "not a fixed point: {raw_path:?}");
    if !raw_path.is_empty() {
        assert_eq!(uri.matches('/').count(), raw_path.matches('/').count(), "{raw_path:?} -> {uri:?}");
    }
    let query = canonical_query_from_wire(raw_query);
    assert_canonical(&query, b"=&");
    assert_eq!(canonical_query_from_wire(&query), query, "not a fixed point: {raw_query:?}");

    // A client signs the decoded path and pairs; the server canonicalizes what it received.
    let client_uri = canonical_uri_from_decoded(raw_path);
    assert_eq!(canonical_uri_from_wire(&client_uri), client_uri, "{raw_path:?}");
    let pairs: Vec<(String, String)> = raw_query
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let client_query = canonical_query_from_pairs(pairs);
    assert_eq!(canonical_query_from_wire(&client_query), client_query, "{raw_query:?}");

    let canonical = canonical_request(&CanonicalRequestInput {
        method,
        canonical_uri: &uri,
        canonical_query: &query,
        headers: &headers,
        signed_headers: &signed_headers,
        body: data,
    });
    assert!(canonical.starts_with(&format!("{method}\n{uri}\n{query}\n")));
    for algorithm in Algorithm::ALL {
        let to_sign = string_to_sign(algorithm, &canonical);
        let (name, hash) = to_sign.split_once('\n').expect("two lines");
        assert_eq!(name, algorithm.name());
        assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{to_sign:?}");
    }
});
