//! Field tables. For each operation, every request field an official SDK can send, shown
//! accepted; for each object, every field of the official SDKs' response types, shown
//! present (null or a value), and the keys in Amazon's order.
//!
//! Sources: the official .NET SDK 2.7.3 request and response types (the one typed SDK;
//! every path below is one of its JSON property paths), whose fields include everything the
//! Node.js 2.3.3, Java 2.6.7, PHP 2.7.2 and Ruby 1.2.0 SDKs and their READMEs send, plus the
//! keys Amazon's Node.js SDK tests compare, in order, against Amazon's sandbox. `<country>`
//! is a key of `restrictions` (an ISO country code), `[]` an element of a list.

mod support;

use std::fmt;

use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde_json::{Value, json};
use support::*;

/// Sets `value` at a dotted path: `[]` makes (or appends to) a list, `<country>` is `US`.
fn set_path(root: &mut Value, path: &str, value: Value) {
    let segments: Vec<&str> = path.split('.').collect();
    let mut node = root;
    for (index, segment) in segments.iter().enumerate() {
        let (name, list) = match segment.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (*segment, false),
        };
        let name = if name == "<country>" { "US" } else { name };
        let object = node.as_object_mut().expect("an object on the way");
        if index + 1 == segments.len() {
            match (list, value) {
                (true, Value::Array(items)) => {
                    object.insert(name.to_owned(), Value::Array(items));
                }
                (true, item) => object.entry(name).or_insert_with(|| json!([])).as_array_mut().unwrap().push(item),
                // `{}` (a whole country) does not erase what a longer path put there.
                (false, Value::Object(empty)) if empty.is_empty() && object.contains_key(name) => {}
                (false, value) => {
                    object.insert(name.to_owned(), value);
                }
            }
            return;
        }
        node = if list {
            &mut object.entry(name).or_insert_with(|| json!([{}]))[0]
        } else {
            object.entry(name).or_insert_with(|| json!({}))
        };
    }
}

/// Builds a body from (path, value) rows, after replacing `$NAME` placeholders.
fn body(rows: &[(&str, Value)], vars: &[(&str, &str)]) -> Value {
    let mut root = json!({});
    for (path, value) in rows {
        let value = match value.as_str().and_then(|v| vars.iter().find(|(name, _)| *name == v)) {
            Some((_, replacement)) => json!(replacement),
            None => value.clone(),
        };
        set_path(&mut root, path, value);
    }
    root
}

/// Every path of an SDK's list appears in the rows sent.
#[track_caller]
fn assert_covered(sdk_fields: &[&str], sent: &[&[(&str, Value)]]) {
    for field in sdk_fields {
        assert!(sent.iter().any(|rows| rows.iter().any(|(path, _)| path == field)), "no row sends {field}");
    }
}

/// Whether a response has the key at `path`: `Some(true)` yes, `Some(false)` no, `None` when
/// a parent on the way is null (the path says nothing then).
fn has_path(body: &Value, path: &str) -> Option<bool> {
    let mut node = body;
    let segments: Vec<&str> = path.split('.').collect();
    for (index, segment) in segments.iter().enumerate() {
        let (name, list) = match segment.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (*segment, false),
        };
        let object = node.as_object()?;
        let Some(next) = object.get(name) else { return Some(false) };
        if index + 1 == segments.len() {
            return Some(true);
        }
        node = if list { next.as_array()?.first()? } else { next };
    }
    Some(true)
}

/// Every path of a response type is present in the answers (and in at least one of them
/// with its parents set).
#[track_caller]
fn assert_present(object: &str, fields: &[&str], answers: &[&Value]) {
    for field in fields {
        let seen: Vec<Option<bool>> = answers.iter().map(|answer| has_path(answer, field)).collect();
        assert!(!seen.contains(&Some(false)), "{object}: {field} is missing from an answer");
        assert!(seen.contains(&Some(true)), "{object}: no answer shows {field} with its parents set");
    }
}

/// The top-level keys of a JSON object, in the order they were written.
fn keys_in_order(raw: &[u8]) -> Vec<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                keys.push(key);
            }
            Ok(keys)
        }
    }
    serde_json::Deserializer::from_slice(raw).deserialize_map(Keys).unwrap()
}

#[track_caller]
fn assert_keys(response: &Response, expected: &[&str]) {
    assert_eq!(keys_in_order(&response.raw), expected, "{response:?}");
}

fn usd(amount: &str) -> Value {
    json!({"amount": amount, "currencyCode": "USD"})
}

/// An unknown field is still refused.
async fn assert_unknown_refused(app: &TestApp, method: &str, path: &str, mut body: Value, key: bool) {
    body["bogusField"] = json!(1);
    let call = app.dev(method, path).json(&body);
    let call = if key { call.key(&new_key()) } else { call };
    call.send().await.assert_error(400, "UnrecognizedField");
}

// ---------------------------------------------------------------------------------------
// Checkout Sessions

