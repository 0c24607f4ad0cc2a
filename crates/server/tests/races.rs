//! Concurrent requests on one permission or one idempotency key.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;
use support::*;

async fn concurrent_charges(
    app: &Arc<TestApp>,
    permission_id: &str,
    amount: &str,
    count: usize,
) -> BTreeMap<String, usize> {
    let mut tasks = Vec::new();
    for _ in 0..count {
        let app = app.clone();
        let body =
            json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": amount, "currencyCode": "USD"}});
        tasks
            .push(tokio::spawn(async move { app.dev("POST", "/v2/charges").key(&new_key()).json(&body).send().await }));
    }
    let mut outcomes = BTreeMap::new();
    for task in tasks {
        let response = task.await.unwrap();
        let label = if response.status == 201 {
            "created".to_owned()
        } else {
            response.body["reasonCode"].as_str().unwrap_or("?").to_owned()
        };
        *outcomes.entry(label).or_insert(0) += 1;
    }
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_charges_never_exceed_the_limit() {
    let app = Arc::new(TestApp::spawn().await);
    let permission_id = app.one_time("100").await;
    let outcomes = concurrent_charges(&app, &permission_id, "10", 50).await;
    // Once ten authorizations hold the whole limit the permission is NonChargeable /
    // ChargeInProgress (product.md), so the other forty are refused for its state.
    assert_eq!(
        outcomes,
        BTreeMap::from([("created".to_owned(), 10), ("InvalidChargePermissionStatus".to_owned(), 40)])
    );
    let path = &format!("/v2/chargePermissions/{permission_id}");
    let state = app.dev("GET", path).send().await;
    let state = state.assert_status(200);
    assert_eq!(state["limits"]["amountBalance"]["amount"], "0.00");
    assert_eq!(state["statusDetails"]["reasons"][0]["reasonCode"], "ChargeInProgress");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_charges_never_exceed_the_count() {
    let app = Arc::new(TestApp::spawn().await);
    let permission_id = app.one_time("1000").await;
    let outcomes = concurrent_charges(&app, &permission_id, "1", 50).await;
    assert_eq!(outcomes, BTreeMap::from([("created".to_owned(), 25), ("TransactionCountExceeded".to_owned(), 25)]));
    let path = &format!("/v2/chargePermissions/{permission_id}");
    let state = app.dev("GET", path).send().await;
    assert_eq!(state.assert_status(200)["limits"]["amountBalance"]["amount"], "975.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_requests_with_one_key_create_one_charge_and_get_one_answer() {
    let app = Arc::new(TestApp::spawn().await);
    let permission_id = app.one_time("1000").await;
    let key = new_key();
    let body = json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": "7", "currencyCode": "USD"}});
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, key, body) = (app.clone(), key.clone(), body.clone());
        tasks.push(tokio::spawn(async move { app.dev("POST", "/v2/charges").key(&key).json(&body).send().await }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        answers.push((response.status, response.raw));
    }
    assert_eq!(answers[0].0, 201);
    assert!(answers.iter().all(|answer| *answer == answers[0]), "every request got the same status and body");
    let path = &format!("/v2/chargePermissions/{permission_id}");
    let state = app.dev("GET", path).send().await;
    assert_eq!(state.assert_status(200)["limits"]["amountBalance"]["amount"], "993.00", "exactly one charge");
}
