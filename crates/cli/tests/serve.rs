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

/// Reads one answer's status line and headers off a socket (bodies are small here: the
/// rest of the answer is read with it or left, unneeded).
async fn read_status(stream: &mut tokio::net::TcpStream) -> u16 {
    use tokio::io::AsyncReadExt;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(read > 0, "the connection closed before an answer");
        buffer.extend_from_slice(&chunk[..read]);
    }
    String::from_utf8_lossy(&buffer).split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn sigterm_with_a_stalled_upload_and_a_stalled_handshake_exits_within_the_shutdown_grace() {
    use tokio::io::AsyncWriteExt;
    let grace = Duration::from_secs(1);
    let data_dir = tempfile::tempdir().unwrap();
    // The body timeout is far away: only the grace can end the upload.
    let mut server = Server::start_with(
        data_dir.path(),
        &["--shutdown-grace", "1s", "--body-read-timeout", "10m", "--max-in-flight-requests", "1"],
    );
    let merchant = server.dev_merchant();
    let address = server.http.strip_prefix("http://").unwrap().to_owned();
    let body = r#"{"amountLimit":{"amount":"5","currencyCode":"USD"}}"#;
    let path = "/v2/testHelpers/chargePermissions";
    let headers = signed_headers(&merchant, &address, "POST", path, body, Some("stalled"), &[]);
    let mut head = format!("POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in &headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // A TLS handshake that never starts, on the other listener.
    let stalled_handshake = tokio::net::TcpStream::connect(("127.0.0.1", server.https_port)).await.unwrap();
    let mut upload = tokio::net::TcpStream::connect(&address).await.unwrap();
    upload.write_all(head.as_bytes()).await.unwrap();
    upload.write_all(&body.as_bytes()[..10]).await.unwrap();
    // The upload holds the one request slot once the server handles it: a health check then
    // answers 503.
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{}/healthz", server.http)).send().await.unwrap().status() != 503 {
        assert!(started.elapsed() < Duration::from_secs(10), "the upload never reached the server");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let status = std::process::Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let stopping = Instant::now();
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(stopping.elapsed() < grace + STOP_WITHIN, "serve did not stop within its grace with an upload stalled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "a stop at the end of the grace is still graceful: {exit:?}");
    drop((upload, stalled_handshake));
}

fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn two_thousand_idle_connections_keep_the_server_under_200_mb_resident() {
    use tokio::io::AsyncWriteExt;
    const CONNECTIONS: usize = 2_000;
    const MOST_RESIDENT_BYTES: u64 = 200 * 1024 * 1024;
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let address = server.http.strip_prefix("http://").unwrap().to_owned();
    let request = format!("GET /healthz HTTP/1.1\r\nhost: {address}\r\n\r\n");
    // Each connection makes one request and then stays open, idle (keep-alive).
    let mut connections = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        assert_eq!(read_status(&mut stream).await, 200);
        connections.push(stream);
    }
    let resident = resident_bytes(server.child.id());
    eprintln!("{CONNECTIONS} idle connections: the server holds {} KiB resident", resident / 1024);
    assert!(resident < MOST_RESIDENT_BYTES, "{resident} bytes resident with {CONNECTIONS} idle connections");
    // They were idle, not dropped: each still answers.
    for stream in connections.iter_mut().step_by(100) {
        stream.write_all(request.as_bytes()).await.unwrap();
        assert_eq!(read_status(stream).await, 200);
    }
}
