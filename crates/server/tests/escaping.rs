//! The hosted pages print what merchants and callers send as text, never as markup: every
//! string that reaches a page (merchant metadata, ids in error pages, a button's fields)
//! carries a script tag and both quotes here, and each page is fetched over HTTP.

mod support;

use amzpay_signing::{Algorithm, generate_button_signature};
use serde_json::json;
use support::*;

/// A script tag, both quotes and an ampersand: what must never reach a page as markup.
const HOSTILE: &str = r#"<script>alert(1)</script>"'&"#;
/// `HOSTILE` as the templates escape it for HTML.
const ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;";
/// `HOSTILE` in a URL path segment.
const HOSTILE_IN_PATH: &str = "%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%27%26";

/// Fetches a page and checks that `HOSTILE` is in it `times` times, escaped, and never raw.
async fn assert_escaped(response: reqwest::Response, status: u16, times: usize) -> String {
    assert_eq!(response.status().as_u16(), status);
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script"), "a script tag reached the page: {html}");
    assert!(!html.contains(r#""'&"#), "raw quotes reached the page: {html}");
    assert_eq!(html.matches(ESCAPED).count(), times, "{html}");
    html
}

#[tokio::test]
async fn the_buyer_page_prints_an_unknown_id_as_text() {
    let app = TestApp::spawn().await;
    let page = app.client.get(format!("{}/jr/your-account/ba/{HOSTILE_IN_PATH}", app.http)).send().await.unwrap();
    assert_escaped(page, 404, 1).await;
}

#[tokio::test]
async fn the_checkout_pages_print_merchant_metadata_as_text() {
    let app = TestApp::spawn().await;
    let metadata = json!({"merchantReferenceId": HOSTILE, "merchantStoreName": HOSTILE, "noteToBuyer": HOSTILE});
    let body = json!({
        "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
        "storeId": app.store_id().await,
        "merchantMetadata": metadata,
    });
    let created = app.dev("POST", "/v2/checkoutSessions").key(&new_key()).json(&body).send().await;
    let id = created.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();

    let sign_in = app.client.get(format!("{}/checkout/{id}/signin", app.http)).send().await.unwrap();
    let html = assert_escaped(sign_in, 200, 3).await;
    assert!(html.contains(&format!(r#"<dd id="store-name">{ESCAPED}</dd>"#)), "{html}");
    assert!(html.contains(&format!(r#"<dd id="note-to-buyer">{ESCAPED}</dd>"#)), "{html}");

    app.dev("POST", format!("/v2/testHelpers/checkoutSessions/{id}/signIn"))
        .json(&json!({"paymentMethod": "4444"}))
        .send()
        .await
        .assert_status(200);
    let confirm = app.client.get(format!("{}/checkout/{id}/confirm", app.http)).send().await.unwrap();
    let html = assert_escaped(confirm, 200, 3).await;
    assert!(html.contains(&format!(r#"<dd id="reference">{ESCAPED}</dd>"#)), "{html}");
    assert!(html.contains(r#"<dd id="payment-method">Visa ****4444</dd>"#), "{html}");
}

#[tokio::test]
async fn the_checkout_button_prints_what_it_was_sent_as_text() {
    let app = TestApp::spawn().await;
    let button = format!("{}/checkout/button", app.http);
    let post = |fields: Vec<(&'static str, String)>| app.client.post(&button).form(&fields).send();

    let unknown_key =
        post(vec![("payloadJSON", "{}".into()), ("signature", "x".into()), ("publicKeyId", HOSTILE.into())]);
    assert_escaped(unknown_key.await.unwrap(), 403, 1).await;

    let unknown_algorithm = post(vec![
        ("payloadJSON", "{}".into()),
        ("signature", "x".into()),
        ("publicKeyId", app.dev.public_key_id.clone()),
        ("algorithm", HOSTILE.into()),
    ]);
    assert_escaped(unknown_algorithm.await.unwrap(), 400, 1).await;

    // A signed payload for another store: the page names the storeId it was given.
    let payload = json!({
        "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
        "storeId": HOSTILE,
    })
    .to_string();
    let signature = generate_button_signature(&app.dev.private_key, Algorithm::V1, &payload);
    let wrong_store =
        post(vec![("payloadJSON", payload), ("signature", signature), ("publicKeyId", app.dev.public_key_id.clone())]);
    assert_escaped(wrong_store.await.unwrap(), 400, 1).await;
}
