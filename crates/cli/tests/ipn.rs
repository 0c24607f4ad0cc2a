//! `amzpay ipn` and the sample store's `/ipn`, against a mock that plays amzpay: it serves a
//! signing certificate this test makes and answers the API calls. Notifications are signed
//! here exactly as the wire contract says (SNS SignatureVersion 1: SHA1withRSA over the
//! string to sign), independently of the SDK's verifier, which the receivers use.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use base64::Engine as _;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use serde_json::{Value, json};
use support::amzpay;
use tokio::sync::mpsc;

/// How long any one step may take before the test fails instead of hanging.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

fn test_key_file() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec/vectors/test-key.pem"))
}

/// An SNS signing key and its self-signed certificate.
struct SnsKey {
    key: PKey<Private>,
    certificate_pem: String,
}

fn sns_key() -> SnsKey {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let pkcs8 = String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let key_pair = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).unwrap();
    let certificate =
        rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap().self_signed(&key_pair).unwrap();
    SnsKey { key, certificate_pem: certificate.pem() }
}

/// The `Message` of a notification about `object_type` `object_id`.
fn message(object_type: &str, object_id: &str) -> String {
    json!({
        "MerchantID": "A2XYZ",
        "ObjectType": object_type,
        "ObjectId": object_id,
        "ChargePermissionId": "S01-1111111-1111111",
        "NotificationType": "STATE_CHANGE",
        "NotificationId": "4b6a0c1e-8f2d-4a53-9e3b-6d7c8a9b0c1d",
        "NotificationVersion": "V2",
    })
    .to_string()
}

/// An envelope as amzpay posts it, signed with `key`; its certificate at `certificate_url`.
fn envelope(key: &SnsKey, message: &str, certificate_url: &str) -> Value {
    let message_id = "0e3f9a4c-2b1d-4e5f-8a7b-9c0d1e2f3a4b";
    let timestamp = "2026-11-25T17:00:00.000Z";
    let topic = "arn:aws:sns:us-east-1:000000000000:amzpay-A2XYZ";
    let to_sign = format!(
        "Message\n{message}\nMessageId\n{message_id}\nTimestamp\n{timestamp}\nTopicArn\n{topic}\nType\nNotification\n"
    );
    // PKCS#1 v1.5 (an RSA key's default padding) with SHA-1.
    let signature =
        Signer::new(MessageDigest::sha1(), &key.key).unwrap().sign_oneshot_to_vec(to_sign.as_bytes()).unwrap();
    json!({
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic,
        "Message": message,
        "Timestamp": timestamp,
        "SignatureVersion": "1",
        "Signature": base64::engine::general_purpose::STANDARD.encode(signature),
        "SigningCertURL": certificate_url,
        // Not signed, and not used by a receiver.
        "UnsubscribeURL": format!("http://127.0.0.1:8080/sns/unsubscribe?SubscriptionArn={topic}:1"),
    })
}

/// One request as the mock received it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    query: String,
    body: String,
    authorization: String,
}

#[derive(Clone)]
struct MockState {
    certificate_pem: String,
    received: Arc<Mutex<Vec<Received>>>,
}

