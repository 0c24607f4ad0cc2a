//! Test support: a real server on free ports in a fresh data directory, and a client that
//! signs its requests the way the official SDKs do.
//!
//! The backend is a parameter of every suite that starts its servers here: SQLite (a file
//! in the data directory) by default, PostgreSQL with `AMZPAY_TEST_BACKEND=postgres`, each
//! server on a fresh database of the server `AMZPAY_TEST_DATABASE_URL` names. `scripts/test`
//! runs the suites once on each.

#![allow(dead_code)]

pub mod receiver;

use std::sync::Arc;

use amzpay_api::format::format_timestamp;
use amzpay_domain::{Environment, Region};
use amzpay_server::merchants::{KeyStyle, NewMerchant, create_merchant};
use amzpay_server::{Application, Config, system_now};
use amzpay_signing::{Algorithm, PrivateKey, RequestToSign, parse_private_key_pem, sign_request};
use amzpay_store::Store;
use serde_json::Value;

pub struct TestApp {
    pub http: String,
    pub https: String,
    pub host: String,
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    pub dev: Merchant,
    _data_dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

#[derive(Clone)]
pub struct Merchant {
    pub merchant_id: String,
    pub public_key_id: String,
    pub private_key: PrivateKey,
    pub region: Region,
}

pub struct Response {
    pub status: u16,
    pub body: Value,
    pub raw: Vec<u8>,
    pub request_id: Option<String>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, String::from_utf8_lossy(&self.raw))
    }
}

impl Response {
    /// Asserts an Amazon error and returns its message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, reason_code: &str) -> String {
        assert_eq!((self.status, self.body["reasonCode"].as_str().unwrap_or("")), (status, reason_code), "{self:?}");
        self.body["message"].as_str().unwrap_or("").to_owned()
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{self:?}");
        &self.body
    }
}

/// Which backend the suites run on (`AMZPAY_TEST_BACKEND`).
pub const BACKEND_VARIABLE: &str = "AMZPAY_TEST_BACKEND";

/// The `--database` of a new test server: `None` (SQLite in its data directory), or a
/// fresh PostgreSQL database. An unknown backend, or PostgreSQL without a server, fails
/// the test rather than run it on another backend.
pub fn test_database() -> Option<String> {
    match std::env::var(BACKEND_VARIABLE).as_deref() {
        Err(_) | Ok("sqlite") => None,
        Ok("postgres") => Some(fresh_postgres_database()),
        Ok(other) => panic!("{BACKEND_VARIABLE}={other}: use sqlite or postgres"),
    }
}

/// A new, empty database on the test server, named uniquely for this process and test.
pub fn fresh_postgres_database() -> String {
    amzpay_store::postgres::create_test_database("amzpay_http").unwrap()
}

