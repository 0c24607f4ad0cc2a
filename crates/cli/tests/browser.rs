//! The buyer's page in a real browser: headless Chromium (Debian's `chromium`, which
//! `.ci/run` installs) opens it, picks a card with the keyboard, submits, and the charge
//! permission becomes Chargeable again; a checkout page shows a merchant's hostile text as
//! text and runs none of it; the dashboard shows a checkout made through the API with its
//! timeline, advances the clock, redelivers a notification, all without a reload.
//!
//! `AMZPAY_SCREENSHOT=docs/buyer-page.png cargo test -p amzpay-cli --test browser` refreshes
//! the buyer page's screenshot in `docs/`, `AMZPAY_SCREENSHOT_DIR=docs` the dashboard's.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::*;

fn compat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../compat/node")
}

/// The browser tests' preconditions: playwright-core from npm and Debian's Chromium.
fn chromium() -> String {
    assert!(
        compat_dir().join("node_modules/playwright-core/package.json").exists(),
        "playwright-core is not installed: run `npm ci --prefix compat/node` (scripts/test does it)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        PathBuf::from(&chromium).exists(),
        "no Chromium at {chromium}: `apt-get install chromium` (.ci/run does it)"
    );
    chromium
}

#[tokio::test]
async fn a_buyer_fixes_a_hard_declined_payment_method_in_chromium() {
    let chromium = chromium();

    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let merchant = server.dev_merchant();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let created = call(
        &client,
        &server.http,
        &merchant,
        "POST",
        "/v2/testHelpers/chargePermissions",
        r#"{"chargePermissionType":"Recurring"}"#,
        Some("browser-permission"),
    )
    .await
    .unwrap();
    assert_eq!(created.status, 201);
    let permission_id = created.json()["chargePermissionId"].as_str().unwrap().to_owned();
    let body = format!(
        r#"{{"chargePermissionId":"{permission_id}","chargeAmount":{{"amount":"5.00","currencyCode":"USD"}}}}"#
    );
    let declined = call_with(
        &client,
        &server.http,
        &merchant,
        "POST",
        "/v2/charges",
        &body,
        Some("browser-charge"),
        &[("x-amz-pay-simulation-code", "HardDeclined")],
    )
    .await
    .unwrap();
    assert_eq!(declined.status, 422);

    let mut command = Command::new("node");
    command
        .arg("buyer_page.js")
        .current_dir(compat_dir())
        .env("CHROMIUM", &chromium)
        .env("AMZPAY_BUYER_PAGE_URL", format!("{}/jr/your-account/ba/{permission_id}", server.http));
    if let Ok(path) = std::env::var("AMZPAY_SCREENSHOT") {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
        command.env("AMZPAY_SCREENSHOT", path);
    }
    let output = command.output().expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));

    let permission =
        call(&client, &server.http, &merchant, "GET", &format!("/v2/chargePermissions/{permission_id}"), "", None)
            .await
            .unwrap();
    assert_eq!(permission.json()["statusDetails"]["state"], "Chargeable");
    assert_eq!(permission.json()["paymentPreferences"][0]["paymentDescriptor"], "Visa ****4444");
}

#[tokio::test]
async fn a_merchants_hostile_text_shows_as_text_and_runs_nothing_in_chromium() {
    let chromium = chromium();
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let merchant = server.dev_merchant();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    // A script, both quotes, and an entity that must stay as typed (merchantStoreName's 50 characters fit it).
    let hostile = r#"<script>alert(1)</script>"'&amp;"#;
    let body = serde_json::json!({
        "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
        "storeId": merchant.description["storeId"],
        "merchantMetadata": {"merchantReferenceId": hostile, "merchantStoreName": hostile, "noteToBuyer": hostile},
    });
    let created =
        call(&client, &server.http, &merchant, "POST", "/v2/checkoutSessions", &body.to_string(), Some("hostile"))
            .await
            .unwrap();
    assert_eq!(created.status, 201);
    let id = created.json()["checkoutSessionId"].as_str().unwrap().to_owned();

    let output = Command::new("node")
        .arg("hostile_page.js")
        .current_dir(compat_dir())
        .env("CHROMIUM", &chromium)
        .env("AMZPAY_PAGE_URL", format!("{}/checkout/{id}/signin", server.http))
        .env("AMZPAY_HOSTILE_TEXT", hostile)
        .env("AMZPAY_SELECTORS", "#store-name,#reference,#note-to-buyer")
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
}

