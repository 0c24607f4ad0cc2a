//! The buyer's side: the buyerActions test helper and the buyer's page, as HTTP.

mod support;

use serde_json::{Value, json};
use support::*;

async fn hard_declined_recurring(app: &TestApp) -> String {
    let permission = app.permission(&app.dev, json!({"chargePermissionType": "Recurring"})).await;
    app.dev("POST", "/v2/charges")
        .key(&new_key())
        .json(&json!({"chargePermissionId": permission, "chargeAmount": {"amount": "5.00", "currencyCode": "USD"}}))
        .unsigned_header("x-amz-pay-simulation-code", "HardDeclined")
        .send()
        .await
        .assert_error(422, "HardDeclined");
    assert_eq!(
        app.get(&format!("/v2/chargePermissions/{permission}")).await["statusDetails"]["state"],
        "NonChargeable"
    );
    permission
}

async fn buyer_action(app: &TestApp, permission: &str, body: Value) -> Response {
    app.dev("POST", format!("/v2/testHelpers/chargePermissions/{permission}/buyerActions")).json(&body).send().await
}

#[tokio::test]
async fn buyer_actions_fix_the_payment_method_or_close_the_permission() {
    let app = TestApp::spawn().await;
    let permission = hard_declined_recurring(&app).await;
    let fixed =
        buyer_action(&app, &permission, json!({"action": "UpdatePaymentMethod", "paymentMethod": "4444"})).await;
    let body = fixed.assert_status(200);
    assert_eq!(body["statusDetails"]["state"], "Chargeable");
    assert_eq!(body["paymentPreferences"][0]["paymentDescriptor"], "Visa ****4444");
    assert!(app.events_for(&permission).await.len() >= 3, "created, NonChargeable, Chargeable");
    buyer_action(&app, &permission, json!({"action": "UpdatePaymentMethod", "paymentMethod": "3064"}))
        .await
        .assert_error(400, "InvalidParameterValue");
    buyer_action(&app, &permission, json!({"action": "Wave"})).await.assert_error(400, "InvalidParameterValue");

    let open = app
        .dev("POST", "/v2/charges")
        .key(&new_key())
        .json(&json!({"chargePermissionId": permission, "chargeAmount": {"amount": "5.00", "currencyCode": "USD"}}))
        .send()
        .await
        .assert_status(201)["chargeId"]
        .as_str()
        .unwrap()
        .to_owned();
    let closed = buyer_action(&app, &permission, json!({"action": "Close"})).await;
    let body = closed.assert_status(200);
    assert_eq!(body["statusDetails"]["state"], "Closed");
    assert_eq!(body["statusDetails"]["reasons"][0]["reasonCode"], "BuyerClosed");
    let charge = app.get(&format!("/v2/charges/{open}")).await;
    assert_eq!(charge["statusDetails"]["reasonCode"], "BuyerCanceled");
    buyer_action(&app, &permission, json!({"action": "Close"}))
        .await
        .assert_error(422, "InvalidChargePermissionStatus");
    buyer_action(&app, "S01-0000000-0000000", json!({"action": "Close"})).await.assert_error(404, "ResourceNotFound");
}

#[tokio::test]
async fn the_buyer_page_shows_the_permission_and_takes_a_new_card() {
    let app = TestApp::spawn().await;
    let permission = hard_declined_recurring(&app).await;
    let url = format!("{}/jr/your-account/ba/{permission}", app.http);
    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("NonChargeable (PaymentMethodInvalid)"), "{html}");
    for card in ["1111", "0005", "4444", "9424", "0000", "0701", "4354"] {
        assert!(html.contains(&format!(r#"<label for="card-{card}">"#)), "card {card} has a label");
    }
    let chosen = app
        .client
        .post(&url)
        .form(&[("action", "UpdatePaymentMethod"), ("paymentMethod", "9424")])
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), 200);
    assert!(chosen.text().await.unwrap().contains("Visa ****9424"));
    assert_eq!(app.get(&format!("/v2/chargePermissions/{permission}")).await["statusDetails"]["state"], "Chargeable");

    let missing = app.client.post(&url).form(&[("action", "UpdatePaymentMethod")]).send().await.unwrap();
    assert_eq!(missing.status(), 400);
    let closed = app.client.post(&url).form(&[("action", "Close")]).send().await.unwrap();
    assert_eq!(closed.status(), 200);
    assert!(closed.text().await.unwrap().contains("Closed (BuyerClosed)"));
    let again = app.client.post(&url).form(&[("action", "Close")]).send().await.unwrap();
    assert_eq!(again.status(), 422);
    let unknown = app.client.get(format!("{}/jr/your-account/ba/S01-0000000-0000000", app.http)).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let malformed = app.client.get(format!("{}/jr/your-account/ba/%3Cscript%3E", app.http)).send().await.unwrap();
    assert_eq!(malformed.status(), 404);
    assert!(!malformed.text().await.unwrap().contains("<script>"), "ids are escaped");
}