pub fn key_for(merchant: &amzpay_server::merchants::MerchantDescription) -> PrivateKey {
    let path = merchant.private_key_file.as_ref().expect("a generated key");
    parse_private_key_pem(&std::fs::read_to_string(path).unwrap()).unwrap()
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(None).await
    }

    /// A server whose IPN delivery follows `ipn` (tests shorten the timeout and retries).
    pub async fn spawn_with(ipn_delivery: Option<amzpay_server::config::IpnDelivery>) -> TestApp {
        TestApp::spawn_configured(
            ipn_delivery,
            amzpay_server::config::ConnectionLimits::DEFAULT,
            amzpay_server::config::Retention::DEFAULT,
        )
        .await
    }

    /// A server with these connection limits (tests shorten the timeouts).
    pub async fn spawn_with_limits(limits: amzpay_server::config::ConnectionLimits) -> TestApp {
        TestApp::spawn_configured(None, limits, amzpay_server::config::Retention::DEFAULT).await
    }

    /// A server that also keeps what is done for as long as `retention` says.
    pub async fn spawn_retaining(
        ipn_delivery: Option<amzpay_server::config::IpnDelivery>,
        retention: amzpay_server::config::Retention,
    ) -> TestApp {
        TestApp::spawn_configured(ipn_delivery, amzpay_server::config::ConnectionLimits::DEFAULT, retention).await
    }

    /// A server whose operator endpoints require this token.
    pub async fn spawn_with_admin_token(token: &str) -> TestApp {
        let token = amzpay_server::admin::AdminToken::new(token).unwrap();
        TestApp::spawn_from(|config| config.admin_token = Some(token)).await
    }

    /// A server whose HTTP listener is on every interface (clients may come from another
    /// address than loopback), with this admin token, if any.
    pub async fn spawn_on_every_interface(admin_token: Option<&str>) -> TestApp {
        let token = admin_token.map(|token| amzpay_server::admin::AdminToken::new(token).unwrap());
        TestApp::spawn_from(|config| {
            config.listen = Some("0.0.0.0:0".parse().unwrap());
            config.admin_token = token;
        })
        .await
    }

    /// Servers on one fresh PostgreSQL database, as the nodes of one service: the first
    /// makes the development merchant, the others start with copies of its description and
    /// key in their own data directories (docs/deploy.md).
    pub async fn spawn_nodes(count: usize) -> Vec<TestApp> {
        let database = fresh_postgres_database();
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            let data_dir = tempfile::tempdir().unwrap();
            if let Some(first) = nodes.first() {
                let first: &TestApp = first;
                for file in
                    [amzpay_server::merchants::DEV_MERCHANT_FILE, amzpay_server::merchants::DEV_MERCHANT_KEY_FILE]
                {
                    std::fs::copy(first._data_dir.path().join(file), data_dir.path().join(file)).unwrap();
                }
            }
            nodes.push(TestApp::spawn_in(data_dir, Some(database.clone()), |_| {}).await);
        }
        nodes
    }

    async fn spawn_configured(
        ipn_delivery: Option<amzpay_server::config::IpnDelivery>,
        limits: amzpay_server::config::ConnectionLimits,
        retention: amzpay_server::config::Retention,
    ) -> TestApp {
        TestApp::spawn_from(|config| {
            config.ipn = ipn_delivery.unwrap_or_default();
            config.limits = limits;
            config.retention = retention;
        })
        .await
    }

    /// A server on free ports in a fresh data directory, on the backend the suites run on
    /// (`test_database`), configured by `configure`.
    async fn spawn_from(configure: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::spawn_in(tempfile::tempdir().unwrap(), test_database(), configure).await
    }

    /// A server on free ports in `data_dir`, on `database` (`None`: SQLite in the data
    /// directory), configured by `configure`.
    async fn spawn_in(
        data_dir: tempfile::TempDir,
        database: Option<String>,
        configure: impl FnOnce(&mut Config),
    ) -> TestApp {
        let mut config = Config {
            data_dir: data_dir.path().to_owned(),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            tls_listen: Some("127.0.0.1:0".parse().unwrap()),
            database,
            delays: amzpay_server::config::SandboxDelays::DEFAULT,
            public_url: None,
            admin_token: None,
            ipn: amzpay_server::config::IpnDelivery::default(),
            limits: amzpay_server::config::ConnectionLimits::DEFAULT,
            retention: amzpay_server::config::Retention::DEFAULT,
        };
        configure(&mut config);
        let app = Application::build(config).await.unwrap();
        let http_addr = app.http_addr.unwrap();
        let https_addr = app.https_addr.unwrap();
        let store = app.store();
        let dev_description = app.dev_merchant.clone();
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = stop.await;
        }));
        let dev = Merchant {
            merchant_id: dev_description.merchant_id.clone(),
            public_key_id: dev_description.public_key_id.clone(),
            private_key: key_for(&dev_description),
            region: Region::Na,
        };
        TestApp {
            http: format!("http://{http_addr}"),
            https: format!("https://localhost:{}", https_addr.port()),
            host: http_addr.to_string(),
            store,
            client: reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap(),
            dev,
            _data_dir: data_dir,
            shutdown: Some(shutdown),
        }
    }

    /// The server's self-signed TLS certificate (PEM file), for clients that must trust it.
    pub fn tls_certificate(&self) -> std::path::PathBuf {
        self._data_dir.path().join(amzpay_server::tls::CERT_FILE)
    }

    /// Registers another merchant with a key of the given style.
    pub async fn merchant(&self, region: Region, style: KeyStyle) -> Merchant {
        let new = NewMerchant { region, public_key_pem: None, ipn_url: None, key_style: style };
        let description =
            create_merchant(self.store.as_ref(), self._data_dir.path(), new, system_now(), None).await.unwrap();
        Merchant {
            merchant_id: description.merchant_id.clone(),
            public_key_id: description.public_key_id.clone(),
            private_key: key_for(&description),
            region,
        }
    }

    pub fn call<'a>(&'a self, merchant: &'a Merchant, method: &'a str, path: impl Into<String>) -> Call<'a> {
        Call {
            app: self,
            merchant,
            method,
            path: path.into(),
            body: String::new(),
            algorithm: Algorithm::V1,
            idempotency_key: None,
            extra_signed: Vec::new(),
            extra_unsigned: Vec::new(),
            omit: Vec::new(),
            tamper: Tamper::None,
            date: None,
            base: None,
            region_alias: None,
            ruby: false,
        }
    }

    /// A signed sandbox call of the dev merchant (prefixed key, `/v2/` path).
    pub fn dev<'a>(&'a self, method: &'a str, path: impl Into<String>) -> Call<'a> {
        self.call(&self.dev, method, path)
    }

    /// Creates a sandbox one-time permission with the given limit (USD) and returns its id.
    pub async fn permission(&self, merchant: &Merchant, body: Value) -> String {
        let prefix = if merchant.public_key_id.starts_with("SANDBOX") { "" } else { "/sandbox" };
        let path = format!("{prefix}/v2/testHelpers/chargePermissions");
        let response = self.call(merchant, "POST", &path).json(&body).key(&new_key()).send().await;
        response.assert_status(201)["chargePermissionId"].as_str().unwrap().to_owned()
    }

    pub async fn one_time(&self, limit: &str) -> String {
        self.permission(&self.dev, serde_json::json!({"amountLimit": {"amount": limit, "currencyCode": "USD"}})).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

pub fn new_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[derive(Clone, Copy)]
pub enum Tamper {
    None,
    Body,
    Path,
    Signature,
    SignedHeader,
}

pub struct Call<'a> {
    app: &'a TestApp,
    merchant: &'a Merchant,
    method: &'a str,
    path: String,
    body: String,
    algorithm: Algorithm,
    idempotency_key: Option<String>,
    extra_signed: Vec<(String, String)>,
    extra_unsigned: Vec<(String, String)>,
    omit: Vec<&'static str>,
    tamper: Tamper,
    date: Option<String>,
    base: Option<String>,
    region_alias: Option<String>,
    ruby: bool,
}