/// A receiver that answers every notification 200 and counts what arrives.
fn ipn_receiver(listener: tokio::net::TcpListener) -> Arc<AtomicUsize> {
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let app = axum::Router::new().route(
        "/ipn",
        axum::routing::post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { "ok" }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    received
}

// Several threads: the receiver must answer while this test's thread waits for node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_a_checkout_live_and_its_controls_work_in_chromium() {
    let chromium = chromium();
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let merchant = server.dev_merchant();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/ipn", listener.local_addr().unwrap());
    let received = ipn_receiver(listener);
    let body = serde_json::json!({ "url": endpoint }).to_string();
    let set = call(&client, &server.http, &merchant, "PUT", "/v2/testHelpers/ipnEndpoint", &body, None).await.unwrap();
    assert_eq!(set.status, 200);

    // A checkout through the API, its buyer's card pending authorization (0701), the
    // merchant's reference id a script that would call alert() if it ever ran.
    let hostile = r#"<script>alert(1)</script>"'&amp;"#;
    let api = |method: &'static str, path: String, body: serde_json::Value, key: Option<&'static str>| {
        let (client, server, merchant) = (&client, &server, &merchant);
        async move {
            let reply = call(client, &server.http, merchant, method, &path, &body.to_string(), key).await.unwrap();
            assert!((200..300).contains(&reply.status), "{method} {path}: {}", String::from_utf8_lossy(&reply.body));
            reply.json()
        }
    };
    let created = api(
        "POST",
        "/v2/checkoutSessions".into(),
        serde_json::json!({
            "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
            "storeId": merchant.description["storeId"],
            "merchantMetadata": {"merchantReferenceId": hostile},
        }),
        Some("dashboard-session"),
    )
    .await;
    let session_id = created["checkoutSessionId"].as_str().unwrap().to_owned();
    api(
        "POST",
        format!("/v2/testHelpers/checkoutSessions/{session_id}/signIn"),
        serde_json::json!({"paymentMethod": "0701"}),
        None,
    )
    .await;
    api(
        "PATCH",
        format!("/v2/checkoutSessions/{session_id}"),
        serde_json::json!({
            "webCheckoutDetails": {"checkoutResultReturnUrl": "https://shop.example/result"},
            "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": {"amount": "20.00", "currencyCode": "USD"}, "canHandlePendingAuthorization": true},
        }),
        None,
    )
    .await;
    api("POST", format!("/v2/testHelpers/checkoutSessions/{session_id}/confirm"), serde_json::json!({}), None).await;
    let completed = api(
        "POST",
        format!("/v2/checkoutSessions/{session_id}/complete"),
        serde_json::json!({"chargeAmount": {"amount": "20.00", "currencyCode": "USD"}}),
        Some("dashboard-complete"),
    )
    .await;
    let charge_id = completed["chargeId"].as_str().unwrap().to_owned();

    let merchant_id = merchant.description["merchantId"].as_str().unwrap();
    let mut command = Command::new("node");
    command
        .arg("dashboard.js")
        .current_dir(compat_dir())
        .env("CHROMIUM", &chromium)
        .env("AMZPAY_DASHBOARD_URL", format!("{}/dashboard/merchants/{merchant_id}", server.http))
        .env("AMZPAY_SESSION_ID", &session_id)
        .env("AMZPAY_CHARGE_ID", &charge_id)
        .env("AMZPAY_HOSTILE_TEXT", hostile);
    if let Ok(dir) = std::env::var("AMZPAY_SCREENSHOT_DIR") {
        command.env("AMZPAY_SCREENSHOT_DIR", PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(dir));
    }
    let output = command.output().expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("6 passed, 0 failed"), "{stdout}");

    // What the page showed is what the API says, and the receiver got the redelivery.
    let charge =
        call(&client, &server.http, &merchant, "GET", &format!("/v2/charges/{charge_id}"), "", None).await.unwrap();
    assert_eq!(charge.json()["statusDetails"]["state"], "Authorized");
    let clock = call(&client, &server.http, &merchant, "GET", "/v2/testHelpers/clock", "", None).await.unwrap();
    assert!(clock.status == 200, "{}", String::from_utf8_lossy(&clock.body));
    let log = call(&client, &server.http, &merchant, "GET", "/v2/testHelpers/notifications", "", None).await.unwrap();
    let attempts: usize =
        log.json()["notifications"].as_array().unwrap().iter().map(|n| n["attempts"].as_array().unwrap().len()).sum();
    let notifications = log.json()["notifications"].as_array().unwrap().len();
    assert!(
        attempts > notifications,
        "a redelivery adds an attempt: {attempts} attempts of {notifications} notifications"
    );
    assert_eq!(received.load(Ordering::SeqCst), attempts, "every attempt reached the receiver");
}

