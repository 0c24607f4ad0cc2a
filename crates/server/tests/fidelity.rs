//! Amazon's documented behaviour where an earlier amzpay differed: ids by region, the Ruby
//! SDK's signing, truncated bodies, charges in progress, JPY amounts, declined captures,
//! every documented error and state on demand, Saved Wallet renewal, checkout update rules
//! and booleans sent as strings.

mod support;

use amzpay_domain::{Environment, Region};
use amzpay_server::merchants::KeyStyle;
use serde_json::{Value, json};
use support::*;

const SIMULATION: &str = "x-amz-pay-simulation-code";

fn state(body: &Value) -> (&str, Option<&str>) {
    (body["statusDetails"]["state"].as_str().unwrap(), body["statusDetails"]["reasonCode"].as_str())
}

fn usd(amount: &str) -> Value {
    json!({"amount": amount, "currencyCode": "USD"})
}

async fn charge(app: &TestApp, permission: &str, amount: &str, capture_now: bool) -> Value {
    let body = json!({"chargePermissionId": permission, "chargeAmount": usd(amount), "captureNow": capture_now});
    app.dev("POST", "/v2/charges").key(&new_key()).json(&body).send().await.assert_status(201).clone()
}

#[tokio::test]
async fn charge_permission_ids_name_their_region_as_amazons_do() {
    let app = TestApp::spawn().await;
    let cases = [
        (Region::Na, json!({"amount": "10", "currencyCode": "USD"}), "S01-"),
        (Region::Eu, json!({"amount": "10", "currencyCode": "EUR"}), "S02-"),
        (Region::Jp, json!({"amount": "1000", "currencyCode": "JPY"}), "S03-"),
    ];
    for (region, limit, prefix) in cases {
        let merchant = app.merchant(region, SANDBOX_KEY).await;
        let id = app.permission(&merchant, json!({"amountLimit": limit})).await;
        assert!(id.starts_with(prefix), "{region:?}: {id}");
        let path = &format!("/v2/chargePermissions/{id}");
        let charge_body = json!({"chargePermissionId": id, "chargeAmount": limit});
        let created = app.call(&merchant, "POST", "/v2/charges").key(&new_key()).json(&charge_body).send().await;
        assert!(created.assert_status(201)["chargeId"].as_str().unwrap().starts_with(prefix));
        app.call(&merchant, "GET", path).send().await.assert_status(200);
    }
}

#[tokio::test]
async fn the_ruby_sdk_signs_the_host_without_its_port_and_its_own_headers() {
    let app = TestApp::spawn().await;
    let legacy = app.merchant(Region::Na, KeyStyle::Legacy).await;
    for (merchant, label) in [(&app.dev, "SANDBOX- key"), (&legacy, "legacy key")] {
        // The Ruby SDK always calls /sandbox/v2/..., whatever the key.
        let created = app
            .call(merchant, "POST", "/sandbox/v2/testHelpers/chargePermissions")
            .like_ruby_sdk()
            .key(&new_key())
            .json(&json!({"amountLimit": usd("50.00")}))
            .send()
            .await;
        let id = created.assert_status(201)["chargePermissionId"].as_str().unwrap().to_owned();
        let path = &format!("/sandbox/v2/chargePermissions/{id}");
        let got = app.call(merchant, "GET", path).like_ruby_sdk().send().await;
        assert_eq!(got.assert_status(200)["chargePermissionId"], id.as_str(), "{label}");
        let charged = app
            .call(merchant, "POST", "/sandbox/v2/charges")
            .like_ruby_sdk()
            .key(&new_key())
            .json(&json!({"chargePermissionId": id, "chargeAmount": usd("10.00"), "captureNow": true}))
            .send()
            .await;
        assert_eq!(charged.assert_status(201)["statusDetails"]["state"], "Captured", "{label}");
        // Over HTTPS too, where the name is `localhost` and the port another.
        let over_tls = app.call(merchant, "GET", path).like_ruby_sdk().over_https().send().await;
        over_tls.assert_status(200);
    }
    // Another host name is still refused.
    let other = app
        .dev("GET", "/v2/charges/S01-0000000-0000000-C000001")
        .omit("x-amz-pay-host")
        .signed_header("x-amz-pay-host", "pay-api.amazon.com")
        .send()
        .await;
    other.assert_error(400, "InvalidHeaderValue");
}

