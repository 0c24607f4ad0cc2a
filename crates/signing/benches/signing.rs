//! Criterion benchmarks of request signing's hot paths (docs/performance.md): verifying a
//! signed Create Charge request as the server does (V2, salt 32, and V1, salt 20), signing
//! one as the SDK does, and the canonical request and string to sign alone.
//!
//! The key pair is the official SDKs' test key from `../shared/spec/vectors/`, read as
//! `tests/vectors.rs` reads it. Only the crate's public API is used, so the benches measure
//! whatever library implements it.
//!
//! `cargo bench -p amzpay-signing --bench signing`

use std::hint::black_box;

use amzpay_signing::{
    Algorithm, AuthorizationHeader, CanonicalRequestInput, PrivateKey, PublicKey, RequestToSign,
    canonical_query_from_wire, canonical_request, canonical_uri_from_wire, parse_private_key_pem, parse_public_key_pem,
    sign_request, string_to_sign, verify,
};
use criterion::{Criterion, criterion_group, criterion_main};

fn shared(path: &str) -> String {
    let full = format!("{}/../../../shared/spec/vectors/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"))
}

fn keys() -> (PrivateKey, PublicKey) {
    let private = parse_private_key_pem(&shared("test-key.pem")).expect("the vectors' private key parses");
    let public = parse_public_key_pem(&shared("test-key.pub.pem")).expect("the vectors' public key parses");
    (private, public)
}

const PUBLIC_KEY_ID: &str = "SANDBOX-AHEGSJCM3SPTGFIAQZ5Q3YXN";
const CREATE_CHARGE_PATH: &str = "/sandbox/v2/charges";
/// A Create Charge body as a checkout sends it: amount, capture, descriptor, metadata.
const CREATE_CHARGE_BODY: &str = r#"{"chargePermissionId":"S01-5105180-3221187","chargeAmount":{"amount":"14.00","currencyCode":"USD"},"captureNow":true,"softDescriptor":"Descriptor","canHandlePendingAuthorization":false,"merchantMetadata":{"merchantReferenceId":"order-20240115-0042","merchantStoreName":"Test Store","noteToBuyer":"Thank you for your order","customInformation":"bench"},"providerMetadata":{"providerReferenceId":null},"chargeInitiator":"CITU","channel":"Web"}"#;

