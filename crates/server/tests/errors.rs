//! Every error of spec §7 that the charge operations can answer, through real signed
//! requests, and that a refused request changes nothing.

mod support;

use amzpay_api::format::format_timestamp;
use amzpay_domain::{Environment, Region, Timestamp};
use amzpay_server::merchants::KeyStyle;
use amzpay_server::system_now;
use serde_json::{Value, json};
use support::*;

async fn charge(app: &TestApp, permission_id: &str, amount: &str) -> Response {
    app.dev("POST", "/v2/charges")
        .key(&new_key())
        .json(&json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": amount, "currencyCode": "USD"}}))
        .send()
        .await
}

async fn authorized_charge(app: &TestApp, permission_id: &str, amount: &str) -> String {
    charge(app, permission_id, amount).await.assert_status(201)["chargeId"].as_str().unwrap().to_owned()
}

async fn state_of(app: &TestApp, path: String) -> Value {
    app.dev("GET", path).send().await.assert_status(200).clone()
}

#[tokio::test]
async fn authentication_errors() {
    let app = TestApp::spawn().await;
    let permission_id = app.one_time("100").await;
    let path = &format!("/v2/chargePermissions/{permission_id}");
    let at = |offset: i64| format_timestamp(Timestamp::from_unix_seconds(system_now().unix_seconds() + offset));

    app.dev("GET", path).omit("x-amz-pay-date").send().await.assert_error(400, "MissingHeader");
    app.dev("GET", path).omit("x-amz-pay-host").send().await.assert_error(400, "MissingHeader");
    let future = app.dev("GET", path).date(&at(6 * 60)).send().await.assert_error(400, "InvalidHeaderValue");
    assert!(future.contains("future"), "{future}");
    let old = app.dev("GET", path).date(&at(-16 * 60)).send().await.assert_error(400, "InvalidHeaderValue");
    assert!(old.contains("old"), "{old}");
    app.dev("GET", path).date(&at(4 * 60)).send().await.assert_status(200);
    app.dev("GET", path).date(&at(-14 * 60)).send().await.assert_status(200);
    app.dev("GET", path).date("2024-13-01T00:00:00Z").send().await.assert_error(400, "InvalidHeaderValue");
    // The Node.js SDK's ISO form works as well as the compact one.
    let iso = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
        .unwrap();
    app.dev("GET", path).date(&iso).send().await.assert_status(200);
    app.dev("GET", path).region("eu").send().await.assert_error(400, "InvalidHeaderValue");
    app.dev("GET", path).region("mars").send().await.assert_error(400, "InvalidHeaderValue");

    let mut stranger = app.dev.clone();
    stranger.public_key_id = "SANDBOX-NOSUCHKEY0000000000000000".into();
    app.call(&stranger, "GET", path).send().await.assert_error(403, "InvalidAuthentication");

    // Signed with another merchant's key but claiming the dev merchant's key id.
    let impostor_key = app.merchant(Region::Na, KeyStyle::Prefixed(Environment::Sandbox)).await;
    let mut impostor = app.dev.clone();
    impostor.private_key = impostor_key.private_key.clone();
    app.call(&impostor, "GET", path).send().await.assert_error(403, "InvalidRequestSignature");

    for tamper in [Tamper::Body, Tamper::Signature, Tamper::SignedHeader] {
        let body = json!({"merchantMetadata": {"noteToBuyer": "hi"}});
        app.dev("PATCH", path).json(&body).tamper(tamper).send().await.assert_error(403, "InvalidRequestSignature");
    }
    let charge_path = &format!("/v2/charges/{permission_id}-C000001");
    app.dev("GET", charge_path).tamper(Tamper::Path).send().await.assert_error(403, "InvalidRequestSignature");

    let message =
        app.dev("GET", path).tamper(Tamper::Signature).send().await.assert_error(403, "InvalidRequestSignature");
    assert!(
        message.contains(&format!("GET\n{path}\n\naccept:application/json")),
        "quotes the canonical request: {message}"
    );
    assert!(message.contains("AMZN-PAY-RSASSA-PSS\n"), "quotes the string to sign: {message}");

    // Unsigned extra headers are allowed (simulation codes, user agents); signed ones count.
    app.dev("GET", path).unsigned_header("user-agent", "something/1.0").send().await.assert_status(200);
    app.dev("GET", path).signed_header("x-amz-pay-sdk-type", "rust").send().await.assert_status(200);
}

#[tokio::test]
async fn the_host_must_match_and_the_date_must_be_signed() {
    let app = TestApp::spawn().await;
    let permission_id = app.one_time("100").await;
    let path = &format!("/v2/chargePermissions/{permission_id}");
    // Sign one x-amz-pay-host but send the request to another host: the header we sign
    // carries the host we call, so override it as an extra signed header value.
    let response =
        app.dev("GET", path).omit("x-amz-pay-host").signed_header("x-amz-pay-host", "pay-api.amazon.com").send().await;
    let message = response.assert_error(400, "InvalidHeaderValue");
    assert!(message.contains("Host"), "{message}");
    let response = app
        .dev("GET", path)
        .omit("x-amz-pay-date")
        .unsigned_header("x-amz-pay-date", &format_timestamp(system_now()))
        .send()
        .await;
    response.assert_error(400, "InvalidHeaderValue");
}

#[tokio::test]
async fn environments_and_merchants_are_isolated() {
    let app = TestApp::spawn().await;
    let legacy = app.merchant(Region::Na, KeyStyle::Legacy).await;
    let sandbox_permission =
        app.permission(&legacy, json!({"amountLimit": {"amount": "5", "currencyCode": "USD"}})).await;
    let sandbox_path = &format!("/sandbox/v2/chargePermissions/{sandbox_permission}");
    app.call(&legacy, "GET", sandbox_path).send().await.assert_status(200);
    let live_path = &format!("/live/v2/chargePermissions/{sandbox_permission}");
    app.call(&legacy, "GET", live_path).send().await.assert_error(404, "ResourceNotFound");
    // Test helpers do not exist in live.
    app.call(&legacy, "POST", "/live/v2/testHelpers/chargePermissions")
        .key(&new_key())
        .json(&json!({"amountLimit": {"amount": "5", "currencyCode": "USD"}}))
        .send()
        .await
        .assert_error(404, "ResourceNotFound");
    // A legacy key must name the environment; a prefixed key must not contradict it.
    let bare = &format!("/v2/chargePermissions/{sandbox_permission}");
    app.call(&legacy, "GET", bare).send().await.assert_error(400, "InvalidRequest");
    let dev_permission = app.one_time("5").await;
    app.dev("GET", format!("/live/v2/chargePermissions/{dev_permission}"))
        .send()
        .await
        .assert_error(401, "UnauthorizedAccess");
    // Another merchant's objects do not exist for you.
    app.dev("GET", format!("/v2/chargePermissions/{sandbox_permission}"))
        .send()
        .await
        .assert_error(404, "ResourceNotFound");
    let charge_id = authorized_charge(&app, &dev_permission, "1").await;
    app.call(&legacy, "GET", format!("/sandbox/v2/charges/{charge_id}"))
        .send()
        .await
        .assert_error(404, "ResourceNotFound");
    app.call(&legacy, "POST", "/sandbox/v2/charges")
        .key(&new_key())
        .json(&json!({"chargePermissionId": dev_permission, "chargeAmount": {"amount": "1", "currencyCode": "USD"}}))
        .send()
        .await
        .assert_error(404, "ResourceNotFound");
    // A live key cannot reach sandbox objects either.
    let live = app.merchant(Region::Na, KeyStyle::Prefixed(Environment::Live)).await;
    let response = app.call(&live, "GET", format!("/v2/chargePermissions/{dev_permission}")).send().await;
    response.assert_error(404, "ResourceNotFound");
}

#[tokio::test]
async fn routing_and_format_errors() {
    let app = TestApp::spawn().await;
    app.dev("GET", "/v1/charges/S01-0000000-0000000-C000001").send().await.assert_error(400, "InvalidAPIVersion");
    app.dev("GET", "/v2/charges").send().await.assert_error(405, "UnsupportedOperation");
    app.dev("GET", "/v2/buyers/x").send().await.assert_error(404, "ResourceNotFound");
    app.dev("GET", "/v2/charges/not-an-id").send().await.assert_error(404, "ResourceNotFound");
    app.dev("GET", "/v2/charges/S01-0000000-0000000-C000001").send().await.assert_error(404, "ResourceNotFound");
    app.dev("GET", "/v2/refunds/S01-0000000-0000000-R000001").send().await.assert_error(404, "ResourceNotFound");
    app.dev("PATCH", "/v2/charges/S01-0000000-0000000-C000001")
        .json(&json!({}))
        .send()
        .await
        .assert_error(401, "UnauthorizedAccess");
    let unsigned = app.client.get(format!("{}/v2/charges/S01-0000000-0000000-C000001", app.http)).send().await.unwrap();
    assert_eq!(unsigned.status(), 400);
    assert!(unsigned.headers().contains_key("x-amz-pay-request-id"));
    let body: Value = unsigned.json().await.unwrap();
    assert_eq!(body["reasonCode"], "MissingHeader");

    let permission_id = app.one_time("100").await;
    let create = |body: &str| app.dev("POST", "/v2/charges").key(&new_key()).raw_body(body).send();
    create("{\"chargePermissionId\":").await.assert_error(400, "InvalidRequestFormat");
    // Found by schemathesis: valid JSON with a number where an enum's name belongs was
    // answered as malformed JSON.
    let scopes = app.dev("POST", "/v2/checkoutSessions").key(&new_key()).raw_body(r#"{"scopes": [5]}"#).send().await;
    assert!(scopes.assert_error(400, "InvalidParameterValue").contains("scopes[0]"));
    let unknown = create(&format!(r#"{{"chargePermissionId":"{permission_id}","chargeAmount":{{"amount":"1","currencyCode":"USD"}},"captureNoww":true}}"#)).await;
    assert!(unknown.assert_error(400, "UnrecognizedField").contains("captureNoww"));
    create(r#"{"chargeAmount":{"amount":"1","currencyCode":"USD"}}"#).await.assert_error(400, "MissingParameterValue");
    create(&format!(r#"{{"chargePermissionId":"{permission_id}"}}"#)).await.assert_error(400, "MissingParameterValue");
    create(&format!(
        r#"{{"chargePermissionId":"{permission_id}","chargeAmount":{{"amount":"1.001","currencyCode":"USD"}}}}"#
    ))
    .await
    .assert_error(400, "InvalidParameterValue");
    create(&format!(r#"{{"chargePermissionId":"{permission_id}","chargeAmount":{{"amount":"1","currencyCode":"USD"}},"captureNow":"yes"}}"#)).await.assert_error(400, "InvalidParameterValue");
    create(&format!(r#"{{"chargePermissionId":"{permission_id}","chargeAmount":{{"amount":"1","currencyCode":"USD"}},"softDescriptor":"x"}}"#)).await.assert_error(400, "InvalidParameterCombination");
    create(&format!(r#"{{"chargePermissionId":"{permission_id}","chargeAmount":{{"amount":"1","currencyCode":"USD"}},"captureNow":true,"softDescriptor":"0123456789abcdefg"}}"#)).await.assert_error(400, "InvalidParameterValue");
    create(&format!(
        r#"{{"chargePermissionId":"{permission_id}","chargeAmount":{{"amount":"1","currencyCode":"EUR"}}}}"#
    ))
    .await
    .assert_error(400, "CurrencyMismatch");
    let huge = format!(
        r#"{{"chargePermissionId":"{permission_id}","chargeAmount":{{"amount":"1","currencyCode":"USD"}},"platformId":"{}"}}"#,
        "x".repeat(300 * 1024)
    );
    create(&huge).await.assert_error(400, "InvalidRequest");

    // Idempotency keys are required, well-formed and not empty.
    app.dev("POST", "/v2/charges").json(&json!({})).send().await.assert_error(400, "MissingHeader");
    app.dev("POST", "/v2/charges")
        .key("has spaces!")
        .json(&json!({}))
        .send()
        .await
        .assert_error(400, "InvalidHeaderValue");
    app.dev("POST", "/v2/charges")
        .key(&"k".repeat(33))
        .json(&json!({}))
        .send()
        .await
        .assert_error(400, "InvalidHeaderValue");
    app.dev("POST", "/v2/charges").key(" ").json(&json!({})).send().await.assert_error(400, "MissingHeaderValue");
    // Cancel and close need their reasons.
    let charge_id = authorized_charge(&app, &permission_id, "1").await;
    app.dev("DELETE", format!("/v2/charges/{charge_id}/cancel"))
        .json(&json!({}))
        .send()
        .await
        .assert_error(400, "MissingParameterValue");
    app.dev("DELETE", format!("/v2/chargePermissions/{permission_id}/close"))
        .send()
        .await
        .assert_error(400, "MissingParameterValue");
}

#[tokio::test]
async fn amount_and_count_limits() {
    let app = TestApp::spawn().await;
    let permission_id = app.one_time("100").await;
    let permission_path = format!("/v2/chargePermissions/{permission_id}");
    charge(&app, &permission_id, "100.01").await.assert_error(400, "TransactionAmountExceeded");
    let big = app.one_time("200000").await;
    charge(&app, &big, "150000.01").await.assert_error(400, "TransactionAmountExceeded");
    charge(&app, &big, "150000").await.assert_status(201);

    let charge_id = authorized_charge(&app, &permission_id, "60").await;
    charge(&app, &permission_id, "40.01").await.assert_error(400, "TransactionAmountExceeded");
    let balance = state_of(&app, permission_path.clone()).await;
    assert_eq!(balance["limits"]["amountBalance"]["amount"], "40.00", "refusals change nothing");
    let capture = |amount: &str, key: String| {
        app.dev("POST", format!("/v2/charges/{charge_id}/capture"))
            .key(&key)
            .json(&json!({"captureAmount": {"amount": amount, "currencyCode": "USD"}}))
            .send()
    };
    capture("60.01", new_key()).await.assert_error(400, "TransactionAmountExceeded");
    capture("60", new_key()).await.assert_status(200);
    capture("1", new_key()).await.assert_error(422, "InvalidChargeStatus");

    let refund = |amount: &str| {
        app.dev("POST", "/v2/refunds")
            .key(&new_key())
            .json(&json!({"chargeId": charge_id, "refundAmount": {"amount": amount, "currencyCode": "USD"}}))
            .send()
    };
    // 60 captured: at most 60 + min(9, 75) = 69 refunded.
    refund("69.01").await.assert_error(400, "TransactionAmountExceeded");
    refund("60").await.assert_status(201);
    refund("9.01").await.assert_error(400, "TransactionAmountExceeded");
    for _ in 0..9 {
        refund("1").await.assert_status(201);
    }
    refund("0.01").await.assert_error(422, "TransactionCountExceeded");

    // 25 charges per one-time permission.
    let many = app.one_time("1000").await;
    for _ in 0..25 {
        charge(&app, &many, "1").await.assert_status(201);
    }
    charge(&app, &many, "1").await.assert_error(422, "TransactionCountExceeded");

    // Monthly limits for recurring and Saved Wallet.
    let recurring = app.permission(&app.dev, json!({"chargePermissionType": "Recurring", "recurringMetadata": {"frequency": {"unit": "Month", "value": "1"}}})).await;
    charge(&app, &recurring, "1000.01").await.assert_error(400, "PeriodicAmountExceeded");
    charge(&app, &recurring, "999").await.assert_status(201);
    charge(&app, &recurring, "1.01").await.assert_error(400, "PeriodicAmountExceeded");
    let wallet = app.permission(&app.dev, json!({"chargePermissionType": "PaymentMethodOnFile"})).await;
    let wallet_state = state_of(&app, format!("/v2/chargePermissions/{wallet}")).await;
    assert_eq!(wallet_state["expirationTimestamp"], Value::Null, "Saved Wallet never expires");
    charge(&app, &wallet, "15000").await.assert_status(201);
    charge(&app, &wallet, "0.01").await.assert_error(400, "PeriodicAmountExceeded");
}

#[tokio::test]
async fn state_errors() {
    let app = TestApp::spawn().await;
    let permission_id = app.one_time("100").await;
    let authorized = authorized_charge(&app, &permission_id, "10").await;
    app.dev("POST", "/v2/refunds")
        .key(&new_key())
        .json(&json!({"chargeId": authorized, "refundAmount": {"amount": "1", "currencyCode": "USD"}}))
        .send()
        .await
        .assert_error(422, "InvalidChargeStatus");
    let cancel_path = &format!("/v2/charges/{authorized}/cancel");
    app.dev("DELETE", cancel_path).json(&json!({"cancellationReason": "r"})).send().await.assert_status(200);
    app.dev("DELETE", cancel_path)
        .json(&json!({"cancellationReason": "r"}))
        .send()
        .await
        .assert_error(422, "InvalidChargeStatus");
    app.dev("POST", format!("/v2/charges/{authorized}/capture"))
        .key(&new_key())
        .json(&json!({"captureAmount": {"amount": "1", "currencyCode": "USD"}}))
        .send()
        .await
        .assert_error(422, "InvalidChargeStatus");

    let update_path = &format!("/v2/chargePermissions/{permission_id}");
    app.dev("PATCH", update_path)
        .json(&json!({"merchantMetadata": {"merchantReferenceId": "a"}}))
        .send()
        .await
        .assert_status(200);
    app.dev("PATCH", update_path)
        .json(&json!({"merchantMetadata": {"merchantReferenceId": "b"}}))
        .send()
        .await
        .assert_error(422, "ChargePermissionNotModifiable");
    app.dev("PATCH", update_path)
        .json(&json!({"recurringMetadata": {"frequency": {"unit": "Month", "value": 1}}}))
        .send()
        .await
        .assert_error(400, "InvalidParameterCombination");
    app.dev("PATCH", update_path).json(&json!({"bogus": 1})).send().await.assert_error(400, "UnrecognizedField");

    let close_path = &format!("/v2/chargePermissions/{permission_id}/close");
    let pending = authorized_charge(&app, &permission_id, "5").await;
    let closed = app.dev("DELETE", close_path).json(&json!({"closureReason": "bye"})).send().await;
    assert_eq!(closed.assert_status(200)["statusDetails"]["reasons"][0]["reasonDescription"], "bye");
    let kept = state_of(&app, format!("/v2/charges/{pending}")).await;
    assert_eq!(kept["statusDetails"]["state"], "Authorized", "without cancelPendingCharges, charges stay open");
    app.dev("DELETE", close_path)
        .json(&json!({"closureReason": "again"}))
        .send()
        .await
        .assert_error(422, "InvalidChargePermissionStatus");
    charge(&app, &permission_id, "1").await.assert_error(422, "InvalidChargePermissionStatus");
    app.dev("PATCH", update_path).json(&json!({})).send().await.assert_error(422, "InvalidChargePermissionStatus");

    // cancelPendingCharges cancels open charges with ChargePermissionCanceled.
    let second = app.one_time("100").await;
    let open = authorized_charge(&app, &second, "5").await;
    app.dev("DELETE", format!("/v2/chargePermissions/{second}/close"))
        .json(&json!({"closureReason": "bye", "cancelPendingCharges": true}))
        .send()
        .await
        .assert_status(200);
    let canceled = state_of(&app, format!("/v2/charges/{open}")).await;
    assert_eq!(canceled["statusDetails"]["reasonCode"], "ChargePermissionCanceled");

    // A one-time permission closes when its whole limit is captured.
    let small = app.one_time("10").await;
    app.dev("POST", "/v2/charges")
        .key(&new_key())
        .json(&json!({"chargePermissionId": small, "chargeAmount": {"amount": "10", "currencyCode": "USD"}, "captureNow": true}))
        .send()
        .await
        .assert_status(201);
    let closed = state_of(&app, format!("/v2/chargePermissions/{small}")).await;
    assert_eq!(closed["statusDetails"]["state"], "Closed");
    assert_eq!(closed["limits"]["amountBalance"]["amount"], "0.00");
}

#[tokio::test]
async fn sandbox_cards_decide_authorizations() {
    let app = TestApp::spawn().await;
    let pending_card = app
        .permission(&app.dev, json!({"amountLimit": {"amount": "100", "currencyCode": "USD"}, "paymentMethod": "0701"}))
        .await;
    charge(&app, &pending_card, "5").await.assert_error(422, "TransactionTimedOut");
    let pending = app
        .dev("POST", "/v2/charges")
        .key(&new_key())
        .json(&json!({"chargePermissionId": pending_card, "chargeAmount": {"amount": "5", "currencyCode": "USD"}, "canHandlePendingAuthorization": true}))
        .send()
        .await;
    let body = pending.assert_status(201);
    assert_eq!(body["statusDetails"]["state"], "AuthorizationInitiated");
    let id = body["chargeId"].as_str().unwrap();
    app.dev("DELETE", format!("/v2/charges/{id}/cancel"))
        .json(&json!({"cancellationReason": "r"}))
        .send()
        .await
        .assert_status(200);
    app.dev("POST", "/v2/testHelpers/chargePermissions")
        .key(&new_key())
        .json(&json!({"amountLimit": {"amount": "1", "currencyCode": "USD"}, "paymentMethod": "3064"}))
        .send()
        .await
        .assert_error(400, "InvalidParameterValue");
    app.dev("POST", "/v2/testHelpers/chargePermissions")
        .key(&new_key())
        .json(&json!({"amountLimit": {"amount": "1", "currencyCode": "USD"}, "paymentMethod": "9999"}))
        .send()
        .await
        .assert_error(400, "InvalidParameterValue");
    app.dev("POST", "/v2/testHelpers/chargePermissions")
        .key(&new_key())
        .json(&json!({}))
        .send()
        .await
        .assert_error(400, "MissingParameterValue");
}

#[tokio::test]
async fn idempotent_requests_replay_byte_for_byte_and_refuse_changed_retries() {
    let app = TestApp::spawn().await;
    let permission_id = app.one_time("100").await;
    let key = new_key();
    let body = json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": "10", "currencyCode": "USD"}});
    let first = app.dev("POST", "/v2/charges").key(&key).json(&body).send().await;
    first.assert_status(201);
    let again = app.dev("POST", "/v2/charges").key(&key).json(&body).send().await;
    assert_eq!((again.status, &again.raw), (first.status, &first.raw));
    assert_ne!(again.request_id, first.request_id);
    // Key order and whitespace do not make a different request.
    let reordered = format!(
        r#"{{ "chargeAmount": {{"currencyCode": "USD", "amount": "10"}}, "chargePermissionId": "{permission_id}" }}"#
    );
    let same = app.dev("POST", "/v2/charges").key(&key).raw_body(&reordered).send().await;
    assert_eq!(same.raw, first.raw);
    let changed = json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": "11", "currencyCode": "USD"}});
    app.dev("POST", "/v2/charges").key(&key).json(&changed).send().await.assert_error(400, "DuplicateIdempotencyKey");
    // Keys are scoped to the operation and its target (spec §8): the same key captures the
    // charge and refunds it, as Amazon's own Node.js SDK test does against Amazon's sandbox.
    let charge_id = first.body["chargeId"].as_str().unwrap();
    let capture_path = format!("/v2/charges/{charge_id}/capture");
    let capture = json!({"captureAmount": {"amount": "10", "currencyCode": "USD"}});
    let captured = app.dev("POST", &capture_path).key(&key).json(&capture).send().await;
    captured.assert_status(200);
    let refund = json!({"chargeId": charge_id, "refundAmount": {"amount": "1", "currencyCode": "USD"}});
    app.dev("POST", "/v2/refunds").key(&key).json(&refund).send().await.assert_status(201);
    let capture_again = app.dev("POST", &capture_path).key(&key).json(&capture).send().await;
    assert_eq!((capture_again.status, &capture_again.raw), (captured.status, &captured.raw));
    let smaller = json!({"captureAmount": {"amount": "9", "currencyCode": "USD"}});
    app.dev("POST", &capture_path).key(&key).json(&smaller).send().await.assert_error(400, "DuplicateIdempotencyKey");
    let state = state_of(&app, format!("/v2/chargePermissions/{permission_id}")).await;
    assert_eq!(state["limits"]["amountBalance"]["amount"], "90.00", "one charge, not three");

    // Validation failures are remembered too.
    let bad_key = new_key();
    let bad = json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": "1000", "currencyCode": "USD"}});
    let refused = app.dev("POST", "/v2/charges").key(&bad_key).json(&bad).send().await;
    refused.assert_error(400, "TransactionAmountExceeded");
    let replayed = app.dev("POST", "/v2/charges").key(&bad_key).json(&bad).send().await;
    assert_eq!((replayed.status, replayed.raw), (refused.status, refused.raw));

    // Keys belong to one merchant: another merchant's identical key is its own.
    let other = app.merchant(Region::Na, KeyStyle::Prefixed(Environment::Sandbox)).await;
    let theirs = app.permission(&other, json!({"amountLimit": {"amount": "100", "currencyCode": "USD"}})).await;
    let response = app
        .call(&other, "POST", "/v2/charges")
        .key(&key)
        .json(&json!({"chargePermissionId": theirs, "chargeAmount": {"amount": "10", "currencyCode": "USD"}}))
        .send()
        .await;
    response.assert_status(201);
}