impl<'a> Call<'a> {
    /// Signs as the official Ruby SDK (1.2.0) does: `AMZN-PAY-RSASSA-PSS-V2`,
    /// `x-amz-pay-host` without the port while the HTTP library sends `Host: name:port`,
    /// and `content-length` (with a body), `x-amz-pay-sdk-type` and `x-amz-pay-sdk-version`
    /// among the signed headers.
    pub fn like_ruby_sdk(mut self) -> Self {
        self.ruby = true;
        self.algorithm = Algorithm::V2;
        self
    }

    pub fn json(mut self, value: &Value) -> Self {
        self.body = value.to_string();
        self
    }
    pub fn raw_body(mut self, body: &str) -> Self {
        self.body = body.to_owned();
        self
    }
    pub fn key(mut self, key: &str) -> Self {
        self.idempotency_key = Some(key.to_owned());
        self
    }
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }
    pub fn signed_header(mut self, name: &str, value: &str) -> Self {
        self.extra_signed.push((name.to_owned(), value.to_owned()));
        self
    }
    pub fn unsigned_header(mut self, name: &str, value: &str) -> Self {
        self.extra_unsigned.push((name.to_owned(), value.to_owned()));
        self
    }
    pub fn omit(mut self, header: &'static str) -> Self {
        self.omit.push(header);
        self
    }
    pub fn tamper(mut self, tamper: Tamper) -> Self {
        self.tamper = tamper;
        self
    }
    pub fn date(mut self, date: &str) -> Self {
        self.date = Some(date.to_owned());
        self
    }
    pub fn over_https(mut self) -> Self {
        self.base = Some(self.app.https.clone());
        self
    }
    pub fn region(mut self, alias: &str) -> Self {
        self.region_alias = Some(alias.to_owned());
        self
    }

    pub async fn send(self) -> Response {
        let signed = self.signed();
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap();
        let mut request = self.app.client.request(method, format!("{}{}", signed.base, signed.url_path));
        for (name, value) in signed.headers.iter().chain(self.extra_unsigned.iter()) {
            // The HTTP library sets content-length itself, to the same value.
            if name == "content-length" {
                continue;
            }
            request = request.header(name, value);
        }
        request = request.header("authorization", signed.authorization).body(signed.body);
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let request_id = response.headers().get("x-amz-pay-request-id").map(|v| v.to_str().unwrap().to_owned());
        let raw = response.bytes().await.unwrap().to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Response { status, body, raw, request_id }
    }

    /// The request's head as an HTTP/1.1 client sends it (request line, signed headers,
    /// `authorization`, `host`, `content-length` of the body), and the body: for tests that
    /// write to a socket themselves (a body sent slowly, or never).
    pub fn raw(self) -> (String, Vec<u8>) {
        let signed = self.signed();
        let authority = signed.base.split("://").nth(1).unwrap().to_owned();
        let mut head = format!("{} {} HTTP/1.1\r\nhost: {authority}\r\n", self.method, signed.url_path);
        for (name, value) in signed.headers.iter().chain(self.extra_unsigned.iter()) {
            if name != "content-length" {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str(&format!("authorization: {}\r\n", signed.authorization));
        head.push_str(&format!("content-length: {}\r\n\r\n", signed.body.len()));
        (head, signed.body.into_bytes())
    }

    fn signed(&self) -> Signed {
        let base = self.base.clone().unwrap_or_else(|| self.app.http.clone());
        let authority = base.split("://").nth(1).unwrap().to_owned();
        // The Ruby SDK signs `uri.host`: the name without the port.
        let host = if self.ruby {
            authority.rsplit_once(':').map_or(authority.clone(), |(name, _)| name.to_owned())
        } else {
            authority
        };
        let date = self.date.clone().unwrap_or_else(|| format_timestamp(system_now()));
        let mut headers: Vec<(String, String)> = vec![
            ("accept".into(), "application/json".into()),
            ("content-type".into(), "application/json".into()),
            ("x-amz-pay-date".into(), date),
            ("x-amz-pay-host".into(), host),
            (
                "x-amz-pay-region".into(),
                self.region_alias.clone().unwrap_or_else(|| self.merchant.region.code().into()),
            ),
        ];
        if let Some(key) = &self.idempotency_key {
            headers.push(("x-amz-pay-idempotency-key".into(), key.clone()));
        }
        if self.ruby {
            if !self.body.is_empty() {
                headers.push(("content-length".into(), self.body.len().to_string()));
            }
            headers.push(("x-amz-pay-sdk-type".into(), "amazon-pay-api-sdk-ruby".into()));
            headers.push(("x-amz-pay-sdk-version".into(), "1.2.0".into()));
        }
        headers.retain(|(name, _)| !self.omit.contains(&name.as_str()));
        headers.extend(self.extra_signed.iter().cloned());
        let (path, query) = match self.path.split_once('?') {
            Some((path, query)) => (path, query),
            None => (self.path.as_str(), ""),
        };
        let query_pairs: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (n, v) = p.split_once('=').unwrap_or((p, ""));
                (n.to_owned(), v.to_owned())
            })
            .collect();
        let mut authorization = sign_request(
            &self.merchant.private_key,
            self.algorithm,
            &self.merchant.public_key_id,
            &RequestToSign {
                method: self.method,
                path,
                query: &query_pairs,
                headers: &headers,
                body: self.body.as_bytes(),
            },
        );
        let mut body = self.body.clone();
        let mut url_path = self.path.to_owned();
        match self.tamper {
            Tamper::None => {}
            Tamper::Body => body.push(' '),
            Tamper::Path => url_path = url_path.replacen("charge", "Charge", 1),
            Tamper::Signature => {
                let at = authorization.find("Signature=").unwrap() + "Signature=".len();
                let replacement = if &authorization[at..at + 1] == "A" { "B" } else { "A" };
                authorization.replace_range(at..at + 1, replacement);
            }
            Tamper::SignedHeader => {
                for (name, value) in headers.iter_mut() {
                    if name == "accept" {
                        *value = "text/plain".into();
                    }
                }
            }
        }
        Signed { base, url_path, headers, authorization, body }
    }
}

