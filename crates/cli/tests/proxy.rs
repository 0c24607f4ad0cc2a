//! amzpay stands in for Amazon's hosts: real clients, with only their proxy and CA settings
//! changed and no service-URL override, authorize, capture and refund against
//! `https://pay-api.amazon.com`: curl (through `https_proxy`), the official Node.js SDK
//! (through a proxy agent from npm) and a client that connects as the official PHP SDK does
//! (port 443, a proxy sent a user name and password, TLS verified against `ca.pem` alone).
//! A CONNECT anywhere else is refused and opens no connection; certificates exist only for
//! Amazon's hosts; the CA is made once and survives restarts.

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use support::*;

const API_HOST: &str = "pay-api.amazon.com";

fn proxy_url(server: &Server) -> String {
    server.http.clone()
}

fn ca_file(server: &Server) -> PathBuf {
    server.data_dir.join("ca.pem")
}

async fn new_permission(server: &Server, merchant: &Merchant, limit: &str) -> String {
    let client = reqwest::Client::new();
    let body = json!({"amountLimit": {"amount": limit, "currencyCode": "USD"}}).to_string();
    let key = uuid_key();
    let reply = call(&client, &server.http, merchant, "POST", "/v2/testHelpers/chargePermissions", &body, Some(&key))
        .await
        .unwrap();
    assert_eq!(reply.status, 201);
    reply.json()["chargePermissionId"].as_str().unwrap().to_owned()
}

fn uuid_key() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// One signed call through curl, which knows nothing of amzpay but its proxy and CA.
fn curl(server: &Server, merchant: &Merchant, method: &str, path: &str, body: &str, key: Option<&str>) -> (u16, Value) {
    let headers = signed_headers(merchant, API_HOST, method, path, body, key, &[]);
    let mut command = Command::new("curl");
    command.args(["--silent", "--show-error", "--request", method, "--write-out", "\n%{http_code}", "--cacert"]);
    command.arg(ca_file(server));
    for (name, value) in &headers {
        command.arg("--header").arg(format!("{name}: {value}"));
    }
    if !body.is_empty() {
        command.arg("--data-binary").arg(body);
    }
    let output = command
        .arg(format!("https://{API_HOST}{path}"))
        .env("https_proxy", proxy_url(server))
        .env_remove("HTTPS_PROXY")
        .env_remove("no_proxy")
        .env_remove("NO_PROXY")
        .output()
        .expect("curl is installed (.ci/run installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "curl: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let (json, status) = stdout.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), serde_json::from_str(json).unwrap_or(Value::Null))
}

