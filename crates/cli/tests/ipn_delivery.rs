//! IPN delivery across processes: notifications pending when a server is SIGKILLed arrive
//! after it restarts; two servers on one database deliver each notification once; the
//! endpoint can be changed while a server runs; `amzpay ipn listen` verifies and prints
//! what a real server delivers.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use support::*;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(30);

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

/// A receiver on `listener` that answers 200 and passes each notification's
/// `NotificationId` on.
fn receive_on(listener: tokio::net::TcpListener) -> mpsc::UnboundedReceiver<String> {
    let (sender, received) = mpsc::unbounded_channel::<String>();
    async fn handle(State(sender): State<mpsc::UnboundedSender<String>>, body: Bytes) -> &'static str {
        let envelope: Value = serde_json::from_slice(&body).unwrap();
        let message: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
        let _ = sender.send(message["NotificationId"].as_str().unwrap().to_owned());
        "ok"
    }
    let app = Router::new().route("/ipn", post(handle)).with_state(sender);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    received
}

/// Notification ids as they arrive, counted, until `count` distinct ones came.
async fn arrivals(received: &mut mpsc::UnboundedReceiver<String>, count: usize) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    while seen.len() < count {
        let id = tokio::time::timeout(WAIT, received.recv())
            .await
            .unwrap_or_else(|_| panic!("{} of {count} notifications arrived", seen.len()))
            .unwrap();
        *seen.entry(id).or_insert(0) += 1;
    }
    seen
}

async fn create_permission(client: &reqwest::Client, base: &str, merchant: &Merchant, key: &str) -> String {
    let body = json!({"amountLimit": {"amount": "10", "currencyCode": "USD"}}).to_string();
    let reply =
        call(client, base, merchant, "POST", "/v2/testHelpers/chargePermissions", &body, Some(key)).await.unwrap();
    assert_eq!(reply.status, 201);
    reply.json()["chargePermissionId"].as_str().unwrap().to_owned()
}

/// The delivery log, newest first.
async fn log(client: &reqwest::Client, base: &str, merchant: &Merchant) -> Vec<Value> {
    let reply = call(client, base, merchant, "GET", "/v2/testHelpers/notifications", "", None).await.unwrap();
    assert_eq!(reply.status, 200);
    reply.json()["notifications"].as_array().unwrap().clone()
}