/// .NET `CreateCheckoutSessionRequest` (with its base, `UpdateCheckoutSessionRequest`).
/// `webCheckoutDetails.amazonPayRedirectUrl` is declared there too, but its setter is
/// internal: Amazon sets it, no SDK sends it.
const CREATE_SESSION_FIELDS: &[&str] = &[
    "storeId",
    "deliverySpecifications.specialRestrictions[]",
    "deliverySpecifications.addressRestrictions.type",
    "deliverySpecifications.addressRestrictions.restrictions.<country>",
    "deliverySpecifications.addressRestrictions.restrictions.<country>.statesOrRegions[]",
    "deliverySpecifications.addressRestrictions.restrictions.<country>.zipCodes[]",
    "addressDetails.districtOrCounty",
    "addressDetails.name",
    "addressDetails.addressLine3",
    "addressDetails.phoneNumber",
    "addressDetails.addressLine1",
    "addressDetails.addressLine2",
    "addressDetails.city",
    "addressDetails.stateOrRegion",
    "addressDetails.postalCode",
    "addressDetails.countryCode",
    "scopes[]",
    "paymentMethodOnFileMetadata.setupOnly",
    "chargePermissionId",
    "webCheckoutDetails.checkoutReviewReturnUrl",
    "webCheckoutDetails.checkoutResultReturnUrl",
    "webCheckoutDetails.checkoutCancelUrl",
    "webCheckoutDetails.checkoutMode",
    "paymentDetails.paymentIntent",
    "paymentDetails.canHandlePendingAuthorization",
    "paymentDetails.chargeAmount.amount",
    "paymentDetails.chargeAmount.currencyCode",
    "paymentDetails.totalOrderAmount.amount",
    "paymentDetails.totalOrderAmount.currencyCode",
    "paymentDetails.presentmentCurrency",
    "paymentDetails.allowOvercharge",
    "paymentDetails.extendExpiration",
    "paymentDetails.softDescriptor",
    "paymentDetails.estimateOrderTotal.amount",
    "paymentDetails.estimateOrderTotal.currencyCode",
    "merchantMetadata.merchantReferenceId",
    "merchantMetadata.merchantStoreName",
    "merchantMetadata.noteToBuyer",
    "merchantMetadata.customInformation",
    "supplementaryData",
    "platformId",
    "providerMetadata.providerReferenceId",
    "chargePermissionType",
    "recurringMetadata.frequency.unit",
    "recurringMetadata.frequency.value",
    "recurringMetadata.amount.amount",
    "recurringMetadata.amount.currencyCode",
    "multiAddressesCheckoutMetadata[].addressId",
    "multiAddressesCheckoutMetadata[].price.amount",
    "multiAddressesCheckoutMetadata[].price.currencyCode",
];

/// .NET `CheckoutSessionResponse`, and the keys Amazon's Node.js SDK tests compare.
const SESSION_RESPONSE_FIELDS: &[&str] = &[
    "checkoutSessionId",
    "storeId",
    "webCheckoutDetails.checkoutReviewReturnUrl",
    "webCheckoutDetails.checkoutResultReturnUrl",
    "webCheckoutDetails.checkoutCancelUrl",
    "webCheckoutDetails.amazonPayRedirectUrl",
    "webCheckoutDetails.checkoutMode",
    "productType",
    "paymentDetails.paymentIntent",
    "paymentDetails.canHandlePendingAuthorization",
    "paymentDetails.chargeAmount.amount",
    "paymentDetails.chargeAmount.currencyCode",
    "paymentDetails.totalOrderAmount.amount",
    "paymentDetails.totalOrderAmount.currencyCode",
    "paymentDetails.presentmentCurrency",
    "paymentDetails.allowOvercharge",
    "paymentDetails.extendExpiration",
    "paymentDetails.softDescriptor",
    "paymentDetails.estimateOrderTotal.amount",
    "paymentDetails.estimateOrderTotal.currencyCode",
    "merchantMetadata.merchantReferenceId",
    "merchantMetadata.merchantStoreName",
    "merchantMetadata.noteToBuyer",
    "merchantMetadata.customInformation",
    "buyer.buyerId",
    "buyer.name",
    "buyer.email",
    "buyer.phoneNumber",
    "buyer.primeMembershipTypes",
    "statusDetails.state",
    "statusDetails.reasonCode",
    "statusDetails.reasonDescription",
    "statusDetails.lastUpdatedTimestamp",
    "supplementaryData",
    "platformId",
    "providerMetadata.providerReferenceId",
    "shippingAddress.name",
    "shippingAddress.addressLine1",
    "shippingAddress.addressLine2",
    "shippingAddress.addressLine3",
    "shippingAddress.city",
    "shippingAddress.county",
    "shippingAddress.district",
    "shippingAddress.stateOrRegion",
    "shippingAddress.postalCode",
    "shippingAddress.countryCode",
    "shippingAddress.phoneNumber",
    "billingAddress.name",
    "billingAddress.addressLine1",
    "billingAddress.countryCode",
    "paymentPreferences[].paymentDescriptor",
    "constraints[].constraintId",
    "constraints[].description",
    "creationTimestamp",
    "expirationTimestamp",
    "chargePermissionId",
    "chargeId",
    "deliverySpecifications.specialRestrictions",
    "deliverySpecifications.addressRestrictions.type",
    "deliverySpecifications.addressRestrictions.restrictions.US.statesOrRegions",
    "deliverySpecifications.addressRestrictions.restrictions.US.zipCodes",
    "releaseEnvironment",
    "chargePermissionType",
    "recurringMetadata.frequency.unit",
    "recurringMetadata.frequency.value",
    "recurringMetadata.amount.amount",
    "recurringMetadata.amount.currencyCode",
    "paymentMethodOnFileMetadata.setupOnly",
    "checkoutButtonText",
    "orderType",
    "merchantDetails",
    "tokens",
];

/// .NET `CheckoutSessionResponse` fields Amazon sends only for multi-address checkouts,
/// which amzpay does not model: Amazon's Node.js SDK tests expect single-address sessions
/// without them, and the .NET SDK fails on a `null` `shippingAddressList`.
const SESSION_RESPONSE_MULTI_ADDRESS_ONLY: &[&str] = &["shippingAddressList", "multiAddressesCheckoutMetadata"];

/// Amazon's Node.js SDK tests (2.3.x): a session's keys, in order.
const SESSION_KEYS: &[&str] = &[
    "checkoutSessionId",
    "webCheckoutDetails",
    "productType",
    "paymentDetails",
    "chargePermissionType",
    "orderType",
    "recurringMetadata",
    "paymentMethodOnFileMetadata",
    "merchantDetails",
    "merchantMetadata",
    "supplementaryData",
    "buyer",
    "billingAddress",
    "paymentPreferences",
    "statusDetails",
    "shippingAddress",
    "platformId",
    "chargePermissionId",
    "chargeId",
    "constraints",
    "creationTimestamp",
    "expirationTimestamp",
    "storeId",
    "providerMetadata",
    "releaseEnvironment",
    "checkoutButtonText",
    "deliverySpecifications",
    "tokens",
];