#[tokio::test]
async fn a_body_cut_short_is_malformed_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100").await;
    let whole = json!({"chargePermissionId": permission, "chargeAmount": usd("10.00")}).to_string();
    // Cut right after a complete field name, and before the closing brace.
    for cut in [format!(r#"{{"chargePermissionId":"{permission}","cha"#), whole[..whole.len() - 1].to_owned()] {
        let response = app.dev("POST", "/v2/charges").key(&new_key()).raw_body(&cut).send().await;
        response.assert_error(400, "InvalidRequestFormat");
    }
    let after = app.get(&format!("/v2/chargePermissions/{permission}")).await;
    assert_eq!(after["limits"]["amountBalance"]["amount"], "100.00");
    app.dev("GET", format!("/v2/charges/{permission}-C000001")).send().await.assert_error(404, "ResourceNotFound");
}

#[tokio::test]
async fn a_permission_held_whole_by_a_charge_is_non_chargeable_until_the_charge_ends() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100").await;
    let path = &format!("/v2/chargePermissions/{permission}");
    let authorized = charge(&app, &permission, "100.00", false).await;
    let held = app.get(path).await;
    assert_eq!(held["statusDetails"]["state"], "NonChargeable");
    assert_eq!(held["statusDetails"]["reasons"][0]["reasonCode"], "ChargeInProgress");
    assert_eq!(held["limits"]["amountBalance"]["amount"], "0.00");
    let refused = json!({"chargePermissionId": permission, "chargeAmount": usd("1.00")});
    app.dev("POST", "/v2/charges")
        .key(&new_key())
        .json(&refused)
        .send()
        .await
        .assert_error(422, "InvalidChargePermissionStatus");
    let charge_id = authorized["chargeId"].as_str().unwrap();
    app.dev("DELETE", format!("/v2/charges/{charge_id}/cancel"))
        .json(&json!({"cancellationReason": "out of stock"}))
        .send()
        .await
        .assert_status(200);
    let freed = app.get(path).await;
    assert_eq!(freed["statusDetails"]["state"], "Chargeable");
    assert_eq!(freed["statusDetails"]["reasons"], Value::Null);
    assert_eq!(freed["limits"]["amountBalance"]["amount"], "100.00");
    // The state changes are staged for IPNs like any other.
    let events = app.events_for(&permission).await;
    assert!(events.len() >= 3, "created, NonChargeable, Chargeable: {events:?}");
}

#[tokio::test]
async fn jpy_amounts_take_no_decimal_point() {
    let app = TestApp::spawn().await;
    let japan = app.merchant(Region::Jp, SANDBOX_KEY).await;
    let permission = app.permission(&japan, json!({"amountLimit": {"amount": "10000", "currencyCode": "JPY"}})).await;
    for amount in [json!("100.00"), json!("100.5"), json!(100.0)] {
        let body = json!({"chargePermissionId": permission, "chargeAmount": {"amount": amount, "currencyCode": "JPY"}});
        let response = app.call(&japan, "POST", "/v2/charges").key(&new_key()).json(&body).send().await;
        let message = response.assert_error(400, "InvalidParameterValue");
        assert!(message.contains("provided for 'chargeAmount.amount' is invalid"), "{message}");
    }
    for amount in [json!("100"), json!(100)] {
        let body = json!({"chargePermissionId": permission, "chargeAmount": {"amount": amount, "currencyCode": "JPY"}});
        let created = app.call(&japan, "POST", "/v2/charges").key(&new_key()).json(&body).send().await;
        assert_eq!(created.assert_status(201)["chargeAmount"], json!({"amount": "100", "currencyCode": "JPY"}));
    }
}

