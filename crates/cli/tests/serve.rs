//! `amzpay serve` on its own: zero-configuration start, the development merchant and the
//! certificate kept across restarts, graceful shutdown on SIGTERM.

mod support;

use std::time::{Duration, Instant};

use support::*;

/// How long a SIGTERM'd server may take to stop (config: 10 s grace for requests in flight;
/// an idle server stops at once).
const STOP_WITHIN: Duration = Duration::from_secs(5);

#[test]
fn serve_creates_the_development_merchant_once_and_stops_gracefully_on_sigterm() {
    let data_dir = tempfile::tempdir().unwrap();
    let first = Server::start(data_dir.path());
    let merchant = first.dev_merchant();
    assert!(merchant.public_key_id.starts_with("SANDBOX-"));
    assert_eq!(merchant.description["region"], "na");
    assert!(merchant.description["storeId"].as_str().unwrap().starts_with("amzn1.application-oa2-client."));
    let key_file = merchant.description["privateKeyFile"].as_str().unwrap().to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the private key is readable by its owner only");
    }
    let certificate = std::fs::read(data_dir.path().join("tls-cert.pem")).unwrap();

    let status = std::process::Command::new("kill").args(["-TERM", &first.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let mut first = first;
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = first.child.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < STOP_WITHIN, "serve did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "a graceful stop exits 0: {exit:?}");

    let second = Server::start(data_dir.path());
    assert_eq!(second.dev_merchant().public_key_id, merchant.public_key_id, "the development merchant is created once");
    assert_eq!(
        std::fs::read(data_dir.path().join("tls-cert.pem")).unwrap(),
        certificate,
        "the certificate is generated once"
    );
}

#[test]
fn merchant_create_prints_the_description_and_refuses_a_bad_public_key() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = amzpay()
        .args(["merchant", "create", "--region", "jp", "--key", "live", "--json", "--data-dir"])
        .arg(data_dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let description: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(description["publicKeyId"].as_str().unwrap().starts_with("LIVE-"));
    assert_eq!(description["region"], "jp");
    assert!(description["merchantId"].as_str().unwrap().starts_with('A'));

    let bad_key = data_dir.path().join("bad.pem");
    std::fs::write(&bad_key, "not a key").unwrap();
    let output = amzpay()
        .args(["merchant", "create", "--region", "na", "--json", "--public-key-file"])
        .arg(&bad_key)
        .arg("--data-dir")
        .arg(data_dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("PUBLIC KEY"));

    let public_key = data_dir.path().join("mine.pub.pem");
    std::fs::copy(format!("{}/../../../shared/spec/vectors/test-key.pub.pem", env!("CARGO_MANIFEST_DIR")), &public_key)
        .unwrap();
    let output = amzpay()
        .args(["merchant", "create", "--region", "eu", "--key", "legacy", "--json", "--public-key-file"])
        .arg(&public_key)
        .arg("--data-dir")
        .arg(data_dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let description: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        description["privateKeyFile"],
        serde_json::Value::Null,
        "no private key when the merchant brings its own"
    );
}

#[tokio::test]
async fn one_merchant_with_sandbox_and_live_keys_sees_two_isolated_worlds() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let sandbox = server.dev_merchant();
    let merchant_id = sandbox.description["merchantId"].as_str().unwrap().to_owned();
    let output = amzpay()
        .args(["merchant", "add-key", "--key", "live", "--json", "--merchant-id", &merchant_id, "--data-dir"])
        .arg(data_dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let live = Merchant::from_json(serde_json::from_slice(&output.stdout).unwrap());
    assert!(live.public_key_id.starts_with("LIVE-"));
    assert_eq!(live.description["merchantId"], merchant_id.as_str());
    assert_eq!(live.description["storeId"], sandbox.description["storeId"]);

    let client = reqwest::Client::new();
    let created = call(
        &client,
        &server.http,
        &sandbox,
        "POST",
        "/v2/testHelpers/chargePermissions",
        r#"{"amountLimit":{"amount":"5","currencyCode":"USD"}}"#,
        Some("k1"),
    )
    .await
    .unwrap();
    assert_eq!(created.status, 201);
    let id = created.json()["chargePermissionId"].as_str().unwrap().to_owned();
    let path = format!("/v2/chargePermissions/{id}");
    assert_eq!(call(&client, &server.http, &sandbox, "GET", &path, "", None).await.unwrap().status, 200);
    let from_live = call(&client, &server.http, &live, "GET", &path, "", None).await.unwrap();
    assert_eq!(
        (from_live.status, from_live.json()["reasonCode"].as_str().map(str::to_owned)),
        (404, Some("ResourceNotFound".to_owned()))
    );
    let live_clock = call(&client, &server.http, &live, "GET", "/v2/testHelpers/clock", "", None).await.unwrap();
    assert_eq!(live_clock.status, 404, "test helpers do not exist in live");
    let unknown = amzpay()
        .args(["merchant", "add-key", "--key", "live", "--merchant-id", "ANOSUCHMERCHANT", "--data-dir"])
        .arg(data_dir.path())
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no merchant"));
}
