//! The SDK's signatures: the shared vectors, and verification by an independent
//! implementation (Node.js's `crypto`, which is OpenSSL).

use std::io::Write;
use std::process::{Command, Stdio};

use amzpay_sdk::signing::*;
use amzpay_sdk::{Client, Config, Environment, Region};
use serde_json::Value;

fn shared(file: &str) -> String {
    std::fs::read_to_string(format!("{}/../../../shared/spec/vectors/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn the_sdk_signing_path_matches_every_vector() {
    let vectors: Value = serde_json::from_str(&shared("signing.json")).unwrap();
    let list = vectors["request_vectors"].as_array().unwrap();
    assert!(list.len() >= 12);
    for vector in list {
        let headers: Vec<(String, String)> = vector["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let mut query = Vec::new();
        for (name, values) in vector["query_parameters"].as_object().unwrap() {
            for value in values.as_array().unwrap() {
                query.push((name.clone(), value.as_str().unwrap().to_owned()));
            }
        }
        let mut names: Vec<String> = headers.iter().map(|(k, _)| k.to_ascii_lowercase()).collect();
        names.sort();
        let uri = canonical_uri_from_decoded(vector["path"].as_str().unwrap());
        let canonical_query = canonical_query_from_pairs(query);
        let canonical = canonical_request(&CanonicalRequestInput {
            method: vector["method"].as_str().unwrap(),
            canonical_uri: &uri,
            canonical_query: &canonical_query,
            headers: &headers,
            signed_headers: &names,
            body: vector["payload"].as_str().unwrap().as_bytes(),
        });
        assert_eq!(canonical, vector["canonical_request"].as_str().unwrap());
        assert_eq!(string_to_sign(Algorithm::V1, &canonical), vector["string_to_sign_v1"].as_str().unwrap());
        assert_eq!(string_to_sign(Algorithm::V2, &canonical), vector["string_to_sign_v2"].as_str().unwrap());
    }
}

/// Verifies `signature` over `message` with Node.js (OpenSSL), PSS with SHA-256 and the
/// given salt length. Returns whether it verified.
fn node_verifies(public_pem: &str, message: &str, signature: &str, salt_length: usize) -> bool {
    let script = r#"
        const crypto = require('crypto');
        let input = '';
        process.stdin.on('data', (d) => (input += d));
        process.stdin.on('end', () => {
            const { key, message, signature, saltLength } = JSON.parse(input);
            const ok = crypto.verify('sha256', Buffer.from(message), { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength }, Buffer.from(signature, 'base64'));
            process.stdout.write(ok ? 'verified' : 'rejected');
        });
    "#;
    let mut child = Command::new("node")
        .args(["-e", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("running node (Node.js 18 or later)");
    let input =
        serde_json::json!({"key": public_pem, "message": message, "signature": signature, "saltLength": salt_length});
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    match String::from_utf8(output.stdout).unwrap().as_str() {
        "verified" => true,
        "rejected" => false,
        other => panic!("node said {other}"),
    }
}

#[test]
fn request_signatures_made_by_the_sdk_verify_with_openssl_through_node() {
    let private = parse_private_key_pem(&shared("test-key.pem")).unwrap();
    let public_pem = shared("test-key.pub.pem");
    for algorithm in Algorithm::ALL {
        let config =
            Config::new(Region::Na, Environment::Sandbox, "SANDBOX-TEST", private.clone()).algorithm(algorithm);
        let client = Client::new(config).unwrap();
        let body =
            br#"{"chargePermissionId":"S01-0000000-0000000","chargeAmount":{"amount":"14.00","currencyCode":"USD"}}"#;
        let headers = client.signed_headers(
            "POST",
            "/v2/charges",
            &[],
            body,
            &[("x-amz-pay-idempotency-key".into(), "k1".into())],
        );
        let authorization =
            AuthorizationHeader::parse(&headers.iter().find(|(n, _)| n == "authorization").unwrap().1).unwrap();
        assert_eq!(authorization.algorithm, algorithm);
        assert!(authorization.signed_headers.contains(&"x-amz-pay-idempotency-key".to_owned()));
        let canonical = canonical_request(&CanonicalRequestInput {
            method: "POST",
            canonical_uri: "/v2/charges",
            canonical_query: "",
            headers: &headers,
            signed_headers: &authorization.signed_headers,
            body,
        });
        let to_sign = string_to_sign(algorithm, &canonical);
        assert!(node_verifies(&public_pem, &to_sign, &authorization.signature, algorithm.salt_len()), "{algorithm:?}");
        let other_salt = if algorithm == Algorithm::V1 { 32 } else { 20 };
        assert!(
            !node_verifies(&public_pem, &to_sign, &authorization.signature, other_salt),
            "{algorithm:?} with the wrong salt"
        );
        assert!(!node_verifies(&public_pem, &format!("{to_sign}x"), &authorization.signature, algorithm.salt_len()));

        let payload =
            serde_json::from_str::<Value>(&shared("signing.json")).unwrap()["button_signature_vectors"][0]["payload"]
                .as_str()
                .unwrap()
                .to_owned();
        let button = client.generate_button_signature(&payload);
        assert!(node_verifies(&public_pem, &button_string_to_sign(algorithm, &payload), &button, algorithm.salt_len()));
    }
}
