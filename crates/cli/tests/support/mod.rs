//! Test support: the real `amzpay` binary as a child process, and a minimal signed client.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use amzpay_signing::{Algorithm, PrivateKey, RequestToSign, parse_private_key_pem, sign_request};
use serde_json::Value;

pub fn amzpay() -> Command {
    Command::new(env!("CARGO_BIN_EXE_amzpay"))
}

/// Which backend the suites run on (`AMZPAY_TEST_BACKEND`), as in the server's HTTP suites.
pub const BACKEND_VARIABLE: &str = "AMZPAY_TEST_BACKEND";
/// Where a data directory remembers the PostgreSQL database made for it, so that a server
/// restarted on the directory, and a command run on it, find the same one.
const DATABASE_URL_FILE: &str = "test-database-url";

/// The `--database` flag for a server or a command on `data_dir`: none on SQLite (the
/// database is in the data directory); on PostgreSQL (`AMZPAY_TEST_BACKEND=postgres`) a fresh
/// database made the first time a directory asks, the same one after. An unknown backend,
/// or PostgreSQL without a server, fails the test rather than run it on another backend.
pub fn database_args(data_dir: &Path) -> Vec<String> {
    match std::env::var(BACKEND_VARIABLE).as_deref() {
        Err(_) | Ok("sqlite") => Vec::new(),
        Ok("postgres") => {
            let remembered = data_dir.join(DATABASE_URL_FILE);
            let url = match std::fs::read_to_string(&remembered) {
                Ok(url) => url,
                Err(_) => {
                    let url = amzpay_store::postgres::create_test_database("amzpay_cli").unwrap();
                    std::fs::create_dir_all(data_dir).unwrap();
                    std::fs::write(&remembered, &url).unwrap();
                    url
                }
            };
            vec!["--database".to_owned(), url]
        }
        Ok(other) => panic!("{BACKEND_VARIABLE}={other}: use sqlite or postgres"),
    }
}

pub struct Server {
    pub child: Child,
    pub http: String,
    pub https_port: u16,
    pub data_dir: PathBuf,
}

impl Server {
    /// Starts `amzpay serve` on free ports and waits until it says where it listens.
    pub fn start(data_dir: &Path) -> Server {
        Server::start_with(data_dir, &[])
    }

    /// The same, with more `serve` flags.
    pub fn start_with(data_dir: &Path, flags: &[&str]) -> Server {
        Server::spawn(data_dir, flags, "warn", Stdio::inherit())
    }

    /// The same, logging what `rust_log` selects; each line it writes to stderr arrives on
    /// the channel.
    pub fn start_logging(
        data_dir: &Path,
        flags: &[&str],
        rust_log: &str,
    ) -> (Server, std::sync::mpsc::Receiver<String>) {
        let mut server = Server::spawn(data_dir, flags, rust_log, Stdio::piped());
        let stderr = server.child.stderr.take().unwrap();
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        (server, lines)
    }

    fn spawn(data_dir: &Path, flags: &[&str], rust_log: &str, stderr: Stdio) -> Server {
        let database = if flags.contains(&"--database") { Vec::new() } else { database_args(data_dir) };
        let mut child = amzpay()
            .args(["serve", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(flags)
            .args(database)
            .env("RUST_LOG", rust_log)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("starting amzpay serve");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut http = None;
        let mut https_port = None;
        while http.is_none() || https_port.is_none() {
            let line = lines.next().expect("amzpay serve exited before listening").unwrap();
            if let Some(address) = line.strip_prefix("amzpay listening on http://") {
                http = Some(format!("http://{address}"));
            } else if let Some(address) = line.strip_prefix("amzpay listening on https://") {
                https_port = Some(address.rsplit(':').next().unwrap().parse().unwrap());
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, http: http.unwrap(), https_port: https_port.unwrap(), data_dir: data_dir.to_owned() }
    }

    /// SIGKILL: no graceful shutdown, no flush.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn dev_merchant(&self) -> Merchant {
        Merchant::from_description(&self.data_dir.join("dev-merchant.json"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone)]
pub struct Merchant {
    pub public_key_id: String,
    pub private_key: PrivateKey,
    pub description: Value,
}

impl Merchant {
    pub fn from_description(path: &Path) -> Merchant {
        let description: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        Merchant::from_json(description)
    }

    pub fn from_json(description: Value) -> Merchant {
        let key_file = description["privateKeyFile"].as_str().unwrap();
        let private_key = parse_private_key_pem(&std::fs::read_to_string(key_file).unwrap()).unwrap();
        Merchant { public_key_id: description["publicKeyId"].as_str().unwrap().to_owned(), private_key, description }
    }
}

pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    /// `x-amz-pay-request-id`.
    pub request_id: Option<String>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Sends one signed request (prefixed key, `/v2/` paths).
pub async fn call(
    client: &reqwest::Client,
    base: &str,
    merchant: &Merchant,
    method: &str,
    path: &str,
    body: &str,
    idempotency_key: Option<&str>,
) -> reqwest::Result<Reply> {
    call_with(client, base, merchant, method, path, body, idempotency_key, &[]).await
}

/// Every header of a request signed for `host` (as `x-amz-pay-host`), `authorization`
/// included: what any HTTP client then sends as is.
pub fn signed_headers(
    merchant: &Merchant,
    host: &str,
    method: &str,
    path: &str,
    body: &str,
    idempotency_key: Option<&str>,
    extra_headers: &[(&str, &str)],
) -> Vec<(String, String)> {
    let now = time::OffsetDateTime::now_utc();
    let date = now.format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z")).unwrap();
    let mut headers = vec![
        ("accept".to_owned(), "application/json".to_owned()),
        ("content-type".to_owned(), "application/json".to_owned()),
        ("x-amz-pay-date".to_owned(), date),
        ("x-amz-pay-host".to_owned(), host.to_owned()),
        ("x-amz-pay-region".to_owned(), "na".to_owned()),
    ];
    if let Some(key) = idempotency_key {
        headers.push(("x-amz-pay-idempotency-key".to_owned(), key.to_owned()));
    }
    for (name, value) in extra_headers {
        headers.push(((*name).to_owned(), (*value).to_owned()));
    }
    let authorization = sign_request(
        &merchant.private_key,
        Algorithm::V2,
        &merchant.public_key_id,
        &RequestToSign { method, path, query: &[], headers: &headers, body: body.as_bytes() },
    );
    headers.push(("authorization".to_owned(), authorization));
    headers
}

/// Sends one signed request with extra signed headers.
#[allow(clippy::too_many_arguments)]
pub async fn call_with(
    client: &reqwest::Client,
    base: &str,
    merchant: &Merchant,
    method: &str,
    path: &str,
    body: &str,
    idempotency_key: Option<&str>,
    extra_headers: &[(&str, &str)],
) -> reqwest::Result<Reply> {
    let host = base.split("://").nth(1).unwrap().to_owned();
    let headers = signed_headers(merchant, &host, method, path, body, idempotency_key, extra_headers);
    let mut request = client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{base}{path}"));
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let response = request.body(body.to_owned()).send().await?;
    let status = response.status().as_u16();
    let request_id = response.headers().get("x-amz-pay-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.bytes().await?.to_vec();
    Ok(Reply { status, body, request_id })
}