/// A request signed and ready to send.
struct Signed {
    base: String,
    url_path: String,
    headers: Vec<(String, String)>,
    authorization: String,
    body: String,
}

pub fn sandbox(style: KeyStyle) -> KeyStyle {
    style
}

pub const SANDBOX_KEY: KeyStyle = KeyStyle::Prefixed(Environment::Sandbox);

impl TestApp {
    /// Stops the dev merchant's sandbox clock so that only advances move it.
    pub async fn freeze(&self) -> String {
        let response = self.dev("POST", "/v2/testHelpers/clock/freeze").send().await;
        response.assert_status(200)["now"].as_str().unwrap().to_owned()
    }

    /// Moves the dev merchant's sandbox clock; returns the new time.
    pub async fn advance(&self, seconds: i64) -> String {
        let response = self
            .dev("POST", "/v2/testHelpers/clock/advance")
            .json(&serde_json::json!({"seconds": seconds}))
            .send()
            .await;
        response.assert_status(200)["now"].as_str().unwrap().to_owned()
    }

    /// The dev merchant's `storeId` (Checkout Sessions must name it).
    pub async fn store_id(&self) -> String {
        let merchant = self.dev.merchant_id.clone();
        self.store.read(move |tx| tx.merchant(&merchant)).await.unwrap().unwrap().store_id
    }

    /// GETs an API path with the dev merchant and returns the 200 body.
    pub async fn get(&self, path: &str) -> Value {
        self.dev("GET", path).send().await.assert_status(200).clone()
    }

    /// The outbox events of one object, oldest first.
    pub async fn events_for(&self, object_id: &str) -> Vec<amzpay_store::Event> {
        let merchant = self.dev.merchant_id.clone();
        let id = object_id.to_owned();
        let mut events: Vec<amzpay_store::Event> = self
            .store
            .read(move |tx| tx.notifications(&merchant, Environment::Sandbox, 10_000))
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.event)
            .filter(|e| e.object_id == id)
            .collect();
        events.reverse();
        events
    }
}