fn create_session_rows() -> Vec<Vec<(&'static str, Value)>> {
    let common = vec![
        ("storeId", json!("$STORE")),
        ("webCheckoutDetails.checkoutReviewReturnUrl", json!("https://shop.example/review")),
        ("webCheckoutDetails.checkoutResultReturnUrl", json!("https://shop.example/result")),
        ("webCheckoutDetails.checkoutCancelUrl", json!("https://shop.example/cancel")),
        ("merchantMetadata.merchantReferenceId", json!("order-1")),
        ("merchantMetadata.merchantStoreName", json!("Field Store")),
        ("merchantMetadata.noteToBuyer", json!("Thanks")),
        ("merchantMetadata.customInformation", json!("custom")),
        ("supplementaryData", json!("{\"channel\":\"web\"}")),
        ("platformId", json!("SPId")),
        ("providerMetadata.providerReferenceId", json!("psp-1")),
    ];
    // The Additional Payment Button's one-time checkout, with everything it may carry.
    let mut one_time = common.clone();
    one_time.extend([
        ("chargePermissionType", json!("OneTime")),
        ("webCheckoutDetails.checkoutMode", json!("ProcessOrder")),
        ("deliverySpecifications.specialRestrictions[]", json!(["RestrictPOBoxes", "RestrictPackstations"])),
        ("deliverySpecifications.addressRestrictions.type", json!("Allowed")),
        ("deliverySpecifications.addressRestrictions.restrictions.<country>", json!({})),
        ("deliverySpecifications.addressRestrictions.restrictions.<country>.statesOrRegions[]", json!("WA")),
        ("deliverySpecifications.addressRestrictions.restrictions.<country>.zipCodes[]", json!("98109")),
        ("addressDetails.districtOrCounty", json!("Manhattan")),
        ("addressDetails.name", json!("Paul Smith")),
        ("addressDetails.addressLine1", json!("9999 First Avenue")),
        ("addressDetails.addressLine2", json!("Floor 2")),
        ("addressDetails.addressLine3", json!("Door 3")),
        ("addressDetails.city", json!("New York")),
        ("addressDetails.stateOrRegion", json!("NY")),
        ("addressDetails.postalCode", json!("10016")),
        ("addressDetails.countryCode", json!("US")),
        ("addressDetails.phoneNumber", json!("212555555")),
        (
            "scopes[]",
            json!(["name", "email", "postalCode", "shippingAddress", "phoneNumber", "primeStatus", "billingAddress"]),
        ),
        ("paymentDetails.paymentIntent", json!("AuthorizeWithCapture")),
        ("paymentDetails.canHandlePendingAuthorization", json!(false)),
        ("paymentDetails.chargeAmount.amount", json!(10)),
        ("paymentDetails.chargeAmount.currencyCode", json!("USD")),
        ("paymentDetails.totalOrderAmount.amount", json!(12.5)),
        ("paymentDetails.totalOrderAmount.currencyCode", json!("USD")),
        ("paymentDetails.presentmentCurrency", json!("USD")),
        ("paymentDetails.allowOvercharge", json!(true)),
        ("paymentDetails.extendExpiration", json!(true)),
        ("paymentDetails.softDescriptor", json!("FIELD STORE")),
        ("paymentDetails.estimateOrderTotal.amount", json!("12.50")),
        ("paymentDetails.estimateOrderTotal.currencyCode", json!("USD")),
        ("multiAddressesCheckoutMetadata[].addressId", json!("amzn1.address.ABC")),
        ("multiAddressesCheckoutMetadata[].price.amount", json!(10)),
        ("multiAddressesCheckoutMetadata[].price.currencyCode", json!("USD")),
    ]);
    let mut recurring = common.clone();
    recurring.extend([
        ("chargePermissionType", json!("Recurring")),
        ("recurringMetadata.frequency.unit", json!("Month")),
        ("recurringMetadata.frequency.value", json!(1)),
        ("recurringMetadata.amount.amount", json!("20.00")),
        ("recurringMetadata.amount.currencyCode", json!("USD")),
    ]);
    // Saved Wallet, renewing the payment method of an existing Saved Wallet.
    let mut saved_wallet = common;
    saved_wallet.extend([
        ("chargePermissionType", json!("PaymentMethodOnFile")),
        ("paymentMethodOnFileMetadata.setupOnly", json!(true)),
        ("chargePermissionId", json!("$WALLET")),
    ]);
    vec![one_time, recurring, saved_wallet]
}

#[tokio::test]
async fn every_sdk_field_of_create_checkout_session_is_accepted_and_echoed_in_amazons_order() {
    let app = TestApp::spawn().await;
    let store = app.store_id().await;
    let wallet = app.permission(&app.dev, json!({"chargePermissionType": "PaymentMethodOnFile"})).await;
    let vars = [("$STORE", store.as_str()), ("$WALLET", wallet.as_str())];
    let variants = create_session_rows();
    let rows: Vec<&[(&str, Value)]> = variants.iter().map(Vec::as_slice).collect();
    assert_covered(CREATE_SESSION_FIELDS, &rows);

    let mut answers = Vec::new();
    for variant in &variants {
        let sent = body(variant, &vars);
        let created = app.dev("POST", "/v2/checkoutSessions").key(&new_key()).json(&sent).send().await;
        created.assert_status(201);
        assert_keys(&created, SESSION_KEYS);
        let id = created.body["checkoutSessionId"].as_str().unwrap().to_owned();
        // What Amazon echoes comes back as sent.
        for echoed in
            ["merchantMetadata", "supplementaryData", "platformId", "providerMetadata", "chargePermissionType"]
        {
            assert_eq!(created.body[echoed], sent[echoed], "{echoed}");
        }
        if let Some(specs) = sent.get("deliverySpecifications") {
            assert_eq!(&created.body["deliverySpecifications"], specs);
            assert_eq!(created.body["webCheckoutDetails"]["checkoutMode"], "ProcessOrder");
            assert_eq!(created.body["paymentDetails"]["estimateOrderTotal"], usd("12.50"));
            assert_eq!(created.body["paymentDetails"]["totalOrderAmount"], usd("12.50"));
        }
        if sent.get("paymentMethodOnFileMetadata").is_some() {
            assert_eq!(created.body["paymentMethodOnFileMetadata"], json!({"setupOnly": true}));
        }
        if sent.get("recurringMetadata").is_some() {
            assert_eq!(
                created.body["recurringMetadata"],
                json!({"frequency": {"unit": "Month", "value": "1"}, "amount": usd("20.00")})
            );
        }
        assert_unknown_refused(&app, "POST", "/v2/checkoutSessions", sent, true).await;
        // The buyer signs in: the session then shows buyer, addresses and payment method.
        let signed_in = app
            .dev("POST", format!("/v2/testHelpers/checkoutSessions/{id}/signIn"))
            .json(&json!({"paymentMethod": "1111"}))
            .send()
            .await;
        signed_in.assert_status(200);
        let got = app.dev("GET", format!("/v2/checkoutSessions/{id}")).send().await;
        assert_keys(&got, SESSION_KEYS);
        answers.push(created.body);
        answers.push(got.body);
    }
    // The Additional Payment Button's address is where the order ships.
    assert_eq!(answers[1]["shippingAddress"]["county"], "Manhattan");
    assert_eq!(answers[1]["shippingAddress"]["addressLine3"], "Door 3");
    let answers: Vec<&Value> = answers.iter().collect();
    assert_present("CheckoutSession", SESSION_RESPONSE_FIELDS, &answers);
    for absent in SESSION_RESPONSE_MULTI_ADDRESS_ONLY {
        assert!(answers.iter().all(|a| a.get(*absent).is_none()), "{absent}");
    }
}