/// Waits until `done` holds of the log.
async fn log_until(
    client: &reqwest::Client,
    base: &str,
    merchant: &Merchant,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let entries = log(client, base, merchant).await;
        if done(&entries) {
            return entries;
        }
        assert!(tokio::time::Instant::now() < deadline, "the log never got there: {entries:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn set_ipn_url(server: &Server, merchant_id: &str, url: &str) {
    let output = amzpay()
        .args(["merchant", "set-ipn-url", "--merchant-id", merchant_id, "--url", url, "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_pending_at_a_sigkill_arrive_after_restart() {
    let data_dir = tempfile::tempdir().unwrap();
    let flags = ["--ipn-retry-delays", "100ms", "--ipn-timeout", "2s"];
    let server = Server::start_with(data_dir.path(), &flags);
    let merchant = server.dev_merchant();
    let merchant_id = merchant.description["merchantId"].as_str().unwrap().to_owned();
    // The receiver's port, with nothing listening on it yet: every attempt is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // Set while the server runs, from another process.
    set_ipn_url(&server, &merchant_id, &format!("http://127.0.0.1:{port}/ipn"));
    let client = client();
    for n in 0..3 {
        create_permission(&client, &server.http, &merchant, &format!("p{n}")).await;
    }
    let failing = log_until(&client, &server.http, &merchant, |log| {
        log.len() == 3 && log.iter().all(|n| n["status"] == "Pending" && !n["attempts"].as_array().unwrap().is_empty())
    })
    .await;
    assert!(failing[0]["attempts"][0]["error"].as_str().unwrap().contains("connect"), "{}", failing[0]);
    server.kill();

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let mut received = receive_on(listener);
    let restarted = Server::start_with(data_dir.path(), &flags);
    let arrived = arrivals(&mut received, 3).await;
    let logged: Vec<String> = failing.iter().map(|n| n["notificationId"].as_str().unwrap().to_owned()).collect();
    for id in &logged {
        assert!(arrived.contains_key(id), "{id} arrived after the restart");
    }
    log_until(&client, &restarted.http, &merchant, |log| log.iter().all(|n| n["status"] == "Delivered")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_database_deliver_each_notification_once() {
    const PERMISSIONS: usize = 20;
    let data_dir = tempfile::tempdir().unwrap();
    let first = Server::start(data_dir.path());
    let second = Server::start(data_dir.path());
    let merchant = first.dev_merchant();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ipn", listener.local_addr().unwrap());
    let mut received = receive_on(listener);
    let client = client();
    let body = json!({ "url": url }).to_string();
    let set = call(&client, &first.http, &merchant, "PUT", "/v2/testHelpers/ipnEndpoint", &body, None).await.unwrap();
    assert_eq!(set.status, 200);
    let bases = [first.http.clone(), second.http.clone()];
    for n in 0..PERMISSIONS {
        create_permission(&client, &bases[n % 2], &merchant, &format!("p{n}")).await;
    }
    let arrived = arrivals(&mut received, PERMISSIONS).await;
    let log = log_until(&client, &bases[1], &merchant, |log| log.iter().all(|n| n["status"] == "Delivered")).await;
    assert_eq!(log.len(), PERMISSIONS);
    for entry in &log {
        assert_eq!(entry["attempts"].as_array().unwrap().len(), 1, "{entry}");
    }
    // Nothing arrives twice: each was leased by one server only.
    assert!(arrived.values().all(|&count| count == 1), "{arrived:?}");
    assert!(received.try_recv().is_err(), "no duplicate came late");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipn_listen_verifies_and_prints_what_a_real_server_delivers() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let merchant_file = data_dir.path().join("dev-merchant.json");
    let tls = data_dir.path().join("tls-cert.pem");
    let sns_prefix = format!("https://localhost:{}/sns/", server.https_port);
    let mut listener = amzpay()
        .args(["ipn", "listen", "--port", "0", "--endpoint", &server.http, "--trust-cert-url-prefix", &sns_prefix])
        .arg("--merchant-file")
        .arg(&merchant_file)
        .arg("--ca-cert")
        .arg(&tls)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut errors = BufReader::new(listener.stderr.take().unwrap()).lines();
    let address = loop {
        let line = errors.next().expect("ipn listen exited").unwrap();
        if let Some(address) = line.strip_prefix("amzpay ipn listening on ") {
            break address.to_owned();
        }
    };
    std::thread::spawn(move || for _ in errors {});
    let set = amzpay()
        .args(["ipn", "endpoint", "set", "--url", &format!("{address}/ipn"), "--endpoint", &server.http])
        .arg("--merchant-file")
        .arg(&merchant_file)
        .output()
        .unwrap();
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));

    let client = client();
    let merchant = server.dev_merchant();
    let permission = create_permission(&client, &server.http, &merchant, "p1").await;
    let stdout = listener.stdout.take().unwrap();
    let printed = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout).lines().next().expect("a printed notification").unwrap()
    });
    let printed: Value = serde_json::from_str(&tokio::time::timeout(WAIT, printed).await.unwrap().unwrap()).unwrap();
    assert_eq!(printed["ObjectType"], "CHARGE_PERMISSION");
    assert_eq!(printed["ObjectId"], permission.as_str());
    assert_eq!(printed["object"]["chargePermissionId"], permission.as_str(), "{printed}");
    assert_eq!(printed["object"]["statusDetails"]["state"], "Chargeable");
    log_until(&client, &server.http, &merchant, |log| log.len() == 1 && log[0]["status"] == "Delivered").await;
    listener.kill().unwrap();
    listener.wait().unwrap();
}