/// The headers a client signs on a POST (the official SDKs' set, idempotency key included).
fn signed_headers() -> Vec<(String, String)> {
    [
        ("accept", "application/json"),
        ("content-type", "application/json"),
        ("x-amz-pay-date", "20240115T120000Z"),
        ("x-amz-pay-host", "pay-api.amazon.com"),
        ("x-amz-pay-idempotency-key", "0123456789abcdef0123456789abcdef"),
        ("x-amz-pay-region", "na"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A request as the server receives it: the signed headers, the `authorization` header, and
/// the unsigned ones any HTTP client adds.
struct WireRequest {
    method: &'static str,
    raw_path: &'static str,
    raw_query: &'static str,
    headers: Vec<(String, String)>,
    body: &'static [u8],
}

impl WireRequest {
    fn authorization(&self) -> &str {
        &self.headers.iter().find(|(k, _)| k == "authorization").expect("signed").1
    }
}

fn signed_create_charge(key: &PrivateKey, algorithm: Algorithm) -> WireRequest {
    let mut headers = signed_headers();
    let authorization = sign_request(
        key,
        algorithm,
        PUBLIC_KEY_ID,
        &RequestToSign {
            method: "POST",
            path: CREATE_CHARGE_PATH,
            query: &[],
            headers: &headers,
            body: CREATE_CHARGE_BODY.as_bytes(),
        },
    );
    let content_length = CREATE_CHARGE_BODY.len().to_string();
    headers.extend(
        [
            ("host", "pay-api.amazon.com"),
            ("content-length", content_length.as_str()),
            ("user-agent", "amazon-pay-api-sdk-nodejs/2.3.4 (JS/18.19.0; linux)"),
            ("authorization", authorization.as_str()),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    WireRequest {
        method: "POST",
        raw_path: CREATE_CHARGE_PATH,
        raw_query: "",
        headers,
        body: CREATE_CHARGE_BODY.as_bytes(),
    }
}

/// What the server does for every signed request once its headers passed: parse the
/// `authorization` header, rebuild the canonical request from the wire, hash it into the
/// string to sign, and check the RSASSA-PSS signature.
fn verify_request(public: &PublicKey, request: &WireRequest) -> bool {
    let Ok(authorization) = AuthorizationHeader::parse(request.authorization()) else {
        return false;
    };
    let canonical_uri = canonical_uri_from_wire(request.raw_path);
    let canonical_query = canonical_query_from_wire(request.raw_query);
    let canonical = canonical_request(&CanonicalRequestInput {
        method: request.method,
        canonical_uri: &canonical_uri,
        canonical_query: &canonical_query,
        headers: &request.headers,
        signed_headers: &authorization.signed_headers,
        body: request.body,
    });
    let to_sign = string_to_sign(authorization.algorithm, &canonical);
    verify(public, authorization.algorithm, &to_sign, &authorization.signature).is_ok()
}

fn verification(c: &mut Criterion) {
    let (private, public) = keys();
    let mut group = c.benchmark_group("verify");
    for (name, algorithm) in [("create_charge_v2_salt32", Algorithm::V2), ("create_charge_v1_salt20", Algorithm::V1)] {
        let request = signed_create_charge(&private, algorithm);
        // A bench of a check that fails would measure the wrong path.
        assert!(verify_request(&public, &request), "{name}: the signed request must verify");
        group.bench_function(name, |b| b.iter(|| verify_request(black_box(&public), black_box(&request))));
    }
    // The RSA operation alone, over a string to sign computed once: what the crypto library
    // costs, without parsing and hashing.
    let request = signed_create_charge(&private, Algorithm::V2);
    let authorization = AuthorizationHeader::parse(request.authorization()).expect("parses");
    let to_sign = create_charge_string_to_sign(&request, &authorization);
    assert!(verify(&public, Algorithm::V2, &to_sign, &authorization.signature).is_ok());
    group.bench_function("signature_only_v2_salt32", |b| {
        b.iter(|| verify(black_box(&public), Algorithm::V2, black_box(&to_sign), black_box(&authorization.signature)))
    });
    group.finish();
}

fn create_charge_string_to_sign(request: &WireRequest, authorization: &AuthorizationHeader) -> String {
    let canonical = canonical_request(&CanonicalRequestInput {
        method: request.method,
        canonical_uri: &canonical_uri_from_wire(request.raw_path),
        canonical_query: &canonical_query_from_wire(request.raw_query),
        headers: &request.headers,
        signed_headers: &authorization.signed_headers,
        body: request.body,
    });
    string_to_sign(authorization.algorithm, &canonical)
}

fn signing(c: &mut Criterion) {
    let (private, public) = keys();
    let headers = signed_headers();
    let request = RequestToSign {
        method: "POST",
        path: CREATE_CHARGE_PATH,
        query: &[],
        headers: &headers,
        body: CREATE_CHARGE_BODY.as_bytes(),
    };
    assert!(verify_request(&public, &signed_create_charge(&private, Algorithm::V2)));
    let mut group = c.benchmark_group("sign");
    group.bench_function("create_charge_v2_salt32", |b| {
        b.iter(|| sign_request(black_box(&private), Algorithm::V2, PUBLIC_KEY_ID, black_box(&request)))
    });
    group.finish();
}

fn canonicalization(c: &mut Criterion) {
    // A GET with an id in its path, a query (one value percent-encoded) and the usual headers,
    // as the server sees it.
    let mut headers = signed_headers();
    headers.retain(|(k, _)| k != "x-amz-pay-idempotency-key" && k != "content-type");
    headers.push(("host".to_owned(), "pay-api.amazon.com".to_owned()));
    headers.push(("user-agent".to_owned(), "amazon-pay-api-sdk-nodejs/2.3.4".to_owned()));
    let signed: Vec<String> =
        ["accept", "x-amz-pay-date", "x-amz-pay-host", "x-amz-pay-region"].map(String::from).into();
    let raw_path = "/sandbox/v2/charges/S01-5105180-3221187-C056351";
    let raw_query = "pageSize=10&createdSince=2024-01-01T00%3A00%3A00Z&nextToken=abc%2Fdef";
    let canonical = || {
        canonical_request(&CanonicalRequestInput {
            method: "GET",
            canonical_uri: &canonical_uri_from_wire(black_box(raw_path)),
            canonical_query: &canonical_query_from_wire(black_box(raw_query)),
            headers: black_box(&headers),
            signed_headers: &signed,
            body: b"",
        })
    };
    let example = canonical();
    assert!(example.starts_with("GET\n/sandbox/v2/charges/S01-5105180-3221187-C056351\ncreatedSince="), "{example}");
    let mut group = c.benchmark_group("canonical");
    group.bench_function("request_from_wire_get_with_id_and_query", |b| b.iter(canonical));
    group.bench_function("string_to_sign_v2", |b| b.iter(|| string_to_sign(Algorithm::V2, black_box(&example))));
    group.finish();
}

criterion_group!(benches, verification, signing, canonicalization);
criterion_main!(benches);
