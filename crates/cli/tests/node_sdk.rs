//! The official Amazon Pay Node.js SDK, installed from npm (`compat/node`), runs against
//! the real `amzpay` binary over HTTPS with `overrideServiceUrl`: both algorithms, a
//! `SANDBOX-` key and a legacy key with `sandbox: true`.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::*;

fn compat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../compat/node")
}

#[test]
fn the_official_node_sdk_runs_the_charge_lifecycle_against_amzpay() {
    let sdk = compat_dir().join("node_modules/@amazonpay/amazon-pay-api-sdk-nodejs/package.json");
    assert!(sdk.exists(), "the Node.js SDK is not installed: run `npm ci --prefix compat/node` (scripts/test does it)");
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let legacy = amzpay()
        .args(["merchant", "create", "--region", "na", "--key", "legacy", "--json", "--data-dir"])
        .arg(data_dir.path())
        .args(database_args(data_dir.path()))
        .output()
        .unwrap();
    assert!(legacy.status.success(), "{}", String::from_utf8_lossy(&legacy.stderr));
    let legacy_file = data_dir.path().join("legacy-merchant.json");
    std::fs::write(&legacy_file, &legacy.stdout).unwrap();

    let output = Command::new("node")
        .arg("compat.js")
        .current_dir(compat_dir())
        .env("AMZPAY_HOST", format!("localhost:{}", server.https_port))
        .env("AMZPAY_PREFIXED", data_dir.path().join("dev-merchant.json"))
        .env("AMZPAY_LEGACY", &legacy_file)
        .output()
        .expect("running node (install Node.js 18 or later)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("4 passed, 0 failed"), "{stdout}");
}

#[test]
fn the_official_node_sdk_runs_a_checkout_for_each_payment_intent() {
    let sdk = compat_dir().join("node_modules/@amazonpay/amazon-pay-api-sdk-nodejs/package.json");
    assert!(sdk.exists(), "the Node.js SDK is not installed: run `npm ci --prefix compat/node` (scripts/test does it)");
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let output = Command::new("node")
        .arg("checkout.js")
        .current_dir(compat_dir())
        .env("AMZPAY_HOST", format!("localhost:{}", server.https_port))
        .env("AMZPAY_PREFIXED", data_dir.path().join("dev-merchant.json"))
        .output()
        .expect("running node (install Node.js 18 or later)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("6 passed, 0 failed"), "{stdout}");
}
