//! Every vector of `../shared/spec/vectors/signing.json`, for both algorithms, on both the
//! client path (decoded inputs) and the server path (the request as it arrives on the wire).

use amzpay_signing::*;
use serde_json::Value;

fn shared(path: &str) -> String {
    let full = format!("{}/../../../shared/spec/vectors/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"))
}

fn vectors() -> Value {
    serde_json::from_str(&shared("signing.json")).unwrap()
}

struct Vector {
    name: String,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    payload: String,
    v: Value,
}

fn request_vectors() -> Vec<Vector> {
    let all = vectors();
    let list = all["request_vectors"].as_array().unwrap();
    assert!(list.len() >= 12, "the vector file shrank");
    list.iter()
        .map(|v| {
            let mut query = Vec::new();
            for (name, values) in v["query_parameters"].as_object().unwrap() {
                for value in values.as_array().unwrap() {
                    query.push((name.clone(), value.as_str().unwrap().to_owned()));
                }
            }
            let headers = v["headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, val)| (k.clone(), val.as_str().unwrap().to_owned()))
                .collect();
            Vector {
                name: v["name"].as_str().unwrap().to_owned(),
                method: v["method"].as_str().unwrap().to_owned(),
                path: v["path"].as_str().unwrap().to_owned(),
                query,
                headers,
                payload: v["payload"].as_str().unwrap().to_owned(),
                v: v.clone(),
            }
        })
        .collect()
}

fn signed_names(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = headers.iter().map(|(k, _)| k.to_ascii_lowercase()).collect();
    names.sort();
    names
}

#[test]
fn canonical_requests_and_strings_to_sign_match_every_vector() {
    for vector in request_vectors() {
        let uri = canonical_uri_from_decoded(&vector.path);
        assert_eq!(uri, vector.v["canonical_uri"].as_str().unwrap(), "{}", vector.name);
        let query = canonical_query_from_pairs(vector.query.clone());
        assert_eq!(query, vector.v["canonical_query"].as_str().unwrap(), "{}", vector.name);
        let names = signed_names(&vector.headers);
        let canonical = canonical_request(&CanonicalRequestInput {
            method: &vector.method,
            canonical_uri: &uri,
            canonical_query: &query,
            headers: &vector.headers,
            signed_headers: &names,
            body: vector.payload.as_bytes(),
        });
        assert_eq!(canonical, vector.v["canonical_request"].as_str().unwrap(), "{}", vector.name);
        assert_eq!(
            string_to_sign(Algorithm::V1, &canonical),
            vector.v["string_to_sign_v1"].as_str().unwrap(),
            "{}",
            vector.name
        );
        assert_eq!(
            string_to_sign(Algorithm::V2, &canonical),
            vector.v["string_to_sign_v2"].as_str().unwrap(),
            "{}",
            vector.name
        );
    }
}

#[test]
fn the_server_side_canonicalization_of_wire_paths_and_queries_matches_every_vector() {
    for vector in request_vectors() {
        // What a client puts on the wire: the canonical (encoded) forms.
        let wire_path = vector.v["canonical_uri"].as_str().unwrap();
        let wire_query = vector.v["canonical_query"].as_str().unwrap();
        assert_eq!(canonical_uri_from_wire(wire_path), wire_path, "{}", vector.name);
        assert_eq!(canonical_query_from_wire(wire_query), wire_query, "{}", vector.name);
    }
    // Lowercase escapes and unordered pairs canonicalize the same way.
    assert_eq!(canonical_uri_from_wire("/%e1%88%b4"), "/%E1%88%B4");
    assert_eq!(canonical_query_from_wire("foo=b&foo=a"), "foo=a&foo=b");
}

#[test]
fn button_signature_strings_match_the_vectors() {
    let all = vectors();
    for v in all["button_signature_vectors"].as_array().unwrap() {
        let payload = v["payload"].as_str().unwrap();
        assert_eq!(button_string_to_sign(Algorithm::V1, payload), v["string_to_sign_v1"].as_str().unwrap());
        assert_eq!(button_string_to_sign(Algorithm::V2, payload), v["string_to_sign_v2"].as_str().unwrap());
    }
}

#[test]
fn the_example_v2_signature_verifies_with_the_test_public_key_and_not_as_v1() {
    let public = parse_public_key_pem(&shared("test-key.pub.pem")).unwrap();
    for vector in request_vectors() {
        let Some(signature) = vector.v["signature_v2_example"].as_str() else {
            continue;
        };
        let to_sign = vector.v["string_to_sign_v2"].as_str().unwrap();
        assert_eq!(verify(&public, Algorithm::V2, to_sign, signature), Ok(()));
        assert_eq!(verify(&public, Algorithm::V1, to_sign, signature), Err(VerifyError::Mismatch));
        let tampered = to_sign.replace('4', "5");
        assert_eq!(verify(&public, Algorithm::V2, &tampered, signature), Err(VerifyError::Mismatch));
    }
}

#[test]
fn signatures_made_with_the_test_key_verify_for_both_algorithms_and_only_their_own() {
    let private = parse_private_key_pem(&shared("test-key.pem")).unwrap();
    let public = parse_public_key_pem(&shared("test-key.pub.pem")).unwrap();
    assert_eq!(private.public_key(), public);
    for algorithm in Algorithm::ALL {
        let signature = sign(&private, algorithm, "AMZN-PAY\nabc");
        assert_eq!(verify(&public, algorithm, "AMZN-PAY\nabc", &signature), Ok(()));
        let other = if algorithm == Algorithm::V1 { Algorithm::V2 } else { Algorithm::V1 };
        assert_eq!(verify(&public, other, "AMZN-PAY\nabc", &signature), Err(VerifyError::Mismatch));
        assert_eq!(verify(&public, algorithm, "AMZN-PAY\nabd", &signature), Err(VerifyError::Mismatch));
    }
    assert_eq!(verify(&public, Algorithm::V1, "x", "***"), Err(VerifyError::NotBase64));
}

#[test]
fn keys_load_as_pkcs1_and_pkcs8_and_never_print_their_material() {
    let pkcs1 = parse_private_key_pem(&shared("test-key.pem")).unwrap();
    let pkcs8_text = private_key_to_pem(&pkcs1);
    assert!(pkcs8_text.starts_with("-----BEGIN PRIVATE KEY-----"));
    let pkcs8 = parse_private_key_pem(&pkcs8_text).unwrap();
    assert_eq!(pkcs8.public_key(), pkcs1.public_key());
    assert_eq!(format!("{pkcs8:?}"), "PrivateKey(<redacted>)");
    assert_eq!(parse_private_key_pem("nope").unwrap_err(), KeyError::BadPrivateKey);
    let spki = public_key_to_pem(&pkcs1.public_key());
    assert_eq!(parse_public_key_pem(&spki).unwrap(), pkcs1.public_key());
}

#[test]
fn sign_request_produces_a_header_the_server_side_verifies() {
    let private = parse_private_key_pem(&shared("test-key.pem")).unwrap();
    let headers = vec![
        ("X-Amz-Pay-Date".to_owned(), "20240101T120000Z".to_owned()),
        ("accept".to_owned(), "application/json".to_owned()),
    ];
    let query = vec![("a b".to_owned(), "c".to_owned())];
    let header = sign_request(
        &private,
        Algorithm::V2,
        "SANDBOX-X",
        &RequestToSign { method: "GET", path: "/v2/charges/S01-1", query: &query, headers: &headers, body: b"" },
    );
    let parsed = AuthorizationHeader::parse(&header).unwrap();
    assert_eq!(parsed.signed_headers, ["accept", "x-amz-pay-date"]);
    let canonical = canonical_request(&CanonicalRequestInput {
        method: "GET",
        canonical_uri: &canonical_uri_from_wire("/v2/charges/S01-1"),
        canonical_query: &canonical_query_from_wire("a%20b=c"),
        headers: &headers,
        signed_headers: &parsed.signed_headers,
        body: b"",
    });
    let to_sign = string_to_sign(Algorithm::V2, &canonical);
    assert_eq!(verify(&private.public_key(), Algorithm::V2, &to_sign, &parsed.signature), Ok(()));
}

#[test]
fn sign_encoded_request_signs_an_encoded_slash_as_part_of_its_segment() {
    let private = parse_private_key_pem(&shared("test-key.pem")).unwrap();
    let headers = vec![("x-amz-pay-date".to_owned(), "20240101T120000Z".to_owned())];
    let sent = "/v2/checkoutSessions/a%2Fb%20c";
    let header = sign_encoded_request(
        &private,
        Algorithm::V2,
        "SANDBOX-X",
        &RequestToSign { method: "GET", path: sent, query: &[], headers: &headers, body: b"" },
    );
    let parsed = AuthorizationHeader::parse(&header).unwrap();
    let server_side = |canonical_uri: &str| {
        let canonical = canonical_request(&CanonicalRequestInput {
            method: "GET",
            canonical_uri,
            canonical_query: "",
            headers: &headers,
            signed_headers: &parsed.signed_headers,
            body: b"",
        });
        verify(&private.public_key(), Algorithm::V2, &string_to_sign(Algorithm::V2, &canonical), &parsed.signature)
    };
    assert_eq!(canonical_uri_from_wire(sent), sent);
    assert_eq!(server_side(&canonical_uri_from_wire(sent)), Ok(()));
    // Signed as a decoded path, the slash would have split the segment in two.
    assert_ne!(canonical_uri_from_decoded("/v2/checkoutSessions/a/b c"), sent);

    // Without reserved characters both ways sign the same canonical request.
    let plain = "/v2/charges/S01-1111111-1111111-C000001";
    assert_eq!(canonical_uri_from_wire(plain), canonical_uri_from_decoded(plain));
}