#[tokio::test]
async fn a_declined_capture_captured_nothing() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100").await;
    let authorized = charge(&app, &permission, "20.00", false).await;
    let charge_id = authorized["chargeId"].as_str().unwrap();
    let capture = json!({"captureAmount": usd("20.00")});
    app.dev("POST", format!("/v2/charges/{charge_id}/capture"))
        .key(&new_key())
        .json(&capture)
        .unsigned_header(SIMULATION, "AmazonRejected")
        .send()
        .await
        .assert_error(422, "AmazonRejected");
    let declined = app.get(&format!("/v2/charges/{charge_id}")).await;
    assert_eq!(state(&declined), ("Declined", Some("AmazonRejected")));
    assert_eq!(declined["captureAmount"], Value::Null);
    assert_eq!(declined["convertedAmount"], Value::Null);
}

#[tokio::test]
async fn amzpay_simulation_codes_force_the_errors_amazon_gives_no_code_for() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100").await;
    for (code, reason) in
        [("AmzpayPaymentMethodNotAllowed", "PaymentMethodNotAllowed"), ("AmzpayMFANotCompleted", "MFANotCompleted")]
    {
        for pending in [false, true] {
            let body = json!({"chargePermissionId": permission, "chargeAmount": usd("10.00"), "canHandlePendingAuthorization": pending});
            app.dev("POST", "/v2/charges")
                .key(&new_key())
                .json(&body)
                .unsigned_header(SIMULATION, code)
                .send()
                .await
                .assert_error(422, reason);
        }
    }
    let after = app.get(&format!("/v2/chargePermissions/{permission}")).await;
    assert_eq!(after["statusDetails"]["state"], "Chargeable");
    assert_eq!(after["limits"]["amountBalance"]["amount"], "100.00", "no charge was made");
    app.dev("GET", format!("/v2/charges/{permission}-C000001")).send().await.assert_error(404, "ResourceNotFound");

    let authorized = charge(&app, &permission, "10.00", false).await;
    let charge_id = authorized["chargeId"].as_str().unwrap();
    let forced = "AmzpayInvalidChargePermissionStatus";
    app.dev("POST", format!("/v2/charges/{charge_id}/capture"))
        .key(&new_key())
        .json(&json!({"captureAmount": usd("10.00")}))
        .signed_header(SIMULATION, forced)
        .send()
        .await
        .assert_error(422, "InvalidChargePermissionStatus");
    app.dev("DELETE", format!("/v2/charges/{charge_id}/cancel"))
        .json(&json!({"cancellationReason": "r"}))
        .unsigned_header(SIMULATION, forced)
        .send()
        .await
        .assert_error(422, "InvalidChargePermissionStatus");
    assert_eq!(state(&app.get(&format!("/v2/charges/{charge_id}")).await), ("Authorized", None));
    // Where they mean nothing, and in live, they are refused like Amazon's own codes.
    app.dev("POST", "/v2/refunds")
        .key(&new_key())
        .json(&json!({"chargeId": charge_id, "refundAmount": usd("1.00")}))
        .unsigned_header(SIMULATION, forced)
        .send()
        .await
        .assert_error(400, "InvalidSandboxSimulationSpecified");
    let live = app.merchant(Region::Na, KeyStyle::Prefixed(Environment::Live)).await;
    app.call(&live, "POST", "/v2/charges")
        .key(&new_key())
        .json(&json!({"chargePermissionId": "P01-0000000-0000000", "chargeAmount": usd("1.00")}))
        .unsigned_header(SIMULATION, "AmzpayMFANotCompleted")
        .send()
        .await
        .assert_error(400, "InvalidSandboxSimulationSpecified");
}

async fn amazon_action(app: &TestApp, charge_id: &str, action: &str) -> Response {
    app.dev("POST", format!("/v2/testHelpers/charges/{charge_id}/amazonActions"))
        .json(&json!({"action": action}))
        .send()
        .await
}

