//! Bad input of every kind gets one of Amazon's errors (a 4xx with a reasonCode), never a
//! 500 or a dropped connection, and changes nothing.

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use support::*;

#[tokio::test]
async fn malformed_requests_get_amazon_errors_not_500s() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100").await;
    let raw = |method: &str, path: &str| {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        app.client.request(method, format!("{}{path}", app.http))
    };
    let cases = vec![
        raw("GET", "/"),
        raw("HEAD", "/v2/charges"),
        raw("OPTIONS", "/v2/charges"),
        raw("POST", "/v2/charges").body(vec![0xff, 0xfe, 0x00]),
        raw("GET", "/v2/%ff%fe"),
        raw("GET", "/sandbox"),
        raw("GET", "/v99999999999999999999/charges"),
        raw("GET", "/v2/charges").header("authorization", "AMZN-PAY-RSASSA-PSS"),
        raw("GET", "/v2/charges")
            .header("authorization", "AMZN-PAY-RSASSA-PSS PublicKeyId=, SignedHeaders=, Signature="),
        raw("GET", "/v2/charges").header("authorization", "x".repeat(10_000)),
        raw("GET", "/jr/your-account/ba/"),
        raw("POST", "/checkout/button").body("garbage"),
        raw("POST", "/checkout/button")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("payloadJSON=%7B&signature=x&publicKeyId=nope"),
        raw("GET", "/checkout/not-a-uuid/signin"),
    ];
    for request in cases {
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        assert!((400..500).contains(&status) || status == 200, "{status}");
    }

    // Signed requests with bodies of every wrong shape.
    let bodies = [
        "",
        "null",
        "[]",
        "\"text\"",
        "42",
        "{",
        "{}",
        "{\"chargeAmount\":null}",
        "{\"chargeAmount\":[]}",
        "{\"chargeAmount\":{\"amount\":{},\"currencyCode\":\"USD\"}}",
        "{\"chargePermissionId\":12}",
        "{\"chargePermissionId\":\"S01-0000000-0000000\",\"chargeAmount\":{\"amount\":\"1e400\",\"currencyCode\":\"USD\"}}",
        "{\"chargePermissionId\":\"S01-0000000-0000000\",\"chargeAmount\":{\"amount\":99999999999999999999999999,\"currencyCode\":\"USD\"}}",
    ];
    for body in bodies {
        for path in [
            "/v2/charges",
            "/v2/refunds",
            "/v2/checkoutSessions",
            "/v2/testHelpers/chargePermissions",
            "/v2/testHelpers/clock/advance",
        ] {
            let response = app.dev("POST", path).key(&new_key()).raw_body(body).send().await;
            assert!((400..500).contains(&response.status), "{path} {body}: {response:?}");
            assert!(response.body["reasonCode"].is_string(), "{path} {body}: {response:?}");
        }
    }
    let unchanged = app.get(&format!("/v2/chargePermissions/{permission}")).await;
    assert_eq!(unchanged["limits"]["amountBalance"]["amount"], "100.00");
}

#[test]
fn arbitrary_json_bodies_never_cause_a_server_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(TestApp::spawn());
    let permission = runtime.block_on(app.one_time("100"));
    let value = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(|b| json!(b)),
        any::<i64>().prop_map(|n| json!(n)),
        "[ -~]{0,12}".prop_map(|s| json!(s)),
        Just(json!(permission.clone())),
        Just(json!({"amount": "1.00", "currencyCode": "USD"})),
    ];
    let field = prop_oneof![
        Just("chargePermissionId"),
        Just("chargeAmount"),
        Just("captureNow"),
        Just("softDescriptor"),
        Just("canHandlePendingAuthorization"),
        Just("merchantMetadata"),
        Just("channel"),
        Just("chargeInitiator"),
        Just("other"),
    ];
    let body = proptest::collection::vec((field, value), 0..6);
    let mut runner = TestRunner::new(Config { cases: 64, ..Config::default() });
    runner
        .run(&body, |fields| {
            let object: serde_json::Map<String, serde_json::Value> =
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let response = runtime.block_on(
                app.dev("POST", "/v2/charges").key(&new_key()).json(&serde_json::Value::Object(object.clone())).send(),
            );
            prop_assert!(response.status < 500, "{object:?}: {response:?}");
            prop_assert!(response.body["reasonCode"].is_string() || response.status == 201, "{object:?}: {response:?}");
            Ok(())
        })
        .unwrap();
}