/// .NET `UpdateCheckoutSessionRequest` (without `amazonPayRedirectUrl`, set by Amazon).
const UPDATE_SESSION_FIELDS: &[&str] = &[
    "webCheckoutDetails.checkoutReviewReturnUrl",
    "webCheckoutDetails.checkoutResultReturnUrl",
    "webCheckoutDetails.checkoutCancelUrl",
    "webCheckoutDetails.checkoutMode",
    "paymentDetails.paymentIntent",
    "paymentDetails.canHandlePendingAuthorization",
    "paymentDetails.chargeAmount.amount",
    "paymentDetails.chargeAmount.currencyCode",
    "paymentDetails.totalOrderAmount.amount",
    "paymentDetails.totalOrderAmount.currencyCode",
    "paymentDetails.presentmentCurrency",
    "paymentDetails.softDescriptor",
    "paymentDetails.estimateOrderTotal.amount",
    "paymentDetails.estimateOrderTotal.currencyCode",
    "merchantMetadata.merchantReferenceId",
    "merchantMetadata.merchantStoreName",
    "merchantMetadata.noteToBuyer",
    "merchantMetadata.customInformation",
    "supplementaryData",
    "platformId",
    "providerMetadata.providerReferenceId",
    "chargePermissionType",
    "recurringMetadata.frequency.unit",
    "recurringMetadata.frequency.value",
    "recurringMetadata.amount.amount",
    "recurringMetadata.amount.currencyCode",
    "multiAddressesCheckoutMetadata[].addressId",
    "multiAddressesCheckoutMetadata[].price.amount",
    "multiAddressesCheckoutMetadata[].price.currencyCode",
];

/// In the .NET type (shared with Create), but set only at creation (Amazon's "advanced
/// one-time payment options"): Update refuses them as a field invalid for this API.
const UPDATE_SESSION_CREATION_ONLY: &[&str] = &["paymentDetails.allowOvercharge", "paymentDetails.extendExpiration"];

#[tokio::test]
async fn every_sdk_field_of_update_checkout_session_is_accepted_but_the_creation_only_ones() {
    let app = TestApp::spawn().await;
    let store = app.store_id().await;
    let create =
        json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"}, "storeId": store});
    let created = app.dev("POST", "/v2/checkoutSessions").key(&new_key()).json(&create).send().await;
    let id = created.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    let path = format!("/v2/checkoutSessions/{id}");
    let general = vec![
        ("webCheckoutDetails.checkoutReviewReturnUrl", json!("https://shop.example/review2")),
        ("webCheckoutDetails.checkoutResultReturnUrl", json!("https://shop.example/result")),
        ("webCheckoutDetails.checkoutCancelUrl", json!("https://shop.example/cancel")),
        ("webCheckoutDetails.checkoutMode", json!("ProcessOrder")),
        ("paymentDetails.paymentIntent", json!("AuthorizeWithCapture")),
        ("paymentDetails.canHandlePendingAuthorization", json!("false")),
        ("paymentDetails.chargeAmount.amount", json!(1080)),
        ("paymentDetails.chargeAmount.currencyCode", json!("USD")),
        ("paymentDetails.totalOrderAmount.amount", json!(1234.56)),
        ("paymentDetails.totalOrderAmount.currencyCode", json!("USD")),
        ("paymentDetails.presentmentCurrency", json!("USD")),
        ("paymentDetails.softDescriptor", json!("SHOP")),
        ("paymentDetails.estimateOrderTotal.amount", json!(1200)),
        ("paymentDetails.estimateOrderTotal.currencyCode", json!("USD")),
        ("merchantMetadata.merchantReferenceId", json!("123")),
        ("merchantMetadata.merchantStoreName", json!("myStore")),
        ("merchantMetadata.noteToBuyer", json!("myBuyerNote")),
        ("merchantMetadata.customInformation", json!("foo")),
        ("supplementaryData", json!("foo")),
        ("platformId", json!("SPId")),
        ("providerMetadata.providerReferenceId", json!("foo")),
        ("multiAddressesCheckoutMetadata[].addressId", json!("amzn1.address.ABC")),
        ("multiAddressesCheckoutMetadata[].price.amount", json!(33)),
        ("multiAddressesCheckoutMetadata[].price.currencyCode", json!("USD")),
    ];
    let recurring = vec![
        ("chargePermissionType", json!("Recurring")),
        ("paymentDetails.paymentIntent", json!("Authorize")),
        ("paymentDetails.softDescriptor", Value::Null),
        ("recurringMetadata.frequency.unit", json!("Month")),
        ("recurringMetadata.frequency.value", json!(3)),
        ("recurringMetadata.amount.amount", json!(23.45)),
        ("recurringMetadata.amount.currencyCode", json!("USD")),
    ];
    assert_covered(UPDATE_SESSION_FIELDS, &[&general, &recurring]);
    let sent = body(&general, &[]);
    let updated = app.dev("PATCH", &path).json(&sent).send().await;
    updated.assert_status(200);
    assert_keys(&updated, SESSION_KEYS);
    for echoed in ["merchantMetadata", "supplementaryData", "platformId", "providerMetadata"] {
        assert_eq!(updated.body[echoed], sent[echoed], "{echoed}");
    }
    assert_eq!(updated.body["paymentDetails"]["chargeAmount"], usd("1080.00"));
    assert_eq!(updated.body["webCheckoutDetails"]["checkoutMode"], "ProcessOrder");
    assert_unknown_refused(&app, "PATCH", &path, sent, false).await;
    // softDescriptor goes with AuthorizeWithCapture only: moving to Authorize needs the text
    // gone, which an update cannot do, so this session stays a capture and a new one changes
    // type.
    let created = app.dev("POST", "/v2/checkoutSessions").key(&new_key()).json(&create).send().await;
    let other = created.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    let recurring_body = body(&recurring, &[]);
    let changed = app.dev("PATCH", format!("/v2/checkoutSessions/{other}")).json(&recurring_body).send().await;
    assert_eq!(changed.assert_status(200)["chargePermissionType"], "Recurring");
    assert_eq!(changed.body["recurringMetadata"]["frequency"], json!({"unit": "Month", "value": "3"}));
    for field in UPDATE_SESSION_CREATION_ONLY {
        let mut refused = json!({});
        set_path(&mut refused, field, json!(true));
        app.dev("PATCH", &path).json(&refused).send().await.assert_error(400, "UnrecognizedField");
    }
}

