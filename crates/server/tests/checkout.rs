//! Checkout Sessions through signed HTTP (spec §5.5): every state, constraint, intent,
//! permission type and error, with the two buyer steps done by the test helpers.

mod support;

use serde_json::{Value, json};
use support::*;

async fn create(app: &TestApp, extra: Value) -> Response {
    let mut body = json!({
        "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
        "storeId": app.store_id().await,
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    app.dev("POST", "/v2/checkoutSessions").key(&new_key()).json(&body).send().await
}

async fn sign_in(app: &TestApp, id: &str, card: &str) -> Response {
    app.dev("POST", format!("/v2/testHelpers/checkoutSessions/{id}/signIn"))
        .json(&json!({"paymentMethod": card}))
        .send()
        .await
}

async fn update(app: &TestApp, id: &str, body: Value) -> Response {
    app.dev("PATCH", format!("/v2/checkoutSessions/{id}")).json(&body).send().await
}

async fn confirm(app: &TestApp, id: &str) -> Response {
    app.dev("POST", format!("/v2/testHelpers/checkoutSessions/{id}/confirm")).send().await
}

async fn complete(app: &TestApp, id: &str, amount: &str) -> Response {
    app.dev("POST", format!("/v2/checkoutSessions/{id}/complete"))
        .json(&json!({"chargeAmount": {"amount": amount, "currencyCode": "USD"}}))
        .send()
        .await
}

fn constraints(body: &Value) -> Vec<String> {
    body["constraints"].as_array().unwrap().iter().map(|c| c["constraintId"].as_str().unwrap().to_owned()).collect()
}

/// Create → sign in → update → confirm: a session ready to complete.
async fn ready(app: &TestApp, extra: Value, card: &str, intent: &str, pending: bool) -> String {
    let created = create(app, extra).await;
    let id = created.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    sign_in(app, &id, card).await.assert_status(200);
    let details = json!({
        "webCheckoutDetails": {"checkoutResultReturnUrl": "https://shop.example/result"},
        "paymentDetails": {"paymentIntent": intent, "chargeAmount": {"amount": "20.00", "currencyCode": "USD"}, "canHandlePendingAuthorization": pending},
    });
    let updated = update(app, &id, details).await;
    assert!(updated.assert_status(200)["webCheckoutDetails"]["amazonPayRedirectUrl"].is_string());
    let confirmed = confirm(app, &id).await;
    assert_eq!(
        confirmed.assert_status(200)["redirectUrl"],
        format!("https://shop.example/result?amazonCheckoutSessionId={id}")
    );
    id
}

#[tokio::test]
async fn a_session_walks_from_open_to_completed_losing_constraints_on_the_way() {
    let app = TestApp::spawn().await;
    let created = create(&app, json!({"merchantMetadata": {"merchantReferenceId": "order-1"}})).await;
    let body = created.assert_status(201).clone();
    let id = body["checkoutSessionId"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(body["statusDetails"]["state"], "Open");
    assert_eq!(
        constraints(&body),
        ["BuyerNotAssociated", "ChargeAmountNotSet", "CheckoutResultReturnUrlNotSet", "PaymentIntentNotSet"]
    );
    assert_eq!(body["webCheckoutDetails"]["amazonPayRedirectUrl"], Value::Null);
    assert_eq!(body["chargePermissionType"], "OneTime");
    assert_eq!(body["releaseEnvironment"], "Sandbox");

    let signed_in = sign_in(&app, &id, "4444").await;
    let body = signed_in.assert_status(200).clone();
    assert_eq!(constraints(&body), ["ChargeAmountNotSet", "CheckoutResultReturnUrlNotSet", "PaymentIntentNotSet"]);
    assert_eq!(body["paymentPreferences"][0]["paymentDescriptor"], "Visa ****4444");
    assert!(body["buyer"]["buyerId"].is_string());
    assert_eq!(body["shippingAddress"]["countryCode"], "US");
    // Amazon sends shippingAddressList for multi-address checkouts only; the official .NET
    // SDK fails on a null one.
    assert!(body.get("shippingAddressList").is_none(), "{body}");

    // Not ready yet: the buyer cannot confirm.
    confirm(&app, &id).await.assert_error(422, "InvalidCheckoutSessionStatus");
    complete(&app, &id, "20.00").await.assert_error(422, "InvalidCheckoutSessionStatus");

    let body = update(&app, &id, json!({"paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": {"amount": "20.00", "currencyCode": "USD"}}})).await.assert_status(200).clone();
    assert_eq!(constraints(&body), ["CheckoutResultReturnUrlNotSet"]);
    let body =
        update(&app, &id, json!({"webCheckoutDetails": {"checkoutResultReturnUrl": "https://shop.example/result"}}))
            .await
            .assert_status(200)
            .clone();
    assert!(constraints(&body).is_empty());
    let redirect = body["webCheckoutDetails"]["amazonPayRedirectUrl"].as_str().unwrap();
    assert_eq!(redirect, format!("{}/checkout/{id}/confirm", app.http));
    confirm(&app, &id).await.assert_status(200);

    complete(&app, &id, "19.99").await.assert_error(409, "AmountMismatch");
    let completed = complete(&app, &id, "20.00").await;
    let body = completed.assert_status(200).clone();
    assert_eq!(body["statusDetails"]["state"], "Completed");
    let permission_id = body["chargePermissionId"].as_str().unwrap();
    let charge_id = body["chargeId"].as_str().unwrap();
    let permission = app.get(&format!("/v2/chargePermissions/{permission_id}")).await;
    // The authorization holds the whole order: no other charge until it ends (product.md).
    assert_eq!(permission["statusDetails"]["state"], "NonChargeable");
    assert_eq!(permission["statusDetails"]["reasons"][0]["reasonCode"], "ChargeInProgress");
    assert_eq!(permission["merchantMetadata"]["merchantReferenceId"], "order-1");
    assert_eq!(permission["limits"]["amountLimit"]["amount"], "20.00");
    assert_eq!(app.get(&format!("/v2/charges/{charge_id}")).await["statusDetails"]["state"], "Authorized");
    assert_eq!(app.get(&format!("/v2/checkoutSessions/{id}")).await["statusDetails"]["state"], "Completed");

    // A completed session refuses changes.
    update(&app, &id, json!({})).await.assert_error(422, "InvalidCheckoutSessionStatus");
    complete(&app, &id, "20.00").await.assert_error(422, "InvalidCheckoutSessionStatus");
}

#[tokio::test]
async fn each_intent_and_permission_type_completes_into_its_objects() {
    let app = TestApp::spawn().await;
    let recurring = json!({"chargePermissionType": "Recurring", "recurringMetadata": {"frequency": {"unit": "Month", "value": "1"}, "amount": {"amount": "20.00", "currencyCode": "USD"}}});
    let wallet =
        json!({"chargePermissionType": "PaymentMethodOnFile", "paymentMethodOnFileMetadata": {"setupOnly": false}});
    for (kind, extra) in [("OneTime", json!({})), ("Recurring", recurring), ("PaymentMethodOnFile", wallet)] {
        for (intent, charge_state) in
            [("Confirm", None), ("Authorize", Some("Authorized")), ("AuthorizeWithCapture", Some("Captured"))]
        {
            let id = ready(&app, extra.clone(), "1111", intent, false).await;
            let body = complete(&app, &id, "20.00").await.assert_status(200).clone();
            let permission =
                app.get(&format!("/v2/chargePermissions/{}", body["chargePermissionId"].as_str().unwrap())).await;
            assert_eq!(permission["chargePermissionType"], kind);
            match charge_state {
                None => assert_eq!(body["chargeId"], Value::Null, "{kind} {intent}"),
                Some(state) => {
                    let charge = app.get(&format!("/v2/charges/{}", body["chargeId"].as_str().unwrap())).await;
                    assert_eq!(charge["statusDetails"]["state"], state, "{kind} {intent}");
                }
            }
        }
    }
}

#[tokio::test]
async fn pending_authorizations_answer_202_and_resolve_with_the_clock() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let id = ready(&app, json!({}), "0701", "Authorize", true).await;
    let completed = complete(&app, &id, "20.00").await;
    let body = completed.assert_status(202).clone();
    let charge_id = body["chargeId"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v2/charges/{charge_id}")).await["statusDetails"]["state"], "AuthorizationInitiated");
    app.advance(30).await;
    assert_eq!(app.get(&format!("/v2/charges/{charge_id}")).await["statusDetails"]["state"], "Authorized");

    // Without canHandlePendingAuthorization the pending card declines at once.
    let id = ready(&app, json!({}), "0701", "Authorize", false).await;
    complete(&app, &id, "20.00").await.assert_error(422, "TransactionTimedOut");
    let session = app.get(&format!("/v2/checkoutSessions/{id}")).await;
    assert_eq!(
        (session["statusDetails"]["state"].as_str(), session["statusDetails"]["reasonCode"].as_str()),
        (Some("Canceled"), Some("Declined"))
    );

    // The pending cards need paymentIntent Authorize: another intent is an error, never a
    // completed checkout, and the session waits for the merchant to fix it.
    for (card, intent) in [("0701", "Confirm"), ("4354", "AuthorizeWithCapture"), ("0701", "AuthorizeWithCapture")] {
        let id = ready(&app, json!({}), card, intent, true).await;
        complete(&app, &id, "20.00").await.assert_error(400, "InvalidSandboxSimulationSpecified");
        let session = app.get(&format!("/v2/checkoutSessions/{id}")).await;
        assert_eq!(session["statusDetails"]["state"], "Open", "{card} {intent}");
        assert_eq!(session["chargePermissionId"], Value::Null, "{card} {intent}");
        update(&app, &id, json!({"paymentDetails": {"paymentIntent": "Authorize"}})).await.assert_status(200);
        complete(&app, &id, "20.00").await.assert_status(202);
    }
}

#[tokio::test]
async fn checkout_cards_and_simulation_codes_cancel_sessions() {
    let app = TestApp::spawn().await;
    // 3064 and 3434 act "after the buyer returns to checkoutResultReturnUrl" (spec §11): the
    // merchant's update between sign-in and confirm still works.
    for (card, reason) in [("3064", "BuyerCanceled"), ("3434", "Declined")] {
        let id = create(&app, json!({})).await.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
        let body = sign_in(&app, &id, card).await.assert_status(200).clone();
        assert_eq!(body["statusDetails"]["state"], "Open", "{card}");
        let details = json!({
            "webCheckoutDetails": {"checkoutResultReturnUrl": "https://shop.example/result"},
            "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": {"amount": "20.00", "currencyCode": "USD"}},
        });
        let updated = update(&app, &id, details).await;
        assert_eq!(updated.assert_status(200)["statusDetails"]["state"], "Open", "{card}");
        let returned = confirm(&app, &id).await;
        assert_eq!(
            returned.assert_status(200)["redirectUrl"],
            format!("https://shop.example/result?amazonCheckoutSessionId={id}")
        );
        let session = app.get(&format!("/v2/checkoutSessions/{id}")).await;
        assert_eq!(
            (session["statusDetails"]["state"].as_str(), session["statusDetails"]["reasonCode"].as_str()),
            (Some("Canceled"), Some(reason))
        );
        complete(&app, &id, "20.00").await.assert_error(422, "CheckoutSessionCanceled");
        update(&app, &id, json!({})).await.assert_error(422, "InvalidCheckoutSessionStatus");
    }
    for code in ["BuyerCanceled", "AmazonCanceled", "Declined"] {
        let id = create(&app, json!({})).await.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
        let body = app
            .dev("PATCH", format!("/v2/checkoutSessions/{id}"))
            .json(&json!({}))
            .unsigned_header("x-amz-pay-simulation-code", code)
            .send()
            .await
            .assert_status(200)
            .clone();
        assert_eq!(body["statusDetails"]["reasonCode"], code);
        let ready_id = ready(&app, json!({}), "1111", "Authorize", false).await;
        let response = app
            .dev("POST", format!("/v2/checkoutSessions/{ready_id}/complete"))
            .json(&json!({"chargeAmount": {"amount": "20.00", "currencyCode": "USD"}}))
            .unsigned_header("x-amz-pay-simulation-code", code)
            .send()
            .await;
        response.assert_error(422, "CheckoutSessionCanceled");
        assert_eq!(app.get(&format!("/v2/checkoutSessions/{ready_id}")).await["statusDetails"]["reasonCode"], code);
    }
    // Codes of other operations are refused here.
    let id = create(&app, json!({})).await.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    app.dev("PATCH", format!("/v2/checkoutSessions/{id}"))
        .json(&json!({}))
        .unsigned_header("x-amz-pay-simulation-code", "HardDeclined")
        .send()
        .await
        .assert_error(400, "InvalidSandboxSimulationSpecified");
}

#[tokio::test]
async fn sessions_expire_after_24_hours() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let id = create(&app, json!({})).await.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    app.advance(86_399).await;
    assert_eq!(app.get(&format!("/v2/checkoutSessions/{id}")).await["statusDetails"]["state"], "Open");
    app.advance(1).await;
    let session = app.get(&format!("/v2/checkoutSessions/{id}")).await;
    assert_eq!(
        (session["statusDetails"]["state"].as_str(), session["statusDetails"]["reasonCode"].as_str()),
        (Some("Canceled"), Some("Expired"))
    );
    sign_in(&app, &id, "1111").await.assert_error(422, "InvalidCheckoutSessionStatus");
}