#[tokio::test]
async fn amazon_cancels_and_flags_charges_on_demand() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100").await;
    let authorized = charge(&app, &permission, "30.00", false).await;
    let authorized_id = authorized["chargeId"].as_str().unwrap();
    let flagged = amazon_action(&app, authorized_id, "FlagAtypicalActivity").await;
    assert_eq!(state(flagged.assert_status(200)), ("Authorized", Some("StopShipmentAtypicalAuth")));
    let canceled = amazon_action(&app, authorized_id, "Cancel").await;
    assert_eq!(state(canceled.assert_status(200)), ("Canceled", Some("AmazonCanceled")));
    let balance = app.get(&format!("/v2/chargePermissions/{permission}")).await;
    assert_eq!(balance["limits"]["amountBalance"]["amount"], "100.00", "the canceled charge holds nothing");
    amazon_action(&app, authorized_id, "Cancel").await.assert_error(422, "InvalidChargeStatus");
    amazon_action(&app, authorized_id, "FlagAtypicalActivity").await.assert_error(422, "InvalidChargeStatus");

    // A captured charge keeps its state and carries the flag.
    let captured = charge(&app, &permission, "10.00", true).await;
    let captured_id = captured["chargeId"].as_str().unwrap();
    let flagged = amazon_action(&app, captured_id, "FlagAtypicalActivity").await;
    assert_eq!(state(flagged.assert_status(200)), ("Captured", Some("StopShipmentAtypicalAuth")));
    assert_eq!(
        state(&app.get(&format!("/v2/charges/{captured_id}")).await),
        ("Captured", Some("StopShipmentAtypicalAuth"))
    );
    amazon_action(&app, captured_id, "Cancel").await.assert_error(422, "InvalidChargeStatus");
    amazon_action(&app, captured_id, "Explode").await.assert_error(400, "InvalidParameterValue");
    amazon_action(&app, "S01-0000000-0000000-C000001", "Cancel").await.assert_error(404, "ResourceNotFound");
    // Sandbox only.
    let live = app.merchant(Region::Na, KeyStyle::Prefixed(Environment::Live)).await;
    app.call(&live, "POST", format!("/v2/testHelpers/charges/{captured_id}/amazonActions"))
        .json(&json!({"action": "Cancel"}))
        .send()
        .await
        .assert_error(404, "ResourceNotFound");
}