/// Sign in, set what completion needs, confirm: a session ready to complete.
async fn ready_session(app: &TestApp, intent: &str) -> String {
    let store = app.store_id().await;
    let create =
        json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"}, "storeId": store});
    let created = app.dev("POST", "/v2/checkoutSessions").key(&new_key()).json(&create).send().await;
    let id = created.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    app.dev("POST", format!("/v2/testHelpers/checkoutSessions/{id}/signIn"))
        .json(&json!({"paymentMethod": "1111"}))
        .send()
        .await
        .assert_status(200);
    let update = json!({
        "webCheckoutDetails": {"checkoutResultReturnUrl": "https://shop.example/result"},
        "paymentDetails": {"paymentIntent": intent, "chargeAmount": usd("10.00"), "totalOrderAmount": usd("10.00")},
    });
    app.dev("PATCH", format!("/v2/checkoutSessions/{id}")).json(&update).send().await.assert_status(200);
    app.dev("POST", format!("/v2/testHelpers/checkoutSessions/{id}/confirm")).send().await.assert_status(200);
    id
}

/// .NET `CompleteCheckoutSessionRequest`.
const COMPLETE_SESSION_FIELDS: &[&str] =
    &["chargeAmount.amount", "chargeAmount.currencyCode", "totalOrderAmount.amount", "totalOrderAmount.currencyCode"];

/// .NET `FinalizeCheckoutSessionRequest` (and the Node.js SDK test's finalize payload).
const FINALIZE_SESSION_FIELDS: &[&str] = &[
    "paymentIntent",
    "canHandlePendingAuthorization",
    "supplementaryData",
    "shippingAddress.county",
    "shippingAddress.district",
    "shippingAddress.name",
    "shippingAddress.addressLine3",
    "shippingAddress.phoneNumber",
    "shippingAddress.addressLine1",
    "shippingAddress.addressLine2",
    "shippingAddress.city",
    "shippingAddress.stateOrRegion",
    "shippingAddress.postalCode",
    "shippingAddress.countryCode",
    "billingAddress.county",
    "billingAddress.district",
    "billingAddress.name",
    "billingAddress.addressLine3",
    "billingAddress.phoneNumber",
    "billingAddress.addressLine1",
    "billingAddress.addressLine2",
    "billingAddress.city",
    "billingAddress.stateOrRegion",
    "billingAddress.postalCode",
    "billingAddress.countryCode",
    "chargeAmount.amount",
    "chargeAmount.currencyCode",
    "totalOrderAmount.amount",
    "totalOrderAmount.currencyCode",
];