#[tokio::test]
async fn process_order_skips_the_review_and_limits_follow_the_order() {
    let app = TestApp::spawn().await;
    let body = json!({
        "webCheckoutDetails": {"checkoutResultReturnUrl": "https://shop.example/result", "checkoutMode": "ProcessOrder"},
        "paymentDetails": {"paymentIntent": "AuthorizeWithCapture", "chargeAmount": {"amount": "20.00", "currencyCode": "USD"}, "totalOrderAmount": {"amount": "50.00", "currencyCode": "USD"}},
    });
    let id = create(&app, body).await.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    sign_in(&app, &id, "1111").await.assert_status(200);
    let completed = complete(&app, &id, "20.00").await.assert_status(200).clone();
    let permission =
        app.get(&format!("/v2/chargePermissions/{}", completed["chargePermissionId"].as_str().unwrap())).await;
    assert_eq!(permission["limits"]["amountLimit"]["amount"], "50.00");
    assert_eq!(permission["limits"]["amountBalance"]["amount"], "30.00", "the rest of the order can be charged later");
}

#[tokio::test]
async fn finalize_sets_the_amount_and_completes() {
    let app = TestApp::spawn().await;
    let id = create(&app, json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review", "checkoutResultReturnUrl": "https://shop.example/result"}, "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": {"amount": "5.00", "currencyCode": "USD"}}})).await.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    sign_in(&app, &id, "1111").await.assert_status(200);
    confirm(&app, &id).await.assert_status(200);
    let finalized = app
        .dev("POST", format!("/v2/checkoutSessions/{id}/finalize"))
        .key(&new_key())
        .json(&json!({"chargeAmount": {"amount": "5.00", "currencyCode": "USD"}, "paymentIntent": "Authorize"}))
        .send()
        .await;
    assert_eq!(finalized.assert_status(200)["statusDetails"]["state"], "Completed");
}

#[tokio::test]
async fn creation_and_update_errors() {
    let app = TestApp::spawn().await;
    let store = app.store_id().await;
    let post = |body: Value| app.dev("POST", "/v2/checkoutSessions").key(&new_key()).json(&body).send();
    post(json!({"storeId": store})).await.assert_error(400, "MissingParameterValue");
    post(json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://r"}}))
        .await
        .assert_error(400, "MissingParameterValue");
    post(json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://r"}, "storeId": "amzn1.application-oa2-client.other"})).await.assert_error(400, "InvalidParameterValue");
    post(json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "not a url"}, "storeId": store}))
        .await
        .assert_error(400, "InvalidParameterValue");
    post(json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://r"}, "storeId": store, "bogus": 1}))
        .await
        .assert_error(400, "UnrecognizedField");
    post(json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://r"}, "storeId": store, "chargePermissionType": "Recurring"})).await.assert_error(400, "MissingParameterValue");
    post(json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://r"}, "storeId": store, "paymentDetails": {"paymentIntent": "Steal"}})).await.assert_error(400, "InvalidParameterValue");
    post(json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://r", "checkoutMode": "ProcessOrder"}, "storeId": store})).await.assert_error(400, "MissingParameterValue");
    app.dev("POST", "/v2/checkoutSessions").json(&json!({})).send().await.assert_error(400, "MissingHeader");
    app.dev("GET", "/v2/checkoutSessions/not-a-uuid").send().await.assert_error(404, "ResourceNotFound");
    app.dev("GET", "/v2/checkoutSessions/9d6bbc5a-3e93-4a0b-a2df-1f3a6c1c7c6c")
        .send()
        .await
        .assert_error(404, "ResourceNotFound");
    let id = create(&app, json!({})).await.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    update(&app, &id, json!({"paymentDetails": {"chargeAmount": {"amount": "1", "currencyCode": "EUR"}}}))
        .await
        .assert_error(400, "InvalidParameterValue");
    update(&app, &id, json!({"paymentDetails": {"chargeAmount": {"amount": "150000.01", "currencyCode": "USD"}}}))
        .await
        .assert_error(400, "TransactionAmountExceeded");
    update(&app, &id, json!({"recurringMetadata": {"frequency": {"unit": "Month", "value": 1}}}))
        .await
        .assert_error(400, "InvalidParameterCombination");
    // Another merchant's session does not exist for you.
    let other = app
        .merchant(
            amzpay_domain::Region::Na,
            amzpay_server::merchants::KeyStyle::Prefixed(amzpay_domain::Environment::Sandbox),
        )
        .await;
    app.call(&other, "GET", format!("/v2/checkoutSessions/{id}")).send().await.assert_error(404, "ResourceNotFound");
}