async fn session(app: &TestApp, extra: Value) -> Response {
    let mut body = json!({
        "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
        "storeId": app.store_id().await,
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    app.dev("POST", "/v2/checkoutSessions").key(&new_key()).json(&body).send().await
}

async fn update(app: &TestApp, id: &str, body: Value) -> Response {
    app.dev("PATCH", format!("/v2/checkoutSessions/{id}")).json(&body).send().await
}

#[tokio::test]
async fn update_refuses_creation_only_fields_and_a_statement_text_without_capture() {
    let app = TestApp::spawn().await;
    let created = session(&app, json!({"paymentDetails": {"allowOvercharge": true, "extendExpiration": true}})).await;
    let id = created.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    for field in ["allowOvercharge", "extendExpiration"] {
        let message =
            update(&app, &id, json!({"paymentDetails": {field: false}})).await.assert_error(400, "UnrecognizedField");
        assert!(message.contains(field), "{message}");
    }
    let intent = |intent: &str| json!({"paymentDetails": {"paymentIntent": intent, "softDescriptor": "SHOP"}});
    update(&app, &id, intent("Authorize")).await.assert_error(400, "InvalidParameterCombination");
    update(&app, &id, intent("Confirm")).await.assert_error(400, "InvalidParameterCombination");
    let ok = update(&app, &id, intent("AuthorizeWithCapture")).await;
    assert_eq!(ok.assert_status(200)["paymentDetails"]["softDescriptor"], "SHOP");
    // The text stays set, so the intent cannot move away from a capture now.
    update(&app, &id, json!({"paymentDetails": {"paymentIntent": "Authorize"}}))
        .await
        .assert_error(400, "InvalidParameterCombination");
    let after = app.get(&format!("/v2/checkoutSessions/{id}")).await;
    assert_eq!(after["paymentDetails"]["paymentIntent"], "AuthorizeWithCapture");
    assert_eq!(after["paymentDetails"]["allowOvercharge"], true, "refused updates changed nothing");
}

#[tokio::test]
async fn a_saved_wallet_checkout_renews_the_permission_it_names() {
    let app = TestApp::spawn().await;
    let wallet = app.permission(&app.dev, json!({"chargePermissionType": "PaymentMethodOnFile"})).await;
    let body = json!({"chargePermissionId": wallet, "chargeAmount": usd("5.00")});
    app.dev("POST", "/v2/charges")
        .key(&new_key())
        .json(&body)
        .unsigned_header(SIMULATION, "HardDeclined")
        .send()
        .await
        .assert_error(422, "HardDeclined");
    let path = &format!("/v2/chargePermissions/{wallet}");
    assert_eq!(app.get(path).await["statusDetails"]["state"], "NonChargeable");

    let renewal = json!({
        "chargePermissionType": "PaymentMethodOnFile",
        "chargePermissionId": wallet,
        "paymentMethodOnFileMetadata": {"setupOnly": true},
    });
    let created = session(&app, renewal).await;
    let id = created.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    assert_eq!(created.body["paymentMethodOnFileMetadata"], json!({"setupOnly": true}));
    app.dev("POST", format!("/v2/testHelpers/checkoutSessions/{id}/signIn"))
        .json(&json!({"paymentMethod": "0005"}))
        .send()
        .await
        .assert_status(200);
    let details = json!({
        "webCheckoutDetails": {"checkoutResultReturnUrl": "https://shop.example/result"},
        "paymentDetails": {"paymentIntent": "Confirm", "chargeAmount": usd("1.00")},
    });
    update(&app, &id, details).await.assert_status(200);
    app.dev("POST", format!("/v2/testHelpers/checkoutSessions/{id}/confirm")).send().await.assert_status(200);
    let completed = app
        .dev("POST", format!("/v2/checkoutSessions/{id}/complete"))
        .json(&json!({"chargeAmount": usd("1.00")}))
        .send()
        .await;
    assert_eq!(completed.assert_status(200)["chargePermissionId"], wallet.as_str(), "no new permission");
    let renewed = app.get(path).await;
    assert_eq!(renewed["statusDetails"]["state"], "Chargeable");
    assert_eq!(renewed["paymentPreferences"], json!([{"paymentDescriptor": "Visa ****0005"}]));
    assert_eq!(renewed["paymentMethodOnFileMetadata"], json!({"setupOnly": true}));
    assert_eq!(renewed["shippingAddress"]["city"], "Seattle");
    charge(&app, &wallet, "5.00", true).await;

    // It must name one of this merchant's Saved Wallets, in a Saved Wallet checkout.
    let one_time = app.one_time("10").await;
    let cases = [
        (
            json!({"chargePermissionType": "PaymentMethodOnFile", "chargePermissionId": one_time}),
            400,
            "InvalidParameterValue",
        ),
        (
            json!({"chargePermissionType": "PaymentMethodOnFile", "chargePermissionId": "S01-0000000-0000000"}),
            404,
            "ResourceNotFound",
        ),
        (json!({"chargePermissionId": wallet}), 400, "InvalidParameterCombination"),
        (json!({"paymentMethodOnFileMetadata": {"setupOnly": true}}), 400, "InvalidParameterCombination"),
    ];
    for (extra, status, reason) in cases {
        session(&app, extra.clone()).await.assert_error(status, reason);
    }
}

#[tokio::test]
async fn booleans_may_arrive_as_strings_as_amazons_java_and_php_samples_send_them() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100").await;
    let pending = charge(&app, &permission, "10.00", false).await;
    let closed = app
        .dev("DELETE", format!("/v2/chargePermissions/{permission}/close"))
        .json(&json!({"closureReason": "done", "cancelPendingCharges": "true"}))
        .send()
        .await;
    closed.assert_status(200);
    let charge_id = pending["chargeId"].as_str().unwrap();
    assert_eq!(
        state(&app.get(&format!("/v2/charges/{charge_id}")).await),
        ("Canceled", Some("ChargePermissionCanceled"))
    );
    let other = app.one_time("100").await;
    let body = json!({"chargePermissionId": other, "chargeAmount": usd("1.00"), "captureNow": "yes"});
    app.dev("POST", "/v2/charges").key(&new_key()).json(&body).send().await.assert_error(400, "InvalidParameterValue");
}