#[tokio::test]
async fn every_sdk_field_of_complete_and_finalize_is_accepted() {
    let app = TestApp::spawn().await;
    let complete = vec![
        ("chargeAmount.amount", json!(10)),
        ("chargeAmount.currencyCode", json!("USD")),
        ("totalOrderAmount.amount", json!("10.00")),
        ("totalOrderAmount.currencyCode", json!("USD")),
    ];
    assert_covered(COMPLETE_SESSION_FIELDS, &[&complete]);
    let id = ready_session(&app, "Authorize").await;
    let path = format!("/v2/checkoutSessions/{id}/complete");
    assert_unknown_refused(&app, "POST", &path, body(&complete, &[]), false).await;
    let completed = app.dev("POST", path).json(&body(&complete, &[])).send().await;
    assert_eq!(completed.assert_status(200)["statusDetails"]["state"], "Completed");
    assert_keys(&completed, SESSION_KEYS);

    let mut finalize = vec![
        ("paymentIntent", json!("Confirm")),
        ("canHandlePendingAuthorization", json!(false)),
        ("supplementaryData", json!("TestSupplementaryData-onInitCheckout")),
        ("chargeAmount.amount", json!("10")),
        ("chargeAmount.currencyCode", json!("USD")),
        ("totalOrderAmount.amount", json!(10)),
        ("totalOrderAmount.currencyCode", json!("USD")),
    ];
    let address = [
        ("county", "Cook"),
        ("district", "Loop"),
        ("name", "Susie Smith"),
        ("addressLine3", "c/o Front Desk"),
        ("phoneNumber", "800-000-0000"),
        ("addressLine1", "10 Ditka Ave"),
        ("addressLine2", "Suite 2500"),
        ("city", "Chicago"),
        ("stateOrRegion", "IL"),
        ("postalCode", "60602"),
        ("countryCode", "US"),
    ];
    let addresses: Vec<(String, &str)> = ["shippingAddress", "billingAddress"]
        .iter()
        .flat_map(|which| address.iter().map(move |(field, value)| (format!("{which}.{field}"), *value)))
        .collect();
    finalize.extend(addresses.iter().map(|(path, value)| (path.as_str(), json!(value))));
    assert_covered(FINALIZE_SESSION_FIELDS, &[&finalize]);
    let id = ready_session(&app, "Confirm").await;
    let path = format!("/v2/checkoutSessions/{id}/finalize");
    let sent = body(&finalize, &[]);
    assert_unknown_refused(&app, "POST", &path, sent.clone(), false).await;
    let finalized = app.dev("POST", path).json(&sent).send().await;
    finalized.assert_status(200);
    let mut finalize_keys = SESSION_KEYS.to_vec();
    finalize_keys.insert(4, "cartDetails");
    assert_keys(&finalized, &finalize_keys);
    assert_eq!(finalized.body["shippingAddress"], sent["shippingAddress"]);
    assert_eq!(finalized.body["billingAddress"], sent["billingAddress"]);
    assert_eq!(finalized.body["supplementaryData"], sent["supplementaryData"]);
    // The permission the checkout made keeps the buyer's addresses (Get Charge Permission).
    let permission_id = finalized.body["chargePermissionId"].as_str().unwrap();
    let permission = app.get(&format!("/v2/chargePermissions/{permission_id}")).await;
    assert_eq!(permission["shippingAddress"], sent["shippingAddress"]);
    assert_eq!(permission["billingAddress"], sent["billingAddress"]);
}

// ---------------------------------------------------------------------------------------
// Charge Permissions

/// .NET `UpdateChargePermissionRequest`.
const UPDATE_PERMISSION_FIELDS: &[&str] = &[
    "merchantMetadata.merchantReferenceId",
    "merchantMetadata.merchantStoreName",
    "merchantMetadata.noteToBuyer",
    "merchantMetadata.customInformation",
    "recurringMetadata.frequency.unit",
    "recurringMetadata.frequency.value",
    "recurringMetadata.amount.amount",
    "recurringMetadata.amount.currencyCode",
];

/// .NET `CloseChargePermissionRequest`.
const CLOSE_PERMISSION_FIELDS: &[&str] = &["closureReason", "cancelPendingCharges"];

/// .NET `ChargePermissionResponse`, and the keys Amazon's Node.js SDK tests compare.
const PERMISSION_RESPONSE_FIELDS: &[&str] = &[
    "chargePermissionId",
    "chargePermissionReferenceId",
    "limits.amountLimit.amount",
    "limits.amountLimit.currencyCode",
    "limits.amountBalance.amount",
    "limits.amountBalance.currencyCode",
    "releaseEnvironment",
    "buyer.buyerId",
    "buyer.name",
    "buyer.email",
    "buyer.phoneNumber",
    "buyer.primeMembershipTypes",
    "shippingAddress.name",
    "shippingAddress.addressLine1",
    "shippingAddress.addressLine2",
    "shippingAddress.addressLine3",
    "shippingAddress.city",
    "shippingAddress.county",
    "shippingAddress.district",
    "shippingAddress.stateOrRegion",
    "shippingAddress.postalCode",
    "shippingAddress.countryCode",
    "shippingAddress.phoneNumber",
    "billingAddress.name",
    "billingAddress.countryCode",
    "paymentPreferences[].paymentDescriptor",
    "merchantMetadata.merchantReferenceId",
    "merchantMetadata.merchantStoreName",
    "merchantMetadata.noteToBuyer",
    "merchantMetadata.customInformation",
    "platformId",
    "creationTimestamp",
    "expirationTimestamp",
    "statusDetails.state",
    "statusDetails.reasons[].reasonCode",
    "statusDetails.reasons[].reasonDescription",
    "statusDetails.lastUpdatedTimestamp",
    "presentmentCurrency",
    "chargePermissionType",
    "recurringMetadata.frequency.unit",
    "recurringMetadata.frequency.value",
    "recurringMetadata.amount.amount",
    "recurringMetadata.amount.currencyCode",
];

/// Amazon's Node.js SDK tests: a permission's keys, in order.
const PERMISSION_KEYS: &[&str] = &[
    "chargePermissionId",
    "chargePermissionReferenceId",
    "platformId",
    "buyer",
    "shippingAddress",
    "billingAddress",
    "paymentPreferences",
    "statusDetails",
    "creationTimestamp",
    "expirationTimestamp",
    "merchantMetadata",
    "releaseEnvironment",
    "limits",
    "chargePermissionType",
    "recurringMetadata",
    "presentmentCurrency",
];

