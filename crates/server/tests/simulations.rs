//! Every simulation code on every operation it applies to (spec §11), and its misuse.

mod support;

use amzpay_domain::Region;
use amzpay_server::merchants::KeyStyle;
use serde_json::{Value, json};
use support::*;

const SIMULATION: &str = "x-amz-pay-simulation-code";

fn state(body: &Value) -> (String, Option<String>) {
    (
        body["statusDetails"]["state"].as_str().unwrap().to_owned(),
        body["statusDetails"]["reasonCode"].as_str().map(str::to_owned),
    )
}

async fn recurring(app: &TestApp) -> String {
    app.permission(&app.dev, json!({"chargePermissionType": "Recurring"})).await
}

async fn charge_with(app: &TestApp, permission: &str, code: &str, pending: bool, signed: bool) -> Response {
    let body = json!({"chargePermissionId": permission, "chargeAmount": {"amount": "10.00", "currencyCode": "USD"}, "canHandlePendingAuthorization": pending});
    let call = app.dev("POST", "/v2/charges").key(&new_key()).json(&body);
    let call = if signed { call.signed_header(SIMULATION, code) } else { call.unsigned_header(SIMULATION, code) };
    call.send().await
}

#[tokio::test]
async fn create_charge_codes_decline_synchronously_with_their_consequences() {
    let app = TestApp::spawn().await;
    // (code, status, permission state after, closure/non-chargeable reason)
    let cases = [
        ("SoftDeclined", 422, "Chargeable", None),
        ("HardDeclined", 422, "NonChargeable", Some("PaymentMethodInvalid")),
        ("AmazonRejected", 422, "Closed", Some("AmazonClosed")),
        ("TransactionTimedOut", 422, "Chargeable", None),
        ("ProcessingFailure", 500, "Chargeable", None),
    ];
    for (index, (code, status, after, reason)) in cases.into_iter().enumerate() {
        let permission = recurring(&app).await;
        // Alternate signed and unsigned headers: both count.
        let response = charge_with(&app, &permission, code, false, index % 2 == 0).await;
        response.assert_error(status, code);
        let body = app.get(&format!("/v2/chargePermissions/{permission}")).await;
        assert_eq!(body["statusDetails"]["state"], after, "{code}");
        assert_eq!(body["statusDetails"]["reasons"][0]["reasonCode"].as_str(), reason, "{code}");
        assert_eq!(body["limits"]["amountBalance"]["amount"], "1000.00", "{code}: a decline holds nothing");
    }
}

#[tokio::test]
async fn create_charge_codes_decline_later_when_pending_is_allowed() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let mut charges = Vec::new();
    for code in ["SoftDeclined", "HardDeclined", "AmazonRejected", "TransactionTimedOut", "ProcessingFailure"] {
        let permission = recurring(&app).await;
        let response = charge_with(&app, &permission, code, true, true).await;
        let body = response.assert_status(201);
        assert_eq!(state(body).0, "AuthorizationInitiated", "{code}");
        charges.push((code, permission, body["chargeId"].as_str().unwrap().to_owned()));
    }
    app.advance(30).await;
    for (code, permission, charge) in charges {
        assert_eq!(state(&app.get(&format!("/v2/charges/{charge}")).await), ("Declined".into(), Some(code.into())));
        let permission_state =
            app.get(&format!("/v2/chargePermissions/{permission}")).await["statusDetails"]["state"].clone();
        let expected = match code {
            "HardDeclined" => "NonChargeable",
            "AmazonRejected" => "Closed",
            _ => "Chargeable",
        };
        assert_eq!(permission_state, expected, "{code}");
    }
}

