//! The CLI runs a whole authorize → capture → refund flow against `amzpay serve`, using
//! only the development merchant's files (as the README shows).

mod support;

use std::path::Path;

use serde_json::Value;
use support::*;

/// Runs `amzpay ARGS` in `dir` and returns its exit success and printed JSON.
fn run(dir: &Path, endpoint: &str, args: &[&str]) -> (bool, Value) {
    let output = amzpay().current_dir(dir).env("AMZPAY_ENDPOINT", endpoint).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout} {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.success(), json)
}

#[test]
fn authorize_capture_refund_with_the_development_merchant() {
    let workspace = tempfile::tempdir().unwrap();
    let data_dir = workspace.path().join("amzpay-data");
    let server = Server::start(&data_dir);
    let dir = workspace.path();
    let http = server.http.clone();

    let (ok, permission) = run(dir, &http, &["test-helper", "create-charge-permission", "--amount-limit", "100.00"]);
    assert!(ok);
    let permission_id = permission["chargePermissionId"].as_str().unwrap().to_owned();

    let (ok, charge) =
        run(dir, &http, &["charge", "create", "--charge-permission-id", &permission_id, "--amount", "14.00"]);
    assert!(ok);
    assert_eq!(charge["statusDetails"]["state"], "Authorized");
    let charge_id = charge["chargeId"].as_str().unwrap().to_owned();

    let (ok, captured) =
        run(dir, &http, &["charge", "capture", &charge_id, "--amount", "14.00", "--soft-descriptor", "CLI shop"]);
    assert!(ok);
    assert_eq!(captured["statusDetails"]["state"], "Captured");

    let (ok, refund) = run(
        dir,
        &http,
        &["refund", "create", "--charge-id", &charge_id, "--amount", "4.00", "--idempotency-key", "cli-refund-1"],
    );
    assert!(ok);
    assert_eq!(refund["statusDetails"]["state"], "RefundInitiated");
    let refund_id = refund["refundId"].as_str().unwrap().to_owned();
    let (ok, again) = run(
        dir,
        &http,
        &["refund", "create", "--charge-id", &charge_id, "--amount", "4.00", "--idempotency-key", "cli-refund-1"],
    );
    assert!(ok);
    assert_eq!(again["refundId"], refund_id.as_str(), "the same key replays");

    let (ok, got) = run(dir, &http, &["refund", "get", &refund_id]);
    assert!(ok);
    assert_eq!(got["refundAmount"]["amount"], "4.00");

    let (ok, state) = run(dir, &http, &["charge-permission", "get", &permission_id]);
    assert!(ok);
    assert_eq!(state["limits"]["amountBalance"]["amount"], "86.00");

    // The clock: freeze, advance 30 s, and the refund has settled.
    let (ok, frozen) = run(dir, &http, &["clock", "freeze"]);
    assert!(ok && frozen["frozen"] == true, "{frozen}");
    let (ok, _) = run(dir, &http, &["clock", "advance", "--seconds", "30"]);
    assert!(ok);
    let (_, settled) = run(dir, &http, &["refund", "get", &refund_id]);
    assert_eq!(settled["statusDetails"]["state"], "Refunded");

    // An error prints Amazon's answer and fails.
    let (ok, error) = run(dir, &http, &["charge", "capture", &charge_id, "--amount", "1.00"]);
    assert!(!ok);
    assert_eq!(error["status"], 422);
    assert_eq!(error["reasonCode"], "InvalidChargeStatus");

    // What Amazon itself does, on demand.
    let (ok, flagged) =
        run(dir, &http, &["test-helper", "amazon-action", &charge_id, "--action", "flag-atypical-activity"]);
    assert!(ok, "{flagged}");
    assert_eq!(flagged["statusDetails"]["reasonCode"], "StopShipmentAtypicalAuth");

    // The same over HTTPS, trusting the server's certificate, with the V1 algorithm.
    let https = format!("localhost:{}", server.https_port);
    let cert = data_dir.join("tls-cert.pem");
    let (ok, close) = run(
        dir,
        &https,
        &[
            "charge-permission",
            "--ca-cert",
            cert.to_str().unwrap(),
            "--algorithm",
            "v1",
            "close",
            &permission_id,
            "--reason",
            "done",
        ],
    );
    assert!(ok, "{close}");
    assert_eq!(close["statusDetails"]["state"], "Closed");
}

#[test]
fn the_help_teaches_each_command() {
    let output = amzpay().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for command in [
        "serve",
        "merchant",
        "charge-permission",
        "charge",
        "refund",
        "checkout-session",
        "test-helper",
        "clock",
        "ipn",
    ] {
        assert!(help.contains(command), "{command} in {help}");
    }
    let output = amzpay().args(["charge", "create", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("--capture-now") && help.contains("--simulation-code") && help.contains("--endpoint"),
        "{help}"
    );
    // Without any key, the CLI says how to give one.
    let empty = tempfile::tempdir().unwrap();
    let output =
        amzpay().current_dir(empty.path()).args(["charge", "get", "S01-0000000-0000000-C000001"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--merchant-file"));
}