#[tokio::test]
async fn every_sdk_field_of_the_charge_permission_operations_is_accepted_and_answered() {
    let app = TestApp::spawn().await;
    // A one-time permission from a checkout, with the buyer's addresses.
    let id = ready_session(&app, "Confirm").await;
    let completed = app
        .dev("POST", format!("/v2/checkoutSessions/{id}/complete"))
        .json(&json!({"chargeAmount": usd("10.00")}))
        .send()
        .await;
    let one_time = completed.assert_status(200)["chargePermissionId"].as_str().unwrap().to_owned();
    let recurring = app
        .permission(
            &app.dev,
            json!({"chargePermissionType": "Recurring", "recurringMetadata": {"frequency": {"unit": "Month", "value": 1}, "amount": usd("9.99")}}),
        )
        .await;
    let metadata = vec![
        ("merchantMetadata.merchantReferenceId", json!("345")),
        ("merchantMetadata.merchantStoreName", json!("anotherShop")),
        ("merchantMetadata.noteToBuyer", json!("mee")),
        ("merchantMetadata.customInformation", json!("bar")),
    ];
    let mut recurring_rows = metadata.clone();
    recurring_rows.extend([
        ("recurringMetadata.frequency.unit", json!("Month")),
        ("recurringMetadata.frequency.value", json!(3)),
        ("recurringMetadata.amount.amount", json!(23.45)),
        ("recurringMetadata.amount.currencyCode", json!("USD")),
    ]);
    assert_covered(UPDATE_PERMISSION_FIELDS, &[&metadata, &recurring_rows]);
    let mut answers = Vec::new();
    for (permission, rows) in [(&one_time, &metadata), (&recurring, &recurring_rows)] {
        let path = format!("/v2/chargePermissions/{permission}");
        assert_unknown_refused(&app, "PATCH", &path, body(rows, &[]), false).await;
        let updated = app.dev("PATCH", path).json(&body(rows, &[])).send().await;
        updated.assert_status(200);
        assert_keys(&updated, PERMISSION_KEYS);
        answers.push(updated.body);
    }
    let close = vec![("closureReason", json!("No more charges")), ("cancelPendingCharges", json!(false))];
    assert_covered(CLOSE_PERMISSION_FIELDS, &[&close]);
    let path = format!("/v2/chargePermissions/{one_time}/close");
    assert_unknown_refused(&app, "DELETE", &path, body(&close, &[]), false).await;
    let closed = app.dev("DELETE", path).json(&body(&close, &[])).send().await;
    closed.assert_status(200);
    assert_keys(&closed, PERMISSION_KEYS);
    answers.push(closed.body);
    let answers: Vec<&Value> = answers.iter().collect();
    assert_present("ChargePermission", PERMISSION_RESPONSE_FIELDS, &answers);

    // A Saved Wallet also carries paymentMethodOnFileMetadata, after expirationTimestamp, as
    // Amazon's responses in the .NET SDK's tests do.
    let wallet = app.permission(&app.dev, json!({"chargePermissionType": "PaymentMethodOnFile"})).await;
    let got = app.dev("GET", format!("/v2/chargePermissions/{wallet}")).send().await;
    let mut wallet_keys = PERMISSION_KEYS.to_vec();
    wallet_keys.insert(10, "paymentMethodOnFileMetadata");
    assert_keys(&got, &wallet_keys);
}

// ---------------------------------------------------------------------------------------
// Charges and Refunds

/// .NET `CreateChargeRequest`; its `webCheckoutDetails` is the Checkout Session's type.
const CREATE_CHARGE_FIELDS: &[&str] = &[
    "chargePermissionId",
    "chargeAmount.amount",
    "chargeAmount.currencyCode",
    "captureNow",
    "softDescriptor",
    "platformId",
    "canHandlePendingAuthorization",
    "providerMetadata.providerReferenceId",
    "merchantMetadata.merchantReferenceId",
    "merchantMetadata.merchantStoreName",
    "merchantMetadata.noteToBuyer",
    "merchantMetadata.customInformation",
    "chargeInitiator",
    "channel",
    "webCheckoutDetails.checkoutReviewReturnUrl",
    "webCheckoutDetails.checkoutResultReturnUrl",
    "webCheckoutDetails.checkoutCancelUrl",
    "webCheckoutDetails.checkoutMode",
];

/// .NET `CaptureChargeRequest`, `CancelChargeRequest`, `CreateRefundRequest`.
const CAPTURE_CHARGE_FIELDS: &[&str] = &["captureAmount.amount", "captureAmount.currencyCode", "softDescriptor"];
const CANCEL_CHARGE_FIELDS: &[&str] = &["cancellationReason"];
const CREATE_REFUND_FIELDS: &[&str] =
    &["chargeId", "refundAmount.amount", "refundAmount.currencyCode", "softDescriptor"];

/// .NET `ChargeResponse` and the keys Amazon's Node.js SDK tests compare.
const CHARGE_RESPONSE_FIELDS: &[&str] = &[
    "chargeId",
    "chargePermissionId",
    "chargeAmount.amount",
    "chargeAmount.currencyCode",
    "captureAmount.amount",
    "captureAmount.currencyCode",
    "refundedAmount.amount",
    "refundedAmount.currencyCode",
    "softDescriptor",
    "platformId",
    "providerMetadata.providerReferenceId",
    "creationTimestamp",
    "expirationTimestamp",
    "statusDetails.state",
    "statusDetails.reasonCode",
    "statusDetails.reasonDescription",
    "statusDetails.lastUpdatedTimestamp",
    "convertedAmount.amount",
    "convertedAmount.currencyCode",
    "conversionRate",
    "releaseEnvironment",
    "merchantMetadata.merchantReferenceId",
    "merchantMetadata.merchantStoreName",
    "merchantMetadata.noteToBuyer",
    "merchantMetadata.customInformation",
    "webCheckoutDetails.checkoutReviewReturnUrl",
    "webCheckoutDetails.checkoutResultReturnUrl",
    "webCheckoutDetails.checkoutCancelUrl",
    "webCheckoutDetails.amazonPayRedirectUrl",
    "webCheckoutDetails.checkoutMode",
    "channel",
    "chargeInitiator",
];

/// Declared by the .NET `ChargeResponse` but request-only: Amazon's charges do not carry
/// them (Amazon's Node.js SDK tests compare a charge's exact keys).
const CHARGE_RESPONSE_REQUEST_ONLY: &[&str] = &["captureNow", "canHandlePendingAuthorization"];

/// Amazon's Node.js SDK tests: a charge's keys, in order.
const CHARGE_KEYS: &[&str] = &[
    "chargeId",
    "chargeAmount",
    "chargePermissionId",
    "captureAmount",
    "refundedAmount",
    "softDescriptor",
    "providerMetadata",
    "convertedAmount",
    "conversionRate",
    "channel",
    "chargeInitiator",
    "statusDetails",
    "creationTimestamp",
    "expirationTimestamp",
    "releaseEnvironment",
    "merchantMetadata",
    "platformId",
    "webCheckoutDetails",
];

