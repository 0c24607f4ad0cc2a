//! Faults on demand (product.md, "Fault injection"), through signed HTTP: each reason code
//! answers its status with Amazon's envelope and runs nothing, a fault is used up request by
//! request and then gone, it meets only the operations it names, never a test helper, never
//! another merchant and never live; a faulted request records no idempotency key, a delay
//! holds the answer back, and bad bodies are refused with Amazon's reason codes.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use amzpay_domain::{Environment, Region};
use amzpay_server::merchants::KeyStyle;
use serde_json::{Value, json};
use support::*;

const FAULTS: &str = "/v2/testHelpers/faults";

async fn add_fault(app: &TestApp, body: Value) -> Value {
    app.dev("POST", FAULTS).json(&body).send().await.assert_status(201).clone()
}

async fn active_faults(app: &TestApp) -> Vec<Value> {
    app.get(FAULTS).await["faults"].as_array().unwrap().clone()
}

fn charge_body(permission_id: &str) -> Value {
    json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": "10.00", "currencyCode": "USD"}})
}

async fn balance(app: &TestApp, permission_id: &str) -> String {
    let permission = app.get(&format!("/v2/chargePermissions/{permission_id}")).await;
    permission["limits"]["amountBalance"]["amount"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_reason_code_answers_its_status_in_amazons_envelope_and_runs_nothing() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100.00").await;
    for (code, status) in [("TooManyRequests", 429), ("ServiceUnavailable", 503), ("InternalServerError", 500)] {
        let fault = add_fault(&app, json!({"reasonCode": code, "count": 1, "operations": ["CreateCharge"]})).await;
        let key = new_key();
        let faulted = app.dev("POST", "/v2/charges").key(&key).json(&charge_body(&permission)).send().await;
        let message = faulted.assert_error(status, code);
        assert!(message.contains(fault["faultId"].as_str().unwrap()), "the message names the fault: {message}");
        let envelope = String::from_utf8(faulted.raw.clone()).unwrap();
        assert!(envelope.starts_with(&format!(r#"{{"reasonCode":"{code}","message":"#)), "{envelope}");
        assert_eq!(faulted.body.as_object().unwrap().len(), 2, "Amazon's error envelope: {envelope}");
        assert!(faulted.request_id.is_some());
        assert_eq!(balance(&app, &permission).await, "100.00", "{code}: nothing ran");
    }
}

#[tokio::test]
async fn a_retry_with_the_same_key_after_a_fault_runs_once_and_then_replays() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100.00").await;
    add_fault(&app, json!({"reasonCode": "ServiceUnavailable", "count": 2, "operations": ["CreateCharge"]})).await;
    let key = new_key();
    let send = || app.dev("POST", "/v2/charges").key(&key).json(&charge_body(&permission)).send();
    send().await.assert_error(503, "ServiceUnavailable");
    send().await.assert_error(503, "ServiceUnavailable");
    let created = send().await.assert_status(201).clone();
    assert_eq!(balance(&app, &permission).await, "90.00");
    let replayed = send().await;
    assert_eq!(replayed.assert_status(201)["chargeId"], created["chargeId"], "now the key is recorded");
    assert_eq!(balance(&app, &permission).await, "90.00", "the charge was created once");
}

#[tokio::test]
async fn a_fault_is_used_up_one_request_at_a_time_and_then_gone() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100.00").await;
    let path = format!("/v2/chargePermissions/{permission}");
    let fault = add_fault(
        &app,
        json!({"reasonCode": "TooManyRequests", "count": 2, "operations": ["GetChargePermission"], "delayMs": 0}),
    )
    .await;
    assert_eq!(fault["reasonCode"], "TooManyRequests");
    assert_eq!((fault["count"].as_u64(), fault["remainingCount"].as_u64()), (Some(2), Some(2)));
    assert_eq!(fault["operations"], json!(["GetChargePermission"]));
    assert_eq!(fault["delayMs"], 0);
    assert_eq!(fault["creationTimestamp"].as_str().unwrap().len(), "20240101T120000Z".len());
    assert_eq!(active_faults(&app).await, vec![fault.clone()], "listed as created");

    app.dev("GET", &path).send().await.assert_error(429, "TooManyRequests");
    assert_eq!(active_faults(&app).await[0]["remainingCount"], 1);
    app.dev("GET", &path).send().await.assert_error(429, "TooManyRequests");
    assert_eq!(active_faults(&app).await, Vec::<Value>::new(), "spent");
    app.dev("GET", &path).send().await.assert_status(200);
}

#[tokio::test]
async fn a_fault_meets_only_the_operations_it_names() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100.00").await;
    add_fault(&app, json!({"reasonCode": "ServiceUnavailable", "count": 1, "operations": ["CreateRefund"]})).await;
    app.get(&format!("/v2/chargePermissions/{permission}")).await;
    let charge = app
        .dev("POST", "/v2/charges")
        .key(&new_key())
        .json(&json!({"chargePermissionId": permission, "chargeAmount": {"amount": "10.00", "currencyCode": "USD"}, "captureNow": true}))
        .send()
        .await;
    let charge_id = charge.assert_status(201)["chargeId"].as_str().unwrap().to_owned();
    assert_eq!(active_faults(&app).await[0]["remainingCount"], 1, "other operations leave it alone");
    let refund = json!({"chargeId": charge_id, "refundAmount": {"amount": "1.00", "currencyCode": "USD"}});
    let key = new_key();
    app.dev("POST", "/v2/refunds").key(&key).json(&refund).send().await.assert_error(503, "ServiceUnavailable");
    app.dev("POST", "/v2/refunds").key(&key).json(&refund).send().await.assert_status(201);
}

#[tokio::test]
async fn test_helpers_never_meet_a_fault() {
    let app = TestApp::spawn().await;
    add_fault(&app, json!({"reasonCode": "InternalServerError", "count": 5})).await;
    app.get("/v2/testHelpers/clock").await;
    app.dev("POST", "/v2/testHelpers/clock/freeze").send().await.assert_status(200);
    let permission = app.one_time("10.00").await;
    app.get("/v2/testHelpers/notifications").await;
    add_fault(&app, json!({"reasonCode": "ServiceUnavailable", "count": 1})).await;
    let faults = active_faults(&app).await;
    assert_eq!(faults[0]["remainingCount"], 5, "no helper used any of it: {faults:?}");
    let path = format!("/v2/chargePermissions/{permission}");
    app.dev("GET", &path).send().await.assert_error(500, "InternalServerError");
    // Naming a test helper is refused rather than never met.
    let helper = json!({"reasonCode": "ServiceUnavailable", "count": 1, "operations": ["AdvanceClock"]});
    let message = app.dev("POST", FAULTS).json(&helper).send().await.assert_error(400, "InvalidParameterValue");
    assert!(message.contains("test helper"), "{message}");
}

#[tokio::test]
async fn a_delay_holds_the_answer_back_then_errs_or_runs() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100.00").await;
    let delay = Duration::from_millis(200);
    add_fault(&app, json!({"reasonCode": null, "count": 1, "delayMs": 200, "operations": ["CreateCharge"]})).await;
    let started = Instant::now();
    let created = app.dev("POST", "/v2/charges").key(&new_key()).json(&charge_body(&permission)).send().await;
    assert!(started.elapsed() >= delay, "delayed: {:?}", started.elapsed());
    created.assert_status(201);
    assert_eq!(balance(&app, &permission).await, "90.00", "a delay-only fault lets the request run");

    add_fault(&app, json!({"reasonCode": "ServiceUnavailable", "count": 1, "delayMs": 200})).await;
    let started = Instant::now();
    let path = format!("/v2/chargePermissions/{permission}");
    app.dev("GET", &path).send().await.assert_error(503, "ServiceUnavailable");
    assert!(started.elapsed() >= delay, "delayed: {:?}", started.elapsed());
}

