//! The buyer's page in a real browser: headless Chromium (Debian's `chromium`, which
//! `.ci/run` installs) opens it, picks a card with the keyboard, submits, and the charge
//! permission becomes Chargeable again.
//!
//! `AMZPAY_SCREENSHOT=docs/buyer-page.png cargo test -p amzpay-cli --test browser` refreshes
//! the screenshot in `docs/`.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use support::*;

fn compat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../compat/node")
}

#[tokio::test]
async fn a_buyer_fixes_a_hard_declined_payment_method_in_chromium() {
    assert!(
        compat_dir().join("node_modules/playwright-core/package.json").exists(),
        "playwright-core is not installed: run `npm ci --prefix compat/node` (scripts/test does it)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        PathBuf::from(&chromium).exists(),
        "no Chromium at {chromium}: `apt-get install chromium` (.ci/run does it)"
    );

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