/// The sample store (`examples/store`), started on a free port against a running amzpay.
struct Store {
    child: std::process::Child,
    url: String,
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_store(server: &Server) -> Store {
    start_store_loading_checkout_js_from(server, &server.http)
}

/// The sample store, its page loading `checkout.js` from `checkout_base`.
fn start_store_loading_checkout_js_from(server: &Server, checkout_base: &str) -> Store {
    use std::io::{BufRead, BufReader};
    let store_script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/store/server.js");
    let mut child = Command::new("node")
        .arg(store_script)
        .env("PORT", "0")
        .env("AMZPAY_URL", checkout_base)
        .env("AMZPAY_API_HOST", format!("localhost:{}", server.https_port))
        .env("AMZPAY_MERCHANT_FILE", server.data_dir.join("dev-merchant.json"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("starting the sample store");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().expect("the store printed nothing").unwrap();
    let url = line.strip_prefix("store listening on ").expect("the store's first line").to_owned();
    std::thread::spawn(move || for _ in lines {});
    Store { child, url }
}

#[tokio::test]
async fn a_buyer_checks_out_on_the_sample_store_in_chromium() {
    let chromium = chromium();
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let merchant = server.dev_merchant();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let frozen =
        call(&client, &server.http, &merchant, "POST", "/v2/testHelpers/clock/freeze", "", None).await.unwrap();
    assert_eq!(frozen.status, 200);
    let store = start_store(&server);

    let mut command = Command::new("node");
    command
        .arg("checkout_browser.js")
        .current_dir(compat_dir())
        .env("CHROMIUM", &chromium)
        .env("AMZPAY_STORE_URL", &store.url);
    if let Ok(folder) = std::env::var("AMZPAY_SCREENSHOTS") {
        command.env("AMZPAY_SCREENSHOTS", PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(folder));
    }
    let output = command.output().expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let results: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("RESULT "))
        .map(|json| serde_json::from_str(json).unwrap())
        .collect();
    assert_eq!(results.len(), 6);

    // The paid orders are real charges on permissions of the right type.
    for (name, kind) in [("one-time", "OneTime"), ("recurring", "Recurring"), ("saved-wallet", "PaymentMethodOnFile")] {
        let result = results.iter().find(|r| r["name"] == name).unwrap();
        let permission_id = result["permission-id"].as_str().unwrap();
        let permission =
            call(&client, &server.http, &merchant, "GET", &format!("/v2/chargePermissions/{permission_id}"), "", None)
                .await
                .unwrap();
        assert_eq!(permission.json()["chargePermissionType"], kind);
        assert_eq!(result["charge-state"], "Authorized");
    }
    // The 0701 card ends pending and resolves when the clock moves 30 seconds.
    let pending = results.iter().find(|r| r["name"] == "pending").unwrap();
    assert_eq!(pending["charge-state"], "AuthorizationInitiated");
    let charge_id = pending["charge-id"].as_str().unwrap();
    let advanced =
        call(&client, &server.http, &merchant, "POST", "/v2/testHelpers/clock/advance", r#"{"seconds":30}"#, None)
            .await
            .unwrap();
    assert_eq!(advanced.status, 200);
    let charge =
        call(&client, &server.http, &merchant, "GET", &format!("/v2/charges/{charge_id}"), "", None).await.unwrap();
    assert_eq!(charge.json()["statusDetails"]["state"], "Authorized");
}

#[tokio::test]
async fn a_buyer_checks_out_through_the_proxy_with_checkout_js_from_amazons_host() {
    let chromium = chromium();
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    // The store's page is production code: it loads Amazon's own checkout.js URL.
    let store = start_store_loading_checkout_js_from(&server, "https://static-na.payments-amazon.com");
    let output = Command::new("node")
        .arg("checkout_browser.js")
        .current_dir(compat_dir())
        .env("CHROMIUM", &chromium)
        .env("AMZPAY_STORE_URL", &store.url)
        .env("AMZPAY_PROXY", &server.http)
        .env("AMZPAY_CA_FILE", server.data_dir.join("ca.pem"))
        .env("AMZPAY_PAGES_HOST", "static-na.payments-amazon.com")
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
    let result: serde_json::Value =
        serde_json::from_str(stdout.lines().find_map(|l| l.strip_prefix("RESULT ")).unwrap()).unwrap();
    assert_eq!((result["outcome"].as_str(), result["charge-state"].as_str()), (Some("paid"), Some("Authorized")));
}