/// .NET `RefundResponse`.
const REFUND_RESPONSE_FIELDS: &[&str] = &[
    "refundId",
    "chargeId",
    "refundAmount.amount",
    "refundAmount.currencyCode",
    "softDescriptor",
    "creationTimestamp",
    "statusDetails.state",
    "statusDetails.reasonCode",
    "statusDetails.reasonDescription",
    "statusDetails.lastUpdatedTimestamp",
    "releaseEnvironment",
];

/// Amazon's Node.js SDK tests: a refund's keys, in order.
const REFUND_KEYS: &[&str] = &[
    "refundId",
    "chargeId",
    "creationTimestamp",
    "refundAmount",
    "statusDetails",
    "softDescriptor",
    "releaseEnvironment",
];

#[tokio::test]
async fn every_sdk_field_of_the_charge_and_refund_operations_is_accepted_and_answered() {
    let app = TestApp::spawn().await;
    let wallet = app.permission(&app.dev, json!({"chargePermissionType": "PaymentMethodOnFile"})).await;
    let create = vec![
        ("chargePermissionId", json!("$WALLET")),
        ("chargeAmount.amount", json!(12.99)),
        ("chargeAmount.currencyCode", json!("USD")),
        ("captureNow", json!(true)),
        ("softDescriptor", json!("foo2")),
        ("platformId", json!("My Platform Id")),
        ("canHandlePendingAuthorization", json!(false)),
        ("providerMetadata.providerReferenceId", json!("foo1")),
        ("merchantMetadata.merchantReferenceId", json!("123abc!")),
        ("merchantMetadata.merchantStoreName", json!("My Store Name")),
        ("merchantMetadata.noteToBuyer", json!("My Note to Buyer")),
        ("merchantMetadata.customInformation", json!("My Custom Info")),
        ("chargeInitiator", json!("CITR")),
        ("channel", json!("Web")),
        ("webCheckoutDetails.checkoutReviewReturnUrl", json!("https://example.com/review.html")),
        ("webCheckoutDetails.checkoutResultReturnUrl", json!("https://example.com/return.html")),
        ("webCheckoutDetails.checkoutCancelUrl", json!("https://example.com/cancel.html")),
        ("webCheckoutDetails.checkoutMode", json!("ProcessOrder")),
    ];
    assert_covered(CREATE_CHARGE_FIELDS, &[&create]);
    let vars = [("$WALLET", wallet.as_str())];
    assert_unknown_refused(&app, "POST", "/v2/charges", body(&create, &vars), true).await;
    let created = app.dev("POST", "/v2/charges").key(&new_key()).json(&body(&create, &vars)).send().await;
    created.assert_status(201);
    assert_keys(&created, CHARGE_KEYS);
    let captured = created.body.clone();
    assert_eq!(captured["channel"], "Web");
    assert_eq!(captured["chargeInitiator"], "CITR");
    assert_eq!(captured["webCheckoutDetails"]["checkoutResultReturnUrl"], "https://example.com/return.html");
    assert_eq!(captured["convertedAmount"], usd("12.99"));

    // Capture and cancel on an authorization of a one-time permission.
    let permission = app.one_time("100").await;
    let authorize = |amount: &str| json!({"chargePermissionId": permission, "chargeAmount": usd(amount)});
    let to_capture = app.dev("POST", "/v2/charges").key(&new_key()).json(&authorize("20.00")).send().await;
    let charge_id = to_capture.assert_status(201)["chargeId"].as_str().unwrap().to_owned();
    let capture = vec![
        ("captureAmount.amount", json!(12.99)),
        ("captureAmount.currencyCode", json!("USD")),
        ("softDescriptor", json!("foo")),
    ];
    assert_covered(CAPTURE_CHARGE_FIELDS, &[&capture]);
    let path = format!("/v2/charges/{charge_id}/capture");
    assert_unknown_refused(&app, "POST", &path, body(&capture, &[]), true).await;
    let captured_later = app.dev("POST", path).key(&new_key()).json(&body(&capture, &[])).send().await;
    captured_later.assert_status(200);
    assert_keys(&captured_later, CHARGE_KEYS);

    let to_cancel = app.dev("POST", "/v2/charges").key(&new_key()).json(&authorize("5.00")).send().await;
    let cancel_id = to_cancel.assert_status(201)["chargeId"].as_str().unwrap().to_owned();
    let cancel = vec![("cancellationReason", json!("foo"))];
    assert_covered(CANCEL_CHARGE_FIELDS, &[&cancel]);
    let path = format!("/v2/charges/{cancel_id}/cancel");
    assert_unknown_refused(&app, "DELETE", &path, body(&cancel, &[]), false).await;
    let canceled = app.dev("DELETE", path).json(&body(&cancel, &[])).send().await;
    canceled.assert_status(200);
    assert_keys(&canceled, CHARGE_KEYS);
    let answers = [&captured, &captured_later.body, &canceled.body];
    assert_present("Charge", CHARGE_RESPONSE_FIELDS, &answers);
    for absent in CHARGE_RESPONSE_REQUEST_ONLY {
        assert!(answers.iter().all(|a| a.get(*absent).is_none()), "{absent}");
    }

    let refund = vec![
        ("chargeId", json!("$CHARGE")),
        ("refundAmount.amount", json!(1.5)),
        ("refundAmount.currencyCode", json!("USD")),
        ("softDescriptor", json!("foo")),
    ];
    assert_covered(CREATE_REFUND_FIELDS, &[&refund]);
    let vars = [("$CHARGE", charge_id.as_str())];
    assert_unknown_refused(&app, "POST", "/v2/refunds", body(&refund, &vars), true).await;
    let refunded = app.dev("POST", "/v2/refunds").key(&new_key()).json(&body(&refund, &vars)).send().await;
    refunded.assert_status(201);
    assert_keys(&refunded, REFUND_KEYS);
    let refund_id = refunded.body["refundId"].as_str().unwrap();
    let got = app.dev("GET", format!("/v2/refunds/{refund_id}")).send().await;
    assert_keys(&got, REFUND_KEYS);
    assert_present("Refund", REFUND_RESPONSE_FIELDS, &[&refunded.body, &got.body]);
}