/// The mock amzpay: a certificate at `/sns/amzpay-sns.pem`, `/elsewhere/cert.pem` and
/// `/untrusted/cert.pem`; charges found, refunds not; the IPN test helpers, which know one
/// notification.
struct Mock {
    base: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Mock {
    fn paths(&self) -> Vec<String> {
        self.received.lock().unwrap().iter().map(|r| r.path.clone()).collect()
    }
}

async fn answer(State(state): State<MockState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = String::from_utf8(to_bytes(body, 64 * 1024).await.unwrap().to_vec()).unwrap();
    let path = parts.uri.path().to_owned();
    let authorization =
        parts.headers.get("authorization").map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default();
    let received = Received {
        method: parts.method.to_string(),
        path: path.clone(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        body: body.clone(),
        authorization,
    };
    state.received.lock().unwrap().push(received);
    let json = |status: u16, body: String| {
        Response::builder().status(status).header("content-type", "application/json").body(Body::from(body)).unwrap()
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (parts.method.as_str(), segments.as_slice()) {
        ("GET", ["sns", "amzpay-sns.pem"] | ["elsewhere", "cert.pem"] | ["untrusted", "cert.pem"]) => {
            Response::builder()
                .header("content-type", "application/x-pem-file")
                .body(Body::from(state.certificate_pem.clone()))
                .unwrap()
        }
        ("GET", ["v2", "charges", id]) => {
            json(200, json!({"chargeId": id, "statusDetails": {"state": "Authorized"}}).to_string())
        }
        ("GET", ["v2", "refunds", _]) => {
            json(404, json!({"reasonCode": "ResourceNotFound", "message": "no such refund"}).to_string())
        }
        ("GET", ["v2", "testHelpers", "ipnEndpoint"]) => json(200, r#"{"url":"https://shop.example/ipn"}"#.into()),
        ("PUT", ["v2", "testHelpers", "ipnEndpoint"]) => json(200, body),
        ("GET", ["v2", "testHelpers", "notifications"]) => json(200, r#"{"notifications":[]}"#.into()),
        ("POST", ["v2", "testHelpers", "notifications", id @ "4b6a0c1e-8f2d-4a53-9e3b-6d7c8a9b0c1d", "redeliver"]) => {
            json(200, json!({"notificationId": id, "status": "Pending"}).to_string())
        }
        _ => json(404, json!({"reasonCode": "ResourceNotFound", "message": path}).to_string()),
    }
}

async fn start_mock(certificate_pem: &str) -> Mock {
    let received = Arc::new(Mutex::new(Vec::new()));
    let state = MockState { certificate_pem: certificate_pem.to_owned(), received: received.clone() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(answer).with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Mock { base, received }
}

/// Forwards a child's output, line by line, to a channel (from a thread: reading blocks).
fn forward_lines(output: impl Read + Send + 'static) -> mpsc::UnboundedReceiver<String> {
    let (lines_tx, lines) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines() {
            if lines_tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    lines
}

async fn next_line(lines: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(STEP_TIMEOUT, lines.recv())
        .await
        .expect("a line in time")
        .expect("the process is still running")
}

/// The next line that starts with `prefix` (others are skipped), without the prefix.
async fn line_starting(lines: &mut mpsc::UnboundedReceiver<String>, prefix: &str) -> String {
    loop {
        if let Some(rest) = next_line(lines).await.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
}

/// Kills a child when the test ends, however it ends, unless the test took it back.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn post(url: &str, body: &Value) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "text/plain; charset=UTF-8")
        .header("x-amz-sns-message-type", "Notification")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_prints_verified_notifications_with_their_objects_and_refuses_the_rest() {
    let key = sns_key();
    let mock = start_mock(&key.certificate_pem).await;
    let mut child = amzpay()
        .args(["ipn", "listen", "--port", "0", "--endpoint", &mock.base, "--public-key-id", "SANDBOX-TEST"])
        .arg("--private-key-file")
        .arg(test_key_file())
        .args(["--trust-cert-url-prefix", &format!("{}/elsewhere/", mock.base)])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = forward_lines(child.stdout.take().unwrap());
    let mut stderr = forward_lines(child.stderr.take().unwrap());
    let mut child = Running(Some(child));
    let listening = line_starting(&mut stderr, "amzpay ipn listening on ").await;
    assert!(listening.starts_with("http://127.0.0.1:"), "{listening}");

    // Signed, its certificate at amzpay's own URL (trusted by default): 200, and one line.
    let charge =
        envelope(&key, &message("CHARGE", "S01-1111111-1111111-C000001"), &format!("{}/sns/amzpay-sns.pem", mock.base));
    assert_eq!(post(&listening, &charge).await, 200);
    let line = next_line(&mut stdout).await;
    assert!(
        line.starts_with(r#"{"MerchantID":"A2XYZ","ObjectType":"CHARGE","#),
        "the message's fields, in order: {line}"
    );
    let printed: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(printed["NotificationId"], "4b6a0c1e-8f2d-4a53-9e3b-6d7c8a9b0c1d");
    assert_eq!(printed["object"]["chargeId"], "S01-1111111-1111111-C000001");
    assert_eq!(printed["object"]["statusDetails"]["state"], "Authorized");
    assert!(printed.get("objectError").is_none(), "{line}");
    let get = mock.received.lock().unwrap().iter().find(|r| r.path.starts_with("/v2/charges/")).cloned().unwrap();
    assert!(get.authorization.starts_with("AMZN-PAY-RSASSA-PSS-V2 PublicKeyId=SANDBOX-TEST"), "{get:?}");

    // Tampered: 400, the reason on stderr, nothing printed.
    let mut tampered = charge.clone();
    tampered["Message"] = json!(message("CHARGE", "S01-1111111-1111111-C000002"));
    assert_eq!(post(&listening, &tampered).await, 400);
    let refused = line_starting(&mut stderr, "amzpay ipn: refused a notification: ").await;
    assert!(refused.contains("signature does not verify"), "{refused}");

    // A certificate nobody said to trust: 400, and it is never fetched.
    let untrusted =
        envelope(&key, &message("CHARGE", "S01-1111111-1111111-C000001"), &format!("{}/untrusted/cert.pem", mock.base));
    assert_eq!(post(&listening, &untrusted).await, 400);
    let refused = line_starting(&mut stderr, "amzpay ipn: refused a notification: ").await;
    assert!(refused.contains("untrusted SigningCertURL"), "{refused}");
    assert!(!mock.paths().iter().any(|path| path.starts_with("/untrusted")));

    // Signed, its certificate under --trust-cert-url-prefix; the object cannot be fetched:
    // 200 all the same, and the line says why the object is missing. It is the next line:
    // nothing was printed for the refused ones.
    let refund =
        envelope(&key, &message("REFUND", "S01-1111111-1111111-R000001"), &format!("{}/elsewhere/cert.pem", mock.base));
    assert_eq!(post(&listening, &refund).await, 200);
    let printed: Value = serde_json::from_str(&next_line(&mut stdout).await).unwrap();
    assert_eq!(printed["ObjectType"], "REFUND");
    assert_eq!(printed["object"], Value::Null);
    assert!(printed["objectError"].as_str().unwrap().contains("ResourceNotFound"), "{printed}");

    // Not a POST.
    let status = reqwest::get(&listening).await.unwrap().status().as_u16();
    assert_eq!(status, 405);

    // SIGTERM stops it cleanly.
    let mut child = child.0.take().unwrap();
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let exit = tokio::time::timeout(STEP_TIMEOUT, tokio::task::spawn_blocking(move || child.wait()))
        .await
        .expect("listen stops after SIGTERM")
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit}");
}

/// Runs `amzpay ipn ARGS` against the mock (off the async threads: it blocks) and returns
/// whether it succeeded and what it printed.
async fn run_ipn(mock: &Mock, args: &[&str]) -> (bool, Value) {
    let mut command = amzpay();
    command
        .arg("ipn")
        .args(args)
        .args(["--endpoint", &mock.base, "--public-key-id", "SANDBOX-TEST", "--private-key-file"])
        .arg(test_key_file());
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout} {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.success(), json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_helper_commands_send_signed_calls_and_print_the_answers() {
    let mock = start_mock("unused").await;
    assert_eq!(run_ipn(&mock, &["endpoint", "get"]).await, (true, json!({"url": "https://shop.example/ipn"})));
    let set = run_ipn(&mock, &["endpoint", "set", "--url", "http://127.0.0.1:8090/"]).await;
    assert_eq!(set, (true, json!({"url": "http://127.0.0.1:8090/"})));
    assert_eq!(run_ipn(&mock, &["endpoint", "set", "--clear"]).await, (true, json!({"url": null})));
    assert_eq!(run_ipn(&mock, &["list", "--limit", "5"]).await, (true, json!({"notifications": []})));
    assert_eq!(run_ipn(&mock, &["list"]).await.1, json!({"notifications": []}));
    let (ok, redelivered) = run_ipn(&mock, &["redeliver", "4b6a0c1e-8f2d-4a53-9e3b-6d7c8a9b0c1d"]).await;
    assert!(ok);
    assert_eq!(redelivered["status"], "Pending");

    let received = mock.received.lock().unwrap().clone();
    let sent: Vec<(&str, &str, &str, &str)> =
        received.iter().map(|r| (r.method.as_str(), r.path.as_str(), r.query.as_str(), r.body.as_str())).collect();
    assert_eq!(
        sent,
        [
            ("GET", "/v2/testHelpers/ipnEndpoint", "", ""),
            ("PUT", "/v2/testHelpers/ipnEndpoint", "", r#"{"url":"http://127.0.0.1:8090/"}"#),
            ("PUT", "/v2/testHelpers/ipnEndpoint", "", r#"{"url":null}"#),
            ("GET", "/v2/testHelpers/notifications", "limit=5", ""),
            ("GET", "/v2/testHelpers/notifications", "", ""),
            ("POST", "/v2/testHelpers/notifications/4b6a0c1e-8f2d-4a53-9e3b-6d7c8a9b0c1d/redeliver", "", ""),
        ]
    );
    assert!(received.iter().all(|r| r.authorization.contains("PublicKeyId=SANDBOX-TEST")), "all signed");

    // An error answer prints Amazon's error and fails.
    let (ok, error) = run_ipn(&mock, &["redeliver", "a/b"]).await;
    assert!(!ok);
    assert_eq!(error["reasonCode"], "ResourceNotFound");
    assert_eq!(mock.paths().last().unwrap(), "/v2/testHelpers/notifications/a%2Fb/redeliver");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_store_logs_verified_notifications_and_refuses_the_rest() {
    let key = sns_key();
    let mock = start_mock(&key.certificate_pem).await;
    let dir = tempfile::tempdir().unwrap();
    let merchant_file = dir.path().join("merchant.json");
    let merchant = json!({
        "merchantId": "A2XYZ",
        "publicKeyId": "SANDBOX-TEST",
        "privateKeyFile": test_key_file(),
        "region": "na",
        "storeId": "amzn1.application-oa2-client.test",
    });
    std::fs::write(&merchant_file, merchant.to_string()).unwrap();
    let store_script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/store/server.js");
    let mut child = Command::new("node")
        .arg(store_script)
        .env("PORT", "0")
        .env("AMZPAY_URL", &mock.base)
        // Nothing listens there: the store's GET of the object fails, which it logs.
        .env("AMZPAY_API_HOST", "127.0.0.1:1")
        // The mock serves the signing certificate, over HTTP.
        .env("AMZPAY_SNS_CERT_PREFIX", format!("{}/sns/", mock.base))
        .env("AMZPAY_MERCHANT_FILE", &merchant_file)
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the sample store");
    let mut stdout = forward_lines(child.stdout.take().unwrap());
    let _child = Running(Some(child));
    let store = line_starting(&mut stdout, "store listening on ").await;
    let ipn = format!("{store}/ipn");

    let charge = message("CHARGE", "S01-1111111-1111111-C000001");
    let genuine = envelope(&key, &charge, &format!("{}/sns/amzpay-sns.pem", mock.base));
    let mut tampered = genuine.clone();
    tampered["MessageId"] = json!("another");
    assert_eq!(post(&ipn, &tampered).await, 400);
    assert_eq!(line_starting(&mut stdout, "IPN refused: ").await, "the SNS signature does not verify");
    let untrusted = envelope(&key, &charge, &format!("{}/untrusted/cert.pem", mock.base));
    assert_eq!(post(&ipn, &untrusted).await, 400);
    assert!(line_starting(&mut stdout, "IPN refused: ").await.starts_with("untrusted SigningCertURL"));
    assert!(!mock.paths().iter().any(|path| path.starts_with("/untrusted")));

    assert_eq!(post(&ipn, &genuine).await, 200);
    let logged: Value = serde_json::from_str(&line_starting(&mut stdout, "IPN received ").await).unwrap();
    assert_eq!(logged, serde_json::from_str::<Value>(&charge).unwrap());
}