#[tokio::test]
async fn two_requests_never_both_use_a_faults_last_request() {
    let app = Arc::new(TestApp::spawn().await);
    let permission = app.one_time("100.00").await;
    let path = format!("/v2/chargePermissions/{permission}");
    add_fault(&app, json!({"reasonCode": "ServiceUnavailable", "count": 3})).await;
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (app, path) = (app.clone(), path.clone());
            tokio::spawn(async move { app.dev("GET", &path).send().await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 9, "{statuses:?}");
}

#[tokio::test]
async fn other_merchants_and_live_never_meet_a_merchants_faults() {
    let app = TestApp::spawn().await;
    let other = app.merchant(Region::Na, SANDBOX_KEY).await;
    let theirs = app.permission(&other, json!({"amountLimit": {"amount": "10", "currencyCode": "USD"}})).await;
    add_fault(&app, json!({"reasonCode": "ServiceUnavailable", "count": 10})).await;
    app.call(&other, "GET", format!("/v2/chargePermissions/{theirs}")).send().await.assert_status(200);
    app.call(&other, "GET", FAULTS).send().await;
    assert_eq!(app.call(&other, "GET", FAULTS).send().await.assert_status(200)["faults"], json!([]));

    // A legacy key speaks for both environments: its sandbox fault leaves live alone.
    let legacy = app.merchant(Region::Na, KeyStyle::Legacy).await;
    let body = json!({"reasonCode": "ServiceUnavailable", "count": 10});
    app.call(&legacy, "POST", "/sandbox/v2/testHelpers/faults").json(&body).send().await.assert_status(201);
    let live = app.call(&legacy, "GET", "/live/v2/chargePermissions/P01-1111111-1111111").send().await;
    live.assert_error(404, "ResourceNotFound");
    let sandbox = app.call(&legacy, "GET", "/sandbox/v2/chargePermissions/S01-1111111-1111111").send().await;
    sandbox.assert_error(503, "ServiceUnavailable");
    assert_eq!(active_faults(&app).await[0]["remainingCount"], 10, "the dev merchant's fault is untouched");
}

#[tokio::test]
async fn the_fault_helpers_do_not_exist_in_live() {
    let app = TestApp::spawn().await;
    let legacy = app.merchant(Region::Na, KeyStyle::Legacy).await;
    let live = app.merchant(Region::Na, KeyStyle::Prefixed(Environment::Live)).await;
    let body = json!({"reasonCode": "ServiceUnavailable", "count": 1});
    for (merchant, path) in [(&legacy, "/live/v2/testHelpers/faults"), (&live, FAULTS)] {
        app.call(merchant, "POST", path).json(&body).send().await.assert_error(404, "ResourceNotFound");
        app.call(merchant, "GET", path).send().await.assert_error(404, "ResourceNotFound");
        app.call(merchant, "DELETE", path).send().await.assert_error(404, "ResourceNotFound");
    }
    assert_eq!(
        app.call(&legacy, "GET", "/sandbox/v2/testHelpers/faults").send().await.assert_status(200)["faults"],
        json!([]),
        "nothing was added"
    );
}

#[tokio::test]
async fn bad_bodies_are_refused_with_amazons_reason_codes_and_add_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (r#"{"reasonCode": "ServiceUnavailable"}"#, "MissingParameterValue"),
        (r#"{"reasonCode": null, "count": 1}"#, "MissingParameterValue"),
        (r#"{"reasonCode": "HardDeclined", "count": 1}"#, "InvalidParameterValue"),
        (r#"{"reasonCode": "ServiceUnavailable", "count": 0}"#, "InvalidParameterValue"),
        (r#"{"reasonCode": "ServiceUnavailable", "count": 1001}"#, "InvalidParameterValue"),
        (r#"{"reasonCode": "ServiceUnavailable", "count": 1, "delayMs": 60001}"#, "InvalidParameterValue"),
        (
            r#"{"reasonCode": "ServiceUnavailable", "count": 1, "operations": ["CreateCharges"]}"#,
            "InvalidParameterValue",
        ),
        (r#"{"reasonCode": "ServiceUnavailable", "count": 1, "operations": []}"#, "InvalidParameterValue"),
        (r#"{"reasonCode": "ServiceUnavailable", "count": 1, "retryAfter": 5}"#, "UnrecognizedField"),
        (r#"{"reasonCode": "ServiceUnavailable", "count": 1"#, "InvalidRequestFormat"),
    ];
    for (body, code) in cases {
        let response = app.dev("POST", FAULTS).raw_body(body).send().await;
        assert_eq!((response.status, response.body["reasonCode"].as_str()), (400, Some(code)), "{body}: {response:?}");
    }
    assert_eq!(active_faults(&app).await, Vec::<Value>::new());
    // The limits are inclusive.
    let most =
        json!({"reasonCode": "ServiceUnavailable", "count": 1000, "delayMs": 60000, "operations": ["GetRefund"]});
    add_fault(&app, most).await;
}

#[tokio::test]
async fn clearing_removes_every_fault_and_answers_with_what_it_removed() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100.00").await;
    let first = add_fault(&app, json!({"reasonCode": "ServiceUnavailable", "count": 2})).await;
    let second = add_fault(&app, json!({"reasonCode": null, "count": 1, "delayMs": 50})).await;
    let cleared = app.dev("DELETE", FAULTS).send().await.assert_status(200).clone();
    assert_eq!(cleared["faults"], json!([first, second]));
    assert_eq!(active_faults(&app).await, Vec::<Value>::new());
    app.get(&format!("/v2/chargePermissions/{permission}")).await;
    let again = app.dev("DELETE", FAULTS).send().await;
    assert_eq!(again.assert_status(200)["faults"], json!([]), "clearing nothing is fine");
}

#[tokio::test]
async fn a_merchant_has_at_most_100_active_faults() {
    let app = TestApp::spawn().await;
    let body = json!({"reasonCode": "ServiceUnavailable", "count": 1, "operations": ["GetRefund"]});
    for _ in 0..amzpay_server::config::MAX_ACTIVE_FAULTS_PER_MERCHANT {
        add_fault(&app, body.clone()).await;
    }
    app.dev("POST", FAULTS).json(&body).send().await.assert_error(400, "InvalidRequest");
    app.dev("DELETE", FAULTS).send().await.assert_status(200);
    add_fault(&app, body).await;
}
