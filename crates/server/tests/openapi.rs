//! `GET /openapi.json` (product.md, "Operating the server"): served unsigned, the document the
//! code builds, and its response schemas hold what a real flow answers: every key the
//! server sends is a property, every property is sent (Amazon's nulls), in the same order.
//! (`scripts/schemathesis` checks every operation's answers in full against it in CI.)

mod support;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Value, json};
use support::{TestApp, new_key};

/// An object's keys in the order they were sent (`serde_json::Value` sorts them).
struct KeysInOrder(Vec<String>);

impl<'de> Deserialize<'de> for KeysInOrder {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = KeysInOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeysInOrder, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(KeysInOrder(keys))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

/// The document, with each schema's property names in the order the document lists them.
struct Document {
    json: Value,
    text: String,
}

impl Document {
    async fn fetch(app: &TestApp, base: &str) -> Document {
        let response = app.client.get(format!("{base}/openapi.json")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        let text = response.text().await.unwrap();
        Document { json: serde_json::from_str(&text).unwrap(), text }
    }

    /// The success schema's name of an operation (`ChargeOut`).
    fn response_schema(&self, path: &str, method: &str, status: u16) -> String {
        let reference = &self.json["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]
            ["schema"]["$ref"];
        reference.as_str().unwrap_or_else(|| panic!("{method} {path} {status}")).rsplit('/').next().unwrap().to_owned()
    }

    /// The property names of a schema, in the document's order.
    fn properties(&self, schema: &str) -> Vec<String> {
        let at = self.text.find(&format!(r#""{schema}":{{"#)).unwrap();
        let from = at + self.text[at..].find(r#""properties":"#).unwrap() + r#""properties":"#.len();
        let mut deserializer = serde_json::Deserializer::from_str(&self.text[from..]);
        KeysInOrder::deserialize(&mut deserializer).unwrap().0
    }

    fn required(&self, schema: &str) -> Vec<String> {
        let required = self.json["components"]["schemas"][schema]["required"].as_array().cloned().unwrap_or_default();
        required.iter().map(|name| name.as_str().unwrap().to_owned()).collect()
    }

    /// Asserts that `raw`, an answer of `method path` with `status`, has only its schema's
    /// properties, in the schema's order, and every required one.
    #[track_caller]
    fn assert_describes(&self, path: &str, method: &str, status: u16, raw: &[u8]) {
        let schema = self.response_schema(path, method, status);
        let sent = KeysInOrder::deserialize(&mut serde_json::Deserializer::from_slice(raw)).unwrap().0;
        let properties = self.properties(&schema);
        let in_order: Vec<&String> = properties.iter().filter(|name| sent.contains(name)).collect();
        assert_eq!(sent.iter().collect::<Vec<_>>(), in_order, "{method} {path}: {schema}'s properties");
        let required = self.required(&schema);
        let missing: Vec<&String> = required.iter().filter(|name| !sent.contains(name)).collect();
        assert!(missing.is_empty(), "{method} {path}: {schema} requires {missing:?}");
    }
}

#[tokio::test]
async fn the_document_is_served_unsigned_over_http_and_https_as_the_code_builds_it() {
    let app = TestApp::spawn().await;
    let built = serde_json::to_value(amzpay_server::openapi::document()).unwrap();
    for base in [&app.http, &app.https] {
        let document = Document::fetch(&app, base).await;
        assert_eq!(document.json, built);
        assert_eq!(document.json["openapi"], "3.1.0");
        let operations: usize = document.json["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().keys().filter(|key| *key != "servers").count())
            .sum();
        assert_eq!(operations, amzpay_server::routes::OPERATIONS.len() + amzpay_server::openapi::UNSIGNED_ROUTES.len());
    }
}

#[tokio::test]
async fn the_response_schemas_hold_exactly_the_keys_a_real_flow_answers_with() {
    let app = TestApp::spawn().await;
    let document = Document::fetch(&app, &app.http).await;
    let created = app
        .dev("POST", "/v2/testHelpers/chargePermissions")
        .json(&json!({"amountLimit": {"amount": "100", "currencyCode": "USD"}}))
        .key(&new_key())
        .send()
        .await;
    document.assert_describes("/v2/testHelpers/chargePermissions", "post", 201, &created.raw);
    let permission = created.body["chargePermissionId"].as_str().unwrap().to_owned();
    let charge = app
        .dev("POST", "/v2/charges")
        .json(&json!({"chargePermissionId": permission, "chargeAmount": {"amount": "10.00", "currencyCode": "USD"}, "captureNow": true}))
        .key(&new_key())
        .send()
        .await;
    document.assert_describes("/v2/charges", "post", 201, &charge.raw);
    let charge_id = charge.body["chargeId"].as_str().unwrap().to_owned();
    let refund = app
        .dev("POST", "/v2/refunds")
        .json(&json!({"chargeId": charge_id, "refundAmount": {"amount": "1.00", "currencyCode": "USD"}}))
        .key(&new_key())
        .send()
        .await;
    document.assert_describes("/v2/refunds", "post", 201, &refund.raw);
    let session = app
        .dev("POST", "/v2/checkoutSessions")
        .json(&json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"}, "storeId": app.store_id().await}))
        .key(&new_key())
        .send()
        .await;
    document.assert_describes("/v2/checkoutSessions", "post", 201, &session.raw);
    let refused = app.dev("GET", "/v2/charges/S01-0000000-0000000-C000001").send().await;
    refused.assert_error(404, "ResourceNotFound");
    document.assert_describes("/v2/charges/{id}", "get", 404, &refused.raw);
    for (method, path) in
        [("get", "/v2/testHelpers/clock"), ("get", "/v2/testHelpers/faults"), ("get", "/v2/testHelpers/ipnEndpoint")]
    {
        let answer = app.dev(&method.to_ascii_uppercase(), path).send().await;
        document.assert_describes(path, method, 200, &answer.raw);
    }
}

/// Each unsigned route of the document is served (not the API's fallback 404), and answers
/// a request without a form or with an unknown id with a status the document lists for it.
#[tokio::test]
async fn every_unsigned_route_in_the_document_is_served_with_a_status_it_lists() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for route in amzpay_server::openapi::UNSIGNED_ROUTES {
        let path = route.path.replace("{id}", "S01-0000000-0000000");
        let method = reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        let mut request = client.request(method, format!("{}{path}", app.http));
        if !route.form.is_empty() {
            request = request.header("content-type", "application/x-www-form-urlencoded").body("");
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let listed = route.success.iter().chain(route.errors).any(|s| *s == status);
        let body = response.text().await.unwrap();
        let excerpt: String = body.chars().take(200).collect();
        assert!(listed, "{} {}: {status} is not in the document: {excerpt}", route.method, route.path);
        // The API's fallback answers Amazon's envelope: the route would not be served.
        let envelope = serde_json::from_str::<Value>(&body).is_ok_and(|json| json.get("reasonCode").is_some());
        assert!(!envelope, "{} {}: the API answered: {excerpt}", route.method, route.path);
    }
}