/// A client as the official PHP SDK builds it with curl: Amazon's host on port 443, a proxy
/// it sends a user name and password (the SDK uses its proxy only then), and TLS verified
/// against one CA file.
fn php_like_client(server: &Server) -> reqwest::Client {
    let ca = std::fs::read(ca_file(server)).unwrap();
    let proxy = reqwest::Proxy::https(proxy_url(server)).unwrap().basic_auth("merchant-proxy-user", "secret");
    reqwest::Client::builder()
        .proxy(proxy)
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn php_like(
    client: &reqwest::Client,
    merchant: &Merchant,
    method: &str,
    path: &str,
    body: &str,
    key: Option<&str>,
) -> (u16, Value) {
    let headers = signed_headers(merchant, API_HOST, method, path, body, key, &[]);
    let url = format!("https://{API_HOST}:443{path}");
    let mut request = client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let response = request.body(body.to_owned()).send().await.expect("through the proxy");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn price(amount: &str) -> Value {
    json!({"amount": amount, "currencyCode": "USD"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_authorizes_captures_and_refunds_at_amazons_host_through_the_proxy() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let merchant = server.dev_merchant();
    let permission = new_permission(&server, &merchant, "100.00").await;
    let flow = tokio::task::spawn_blocking(move || {
        let body = json!({"chargePermissionId": permission, "chargeAmount": price("14.00")}).to_string();
        let (status, charge) = curl(&server, &merchant, "POST", "/v2/charges", &body, Some(&uuid_key()));
        assert_eq!((status, charge["statusDetails"]["state"].as_str()), (201, Some("Authorized")), "{charge}");
        let id = charge["chargeId"].as_str().unwrap();
        let body = json!({"captureAmount": price("14.00")}).to_string();
        let path = format!("/v2/charges/{id}/capture");
        let (status, captured) = curl(&server, &merchant, "POST", &path, &body, Some(&uuid_key()));
        assert_eq!((status, captured["statusDetails"]["state"].as_str()), (200, Some("Captured")), "{captured}");
        let body = json!({"chargeId": id, "refundAmount": price("4.00")}).to_string();
        let (status, refund) = curl(&server, &merchant, "POST", "/v2/refunds", &body, Some(&uuid_key()));
        assert_eq!((status, refund["statusDetails"]["state"].as_str()), (201, Some("RefundInitiated")), "{refund}");
        let (status, got) =
            curl(&server, &merchant, "GET", &format!("/v2/refunds/{}", refund["refundId"].as_str().unwrap()), "", None);
        assert_eq!((status, got["refundId"].clone()), (200, refund["refundId"].clone()));
    });
    flow.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_connecting_as_the_php_sdk_does_authorizes_captures_and_refunds() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let merchant = server.dev_merchant();
    let permission = new_permission(&server, &merchant, "100.00").await;
    let client = php_like_client(&server);
    let body = json!({"chargePermissionId": permission, "chargeAmount": price("14.00")}).to_string();
    let (status, charge) = php_like(&client, &merchant, "POST", "/v2/charges", &body, Some(&uuid_key())).await;
    assert_eq!((status, charge["statusDetails"]["state"].as_str()), (201, Some("Authorized")), "{charge}");
    let id = charge["chargeId"].as_str().unwrap();
    let body = json!({"captureAmount": price("14.00")}).to_string();
    let path = format!("/v2/charges/{id}/capture");
    let (status, captured) = php_like(&client, &merchant, "POST", &path, &body, Some(&uuid_key())).await;
    assert_eq!((status, captured["statusDetails"]["state"].as_str()), (200, Some("Captured")));
    let body = json!({"chargeId": id, "refundAmount": price("4.00")}).to_string();
    let (status, refund) = php_like(&client, &merchant, "POST", "/v2/refunds", &body, Some(&uuid_key())).await;
    assert_eq!((status, refund["statusDetails"]["state"].as_str()), (201, Some("RefundInitiated")));

    // The region is the host's: this North American key is refused at the European host.
    let headers = signed_headers(&merchant, "pay-api.amazon.eu", "GET", &format!("/v2/charges/{id}"), "", None, &[]);
    let mut request = client.get(format!("https://pay-api.amazon.eu/v2/charges/{id}"));
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["reasonCode"], "InvalidAuthentication", "{error}");
}

#[test]
fn the_official_node_sdk_runs_at_amazons_host_through_a_proxy_agent() {
    let compat = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../compat/node");
    assert!(
        compat.join("node_modules/https-proxy-agent/package.json").exists(),
        "run `npm ci --prefix compat/node` (scripts/test does it)"
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let merchant = server.dev_merchant();
    let permission = runtime.block_on(new_permission(&server, &merchant, "100.00"));
    let output = Command::new("node")
        .arg("proxy.js")
        .current_dir(&compat)
        .env("HTTPS_PROXY", proxy_url(&server))
        .env("NODE_EXTRA_CA_CERTS", ca_file(&server))
        .env("AMZPAY_MERCHANT_FILE", server.data_dir.join("dev-merchant.json"))
        .env("AMZPAY_PERMISSION_ID", &permission)
        .env_remove("NODE_TLS_REJECT_UNAUTHORIZED")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_str(stdout.lines().find_map(|l| l.strip_prefix("RESULT ")).unwrap()).unwrap();
    assert_eq!(
        result,
        json!({"authorized": "Authorized", "captured": "Captured", "refund": "RefundInitiated",
               "refundId": result["refundId"], "host": API_HOST})
    );
    // The refund is amzpay's: the server the proxy is has it.
    let refund = result["refundId"].as_str().unwrap();
    let reply = runtime
        .block_on(call(
            &reqwest::Client::new(),
            &server.http,
            &merchant,
            "GET",
            &format!("/v2/refunds/{refund}"),
            "",
            None,
        ))
        .unwrap();
    assert_eq!(reply.status, 200);
}

/// Sends `CONNECT target` on a fresh connection and returns the status line.
fn connect(server: &Server, target: &str) -> String {
    let address = server.http.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").unwrap();
    let mut answer = [0u8; 512];
    let read = stream.read(&mut answer).unwrap();
    String::from_utf8_lossy(&answer[..read]).lines().next().unwrap_or("").to_owned()
}

#[test]
fn a_connect_anywhere_else_is_refused_and_opens_no_connection() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    // A listener that must see nothing.
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = target.local_addr().unwrap().port();
    target.set_nonblocking(true).unwrap();
    for asked in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "example.com:443".to_owned(),
        "pay-api.amazon.com:80".to_owned(),
        "pay-api.amazon.com:8443".to_owned(),
        "pay-api.amazon.com.evil.example:443".to_owned(),
    ] {
        let status = connect(&server, &asked);
        assert!(status.starts_with("HTTP/1.1 403"), "CONNECT {asked}: {status}");
    }
    assert_eq!(
        target.accept().map(|_| ()).map_err(|e| e.kind()),
        Err(std::io::ErrorKind::WouldBlock),
        "the proxy never connected anywhere"
    );
    assert!(connect(&server, "pay-api.amazon.com:443").starts_with("HTTP/1.1 200"));
}

/// A TLS handshake through a tunnel to `connect_host`, naming `sni`, trusting only `ca`.
async fn handshake(server: &Server, connect_host: &str, sni: &str, ca: &Path) -> Result<usize, String> {
    use rustls::pki_types::pem::PemObject as _;
    let address = server.http.strip_prefix("http://").unwrap().to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(format!("CONNECT {connect_host}:443 HTTP/1.1\r\nHost: {connect_host}:443\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        answer.push(byte[0]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(certificate.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from(sni.to_owned()).unwrap();
    let tls = connector.connect(name, stream).await.map_err(|e| e.to_string())?;
    Ok(tls.get_ref().1.peer_certificates().map_or(0, |chain| chain.len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_verify_against_ca_pem_only_for_amazons_hosts_and_the_ca_survives_restarts() {
    use rustls::pki_types::pem::PemObject as _;
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let ca = ca_file(&server);
    let ca_pem = std::fs::read_to_string(&ca).unwrap();
    assert!(!ca_pem.contains("PRIVATE KEY"), "ca.pem holds the certificate only");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data_dir.path().join("ca-key.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let printed = amzpay().args(["ca", "path", "--data-dir"]).arg(data_dir.path()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&printed.stdout).trim(), std::path::absolute(&ca).unwrap().to_str().unwrap());

    for host in [
        "pay-api.amazon.com",
        "pay-api.amazon.eu",
        "pay-api.amazon.jp",
        "static-na.payments-amazon.com",
        "payments.amazon.co.jp",
    ] {
        assert_eq!(handshake(&server, host, host, &ca).await, Ok(2), "{host}: the leaf and the CA");
    }
    // Another name inside an Amazon host's tunnel: no certificate.
    let other = handshake(&server, "pay-api.amazon.com", "www.example.com", &ca).await;
    assert!(other.is_err(), "{other:?}");

    drop(server);
    let restarted = Server::start(data_dir.path());
    assert_eq!(std::fs::read_to_string(&ca).unwrap(), ca_pem, "the same CA after a restart");
    assert_eq!(handshake(&restarted, API_HOST, API_HOST, &ca).await, Ok(2));
    let _ = rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap();
}
