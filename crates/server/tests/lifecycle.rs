//! The charge lifecycle through real signed HTTP requests: both algorithms, both key
//! styles, both path styles, with and without a trailing slash, over HTTP and HTTPS.

mod support;

use amzpay_domain::{Environment, Region};
use amzpay_server::merchants::KeyStyle;
use amzpay_signing::Algorithm;
use serde_json::{Value, json};
use support::*;

fn is_compact_timestamp(value: &Value) -> bool {
    let text = value.as_str().unwrap_or("");
    text.len() == 16
        && text.as_bytes()[8] == b'T'
        && text.ends_with('Z')
        && text[..8].bytes().all(|b| b.is_ascii_digit())
}

#[tokio::test]
async fn the_whole_lifecycle_works_for_every_algorithm_key_style_and_path_style() {
    let app = TestApp::spawn().await;
    let legacy = app.merchant(Region::Na, KeyStyle::Legacy).await;
    let prefixed = app.dev.clone();
    // (merchant, path prefix): prefixed keys on /v2 and, as the Ruby SDK sends, on
    // /sandbox/v2; legacy keys on /sandbox/v2.
    let styles = [(&prefixed, "/v2"), (&prefixed, "/sandbox/v2"), (&legacy, "/sandbox/v2")];
    for algorithm in Algorithm::ALL {
        for (merchant, prefix) in styles {
            for slash in ["", "/"] {
                let label = format!("{algorithm:?} {} {prefix} '{slash}'", merchant.public_key_id);
                let call = |method: &'static str, path: String| {
                    let path = format!("{prefix}{path}{slash}");
                    app.call(merchant, method, path).algorithm(algorithm)
                };
                let permission = call("POST", "/testHelpers/chargePermissions".into())
                    .key(&new_key())
                    .json(&json!({"amountLimit": {"amount": "100.00", "currencyCode": "USD"}}))
                    .send()
                    .await;
                let permission_id = permission.assert_status(201)["chargePermissionId"].as_str().unwrap().to_owned();

                let got = call("GET", format!("/chargePermissions/{permission_id}")).send().await;
                assert_eq!(got.assert_status(200)["statusDetails"]["state"], "Chargeable", "{label}");

                let updated = call("PATCH", format!("/chargePermissions/{permission_id}"))
                    .json(&json!({"merchantMetadata": {"merchantReferenceId": "order-7"}}))
                    .send()
                    .await;
                assert_eq!(updated.assert_status(200)["merchantMetadata"]["merchantReferenceId"], "order-7", "{label}");

                let charge = call("POST", "/charges".into())
                    .key(&new_key())
                    .json(&json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": "14.00", "currencyCode": "USD"}}))
                    .send()
                    .await;
                let charge_id = charge.assert_status(201)["chargeId"].as_str().unwrap().to_owned();
                assert_eq!(charge.body["statusDetails"]["state"], "Authorized", "{label}");

                let got = call("GET", format!("/charges/{charge_id}")).send().await;
                assert_eq!(got.assert_status(200)["chargeId"], charge_id.as_str(), "{label}");

                let captured = call("POST", format!("/charges/{charge_id}/capture"))
                    .key(&new_key())
                    .json(
                        &json!({"captureAmount": {"amount": "14.00", "currencyCode": "USD"}, "softDescriptor": "Shop"}),
                    )
                    .send()
                    .await;
                assert_eq!(captured.assert_status(200)["statusDetails"]["state"], "Captured", "{label}");

                let refund = call("POST", "/refunds".into())
                    .key(&new_key())
                    .json(&json!({"chargeId": charge_id, "refundAmount": {"amount": "4.00", "currencyCode": "USD"}}))
                    .send()
                    .await;
                let refund_id = refund.assert_status(201)["refundId"].as_str().unwrap().to_owned();
                let got = call("GET", format!("/refunds/{refund_id}")).send().await;
                assert_eq!(got.assert_status(200)["statusDetails"]["state"], "RefundInitiated", "{label}");

                let second = call("POST", "/charges".into())
                    .key(&new_key())
                    .json(&json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": "10", "currencyCode": "USD"}}))
                    .send()
                    .await;
                let second_id = second.assert_status(201)["chargeId"].as_str().unwrap().to_owned();
                let canceled = call("DELETE", format!("/charges/{second_id}/cancel"))
                    .json(&json!({"cancellationReason": "out of stock"}))
                    .send()
                    .await;
                let canceled = canceled.assert_status(200);
                assert_eq!(canceled["statusDetails"]["state"], "Canceled", "{label}");
                assert_eq!(canceled["statusDetails"]["reasonCode"], "MerchantCanceled", "{label}");

                let closed = call("DELETE", format!("/chargePermissions/{permission_id}/close"))
                    .json(&json!({"closureReason": "done", "cancelPendingCharges": true}))
                    .send()
                    .await;
                let closed = closed.assert_status(200);
                assert_eq!(closed["statusDetails"]["state"], "Closed", "{label}");
                assert_eq!(closed["statusDetails"]["reasons"][0]["reasonCode"], "MerchantClosed", "{label}");
            }
        }
    }
}

#[tokio::test]
async fn responses_have_amazons_fields_formats_and_nulls() {
    let app = TestApp::spawn().await;
    let permission_id = app.one_time("100").await;
    assert!(permission_id.starts_with("S01-") && permission_id.len() == 19, "{permission_id}");
    let permission = app.dev("GET", format!("/v2/chargePermissions/{permission_id}")).send().await;
    let p = permission.assert_status(200);
    assert!(permission.request_id.is_some());
    assert_eq!(p["chargePermissionType"], "OneTime");
    assert_eq!(
        p["limits"],
        json!({"amountLimit": {"amount": "100.00", "currencyCode": "USD"}, "amountBalance": {"amount": "100.00", "currencyCode": "USD"}})
    );
    assert_eq!(p["paymentPreferences"], json!([{"paymentDescriptor": "Visa ****1111"}]));
    assert_eq!(p["releaseEnvironment"], "Sandbox");
    assert_eq!(p["presentmentCurrency"], "USD");
    assert_eq!(p["statusDetails"]["reasons"], Value::Null);
    assert!(p["buyer"]["buyerId"].is_string());
    for field in ["creationTimestamp", "expirationTimestamp"] {
        assert!(is_compact_timestamp(&p[field]), "{field}: {}", p[field]);
    }
    for field in [
        "chargePermissionReferenceId",
        "recurringMetadata",
        "shippingAddress",
        "billingAddress",
        "merchantMetadata",
        "platformId",
    ] {
        assert!(p.get(field).is_some_and(Value::is_null), "{field} must be present and null");
    }

    // Amounts arrive as JSON numbers too (the .NET SDK), and go out as strings.
    let charge = app
        .dev("POST", "/v2/charges")
        .key(&new_key())
        .json(&json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": 12.5, "currencyCode": "USD"}, "captureNow": true, "softDescriptor": "Descriptor", "channel": "Web", "chargeInitiator": "CITU", "merchantMetadata": {"merchantReferenceId": "A1"}}))
        .send()
        .await;
    let c = charge.assert_status(201);
    let charge_id = c["chargeId"].as_str().unwrap();
    assert_eq!(charge_id, format!("{permission_id}-C000001"));
    assert_eq!(c["chargeAmount"], json!({"amount": "12.50", "currencyCode": "USD"}));
    assert_eq!(c["captureAmount"], json!({"amount": "12.50", "currencyCode": "USD"}));
    assert_eq!(c["refundedAmount"], json!({"amount": "0.00", "currencyCode": "USD"}));
    // A Price, as seed 003 types it and the official .NET SDK reads it.
    assert_eq!(c["convertedAmount"], json!({"amount": "12.50", "currencyCode": "USD"}));
    assert_eq!(c["softDescriptor"], "Descriptor");
    assert_eq!(c["providerMetadata"], json!({"providerReferenceId": null}));
    assert_eq!(c["statusDetails"]["state"], "Captured");
    assert_eq!(c["statusDetails"]["reasonCode"], Value::Null);
    assert_eq!(c["channel"], "Web");
    assert_eq!(c["chargeInitiator"], "CITU");
    assert_eq!(c["merchantMetadata"]["merchantReferenceId"], "A1");
    assert_eq!(c["merchantMetadata"]["noteToBuyer"], Value::Null);
    assert_eq!(c["releaseEnvironment"], "Sandbox");
    let created = c["creationTimestamp"].as_str().unwrap();
    assert!(is_compact_timestamp(&c["expirationTimestamp"]));
    assert!(c["expirationTimestamp"].as_str().unwrap() > created);

    let refund = app
        .dev("POST", "/v2/refunds")
        .key(&new_key())
        .json(&json!({"chargeId": charge_id, "refundAmount": {"amount": "2.5", "currencyCode": "USD"}}))
        .send()
        .await;
    let r = refund.assert_status(201);
    assert_eq!(r["refundId"], format!("{permission_id}-R000001"));
    assert_eq!(r["chargeId"], charge_id);
    assert_eq!(r["refundAmount"], json!({"amount": "2.50", "currencyCode": "USD"}));
    assert_eq!(r["statusDetails"]["state"], "RefundInitiated");
    assert_eq!(r["softDescriptor"], Value::Null);
    assert_eq!(r["releaseEnvironment"], "Sandbox");
}

#[tokio::test]
async fn https_serves_the_same_api_with_its_own_host() {
    let app = TestApp::spawn().await;
    let permission_id = app.one_time("10").await;
    let path = &format!("/v2/chargePermissions/{permission_id}");
    let response = app.dev("GET", path).over_https().send().await;
    assert_eq!(response.assert_status(200)["chargePermissionId"], permission_id.as_str());
}

#[tokio::test]
async fn region_aliases_work_in_any_case_and_an_eu_merchant_charges_in_eur() {
    let app = TestApp::spawn().await;
    for alias in ["na", "NA", "us", "US"] {
        let response = app
            .dev("POST", "/v2/testHelpers/chargePermissions")
            .region(alias)
            .key(&new_key())
            .json(&json!({"amountLimit": {"amount": "1", "currencyCode": "USD"}}))
            .send()
            .await;
        response.assert_status(201);
    }
    let eu = app.merchant(Region::Eu, KeyStyle::Prefixed(Environment::Sandbox)).await;
    for alias in ["eu", "EU", "de", "uk", "UK"] {
        let response = app
            .call(&eu, "POST", "/v2/testHelpers/chargePermissions")
            .region(alias)
            .key(&new_key())
            .json(&json!({"chargePermissionType": "Recurring", "currencyCode": "GBP"}))
            .send()
            .await;
        let body = response.assert_status(201);
        assert_eq!(body["limits"]["amountLimit"], json!({"amount": "1000.00", "currencyCode": "GBP"}));
    }
}