async fn authorized(app: &TestApp, permission: &str) -> String {
    let body = json!({"chargePermissionId": permission, "chargeAmount": {"amount": "10.00", "currencyCode": "USD"}});
    app.dev("POST", "/v2/charges").key(&new_key()).json(&body).send().await.assert_status(201)["chargeId"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn capture_with(app: &TestApp, charge: &str, code: &str) -> Response {
    app.dev("POST", format!("/v2/charges/{charge}/capture"))
        .key(&new_key())
        .json(&json!({"captureAmount": {"amount": "10.00", "currencyCode": "USD"}}))
        .unsigned_header(SIMULATION, code)
        .send()
        .await
}

#[tokio::test]
async fn capture_codes_decline_now_within_7_days_and_later_after() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let permission = app.one_time("1000").await;
    let rejected = authorized(&app, &permission).await;
    let failing = authorized(&app, &permission).await;
    capture_with(&app, &failing, "ProcessingFailure").await.assert_error(500, "ProcessingFailure");
    assert_eq!(
        state(&app.get(&format!("/v2/charges/{failing}")).await).0,
        "Authorized",
        "a processing failure changes nothing"
    );
    capture_with(&app, &rejected, "AmazonRejected").await.assert_error(422, "AmazonRejected");
    assert_eq!(
        state(&app.get(&format!("/v2/charges/{rejected}")).await),
        ("Declined".into(), Some("AmazonRejected".into()))
    );
    let closed = app.get(&format!("/v2/chargePermissions/{permission}")).await;
    assert_eq!(
        closed["statusDetails"]["reasons"][0]["reasonCode"], "AmazonClosed",
        "AmazonRejected cancels the permission"
    );

    // After 7 days the capture is asynchronous and declines when it completes.
    let second = app.one_time("1000").await;
    let late_rejected = authorized(&app, &second).await;
    let late_failing = authorized(&app, &second).await;
    app.advance(8 * 86_400).await;
    for (charge, code) in [(&late_rejected, "AmazonRejected"), (&late_failing, "ProcessingFailure")] {
        assert_eq!(state(capture_with(&app, charge, code).await.assert_status(200)).0, "CaptureInitiated");
    }
    app.advance(30).await;
    for (charge, code) in [(&late_rejected, "AmazonRejected"), (&late_failing, "ProcessingFailure")] {
        assert_eq!(state(&app.get(&format!("/v2/charges/{charge}")).await), ("Declined".into(), Some(code.into())));
    }
}

#[tokio::test]
async fn refund_codes_decline_the_refund_when_it_settles() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let permission = app.one_time("1000").await;
    let body = json!({"chargePermissionId": permission, "chargeAmount": {"amount": "50.00", "currencyCode": "USD"}, "captureNow": true});
    let charge = app.dev("POST", "/v2/charges").key(&new_key()).json(&body).send().await.assert_status(201)["chargeId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut refunds = Vec::new();
    for code in ["AmazonRejected", "ProcessingFailure"] {
        let response = app
            .dev("POST", "/v2/refunds")
            .key(&new_key())
            .json(&json!({"chargeId": charge, "refundAmount": {"amount": "5.00", "currencyCode": "USD"}}))
            .signed_header(SIMULATION, code)
            .send()
            .await;
        assert_eq!(state(response.assert_status(201)).0, "RefundInitiated");
        refunds.push((code, response.body["refundId"].as_str().unwrap().to_owned()));
    }
    app.advance(30).await;
    for (code, refund) in refunds {
        assert_eq!(state(&app.get(&format!("/v2/refunds/{refund}")).await), ("Declined".into(), Some(code.into())));
    }
    assert_eq!(app.get(&format!("/v2/charges/{charge}")).await["refundedAmount"]["amount"], "0.00");
}

#[tokio::test]
async fn amazon_closed_closes_the_permission_as_amazon() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100").await;
    let response = app
        .dev("DELETE", format!("/v2/chargePermissions/{permission}/close"))
        .json(&json!({"closureReason": "testing"}))
        .unsigned_header(SIMULATION, "AmazonClosed")
        .send()
        .await;
    assert_eq!(response.assert_status(200)["statusDetails"]["reasons"][0]["reasonCode"], "AmazonClosed");
}

#[tokio::test]
async fn misused_codes_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100").await;
    let charge = authorized(&app, &permission).await;
    let refused = |response: Response| {
        response.assert_error(400, "InvalidSandboxSimulationSpecified");
    };
    // Unknown.
    refused(charge_with(&app, &permission, "Bogus", false, true).await);
    // Misplaced: a close code on a charge, a charge code on capture, anything on reads,
    // updates, cancels and test helpers.
    refused(charge_with(&app, &permission, "AmazonClosed", false, false).await);
    refused(capture_with(&app, &charge, "HardDeclined").await);
    refused(app.dev("GET", format!("/v2/charges/{charge}")).unsigned_header(SIMULATION, "HardDeclined").send().await);
    refused(
        app.dev("DELETE", format!("/v2/charges/{charge}/cancel"))
            .json(&json!({"cancellationReason": "x"}))
            .unsigned_header(SIMULATION, "SoftDeclined")
            .send()
            .await,
    );
    refused(
        app.dev("PATCH", format!("/v2/chargePermissions/{permission}"))
            .json(&json!({}))
            .unsigned_header(SIMULATION, "AmazonClosed")
            .send()
            .await,
    );
    refused(
        app.dev("POST", "/v2/testHelpers/chargePermissions")
            .key(&new_key())
            .json(&json!({"amountLimit": {"amount": "1", "currencyCode": "USD"}}))
            .unsigned_header(SIMULATION, "HardDeclined")
            .send()
            .await,
    );
    refused(
        app.dev("DELETE", format!("/v2/chargePermissions/{permission}/close"))
            .json(&json!({"closureReason": "x"}))
            .unsigned_header(SIMULATION, "HardDeclined")
            .send()
            .await,
    );
    let unchanged = app.get(&format!("/v2/chargePermissions/{permission}")).await;
    assert_eq!(unchanged["statusDetails"]["state"], "Chargeable");
    assert_eq!(unchanged["limits"]["amountBalance"]["amount"], "90.00");

    // In live, every code is refused.
    let live = app.merchant(Region::Na, KeyStyle::Prefixed(amzpay_domain::Environment::Live)).await;
    let response = app
        .call(&live, "POST", "/v2/charges")
        .key(&new_key())
        .json(&json!({"chargePermissionId": "P01-0000000-0000000", "chargeAmount": {"amount": "1", "currencyCode": "USD"}}))
        .unsigned_header(SIMULATION, "HardDeclined")
        .send()
        .await;
    refused(response);
}

#[tokio::test]
async fn a_simulation_code_is_part_of_what_an_idempotency_key_replays() {
    let app = TestApp::spawn().await;
    let permission = recurring(&app).await;
    let key = new_key();
    let body = json!({"chargePermissionId": permission, "chargeAmount": {"amount": "10.00", "currencyCode": "USD"}});
    let declined =
        app.dev("POST", "/v2/charges").key(&key).json(&body).unsigned_header(SIMULATION, "SoftDeclined").send().await;
    declined.assert_error(422, "SoftDeclined");
    let replayed =
        app.dev("POST", "/v2/charges").key(&key).json(&body).unsigned_header(SIMULATION, "SoftDeclined").send().await;
    assert_eq!(replayed.raw, declined.raw);
    app.dev("POST", "/v2/charges").key(&key).json(&body).send().await.assert_error(400, "DuplicateIdempotencyKey");
}
