//! `GET /metrics` and the admin gate, through real signed requests: the scrape parses as
//! Prometheus' text format and its counters move by exactly what the requests did.
//!
//! Metrics are the process's (one recorder), so this binary holds only these tests, and
//! each compares a scrape with one taken before it did anything: the other tests here send
//! only requests no API operation answers (`/metrics`), and run no job and no delivery.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use prometheus_parse::{LineInfo, Scrape, Value};
use serde_json::json;
use support::receiver::Receiver;
use support::*;

/// How long the background IPN delivery may take to reach the counters (the receiver is
/// local and answers at once; this bounds a poll, it is not a sleep).
const DELIVERY_WITHIN: Duration = Duration::from_secs(15);

/// One scrape: every sample by its name and sorted labels.
struct Metrics {
    samples: HashMap<String, f64>,
    histograms: HashMap<String, Vec<(f64, f64)>>,
}

fn key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    labels.sort();
    format!("{name}{{{}}}", labels.join(","))
}

impl Metrics {
    /// A counter, gauge or a histogram's `_count`/`_sum`; 0 when absent (not yet moved).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples.get(&key(name, labels)).copied().unwrap_or(0.0)
    }
}

/// Parses a scrape with a Prometheus text-format parser, and checks that every line is
/// one it recognizes (the parser skips what it does not) with a number for a value.
fn parse(text: &str) -> Metrics {
    for line in text.lines() {
        match LineInfo::parse(line) {
            LineInfo::Ignored => panic!("not a line of the text format: {line:?}"),
            LineInfo::Sample { value, .. } => {
                assert!(value.parse::<f64>().is_ok() || value == "+Inf" || value == "NaN", "{line:?}")
            }
            _ => {}
        }
    }
    let scrape = Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("a scrape");
    let mut metrics = Metrics { samples: HashMap::new(), histograms: HashMap::new() };
    for sample in scrape.samples {
        let labels: Vec<(&str, &str)> = sample.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let key = key(&sample.metric, &labels);
        match sample.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => {
                metrics.samples.insert(key, v);
            }
            Value::Histogram(buckets) => {
                metrics.histograms.insert(key, buckets.iter().map(|b| (b.less_than, b.count)).collect());
            }
            Value::Summary(_) => panic!("no summaries expected: {}", sample.metric),
        }
    }
    metrics
}

async fn scrape(app: &TestApp) -> Metrics {
    let response = app.client.get(format!("{}/metrics", app.http)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    parse(&response.text().await.unwrap())
}

const REQUESTS: &str = "amzpay_http_requests_total";

fn requests(operation: &'static str, status: &'static str) -> (&'static str, [(&'static str, &'static str); 2]) {
    (REQUESTS, [("operation", operation), ("status", status)])
}

#[tokio::test]
async fn counters_move_by_exactly_what_signed_requests_jobs_and_deliveries_did() {
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start().await;
    let before = scrape(&app).await;

    app.freeze().await;
    app.dev("PUT", "/v2/testHelpers/ipnEndpoint").json(&json!({ "url": receiver.url })).send().await.assert_status(200);
    let permission = app
        .permission(&app.dev, json!({"amountLimit": {"amount": "100", "currencyCode": "USD"}, "paymentMethod": "0701"}))
        .await;
    let charge = json!({
        "chargePermissionId": permission,
        "chargeAmount": {"amount": "10.00", "currencyCode": "USD"},
        "canHandlePendingAuthorization": true,
    });
    let created = app.dev("POST", "/v2/charges").key(&new_key()).json(&charge).send().await;
    assert_eq!(created.assert_status(201)["statusDetails"]["state"], "AuthorizationInitiated");
    // Refused: a body without its amount, and a signature that does not match.
    let no_amount = json!({"chargePermissionId": permission});
    app.dev("POST", "/v2/charges").key(&new_key()).json(&no_amount).send().await.assert_status(400);
    app.dev("POST", "/v2/charges").key(&new_key()).json(&charge).tamper(Tamper::Body).send().await.assert_status(403);
    // No operation has this path.
    app.dev("GET", "/v2/nothingHere").send().await.assert_error(404, "ResourceNotFound");
    // Thirty seconds on the frozen clock: the pending authorization resolves, one job.
    app.advance(30).await;

    let after = scrape(&app).await;
    let moved = |(name, labels): (&str, [(&str, &str); 2])| after.value(name, &labels) - before.value(name, &labels);
    assert_eq!(moved(requests("CreateCharge", "201")), 1.0);
    assert_eq!(moved(requests("CreateCharge", "400")), 1.0);
    assert_eq!(moved(requests("CreateCharge", "403")), 1.0);
    assert_eq!(moved(requests("CreateTestChargePermission", "201")), 1.0);
    assert_eq!(moved(requests("FreezeClock", "200")), 1.0);
    assert_eq!(moved(requests("AdvanceClock", "200")), 1.0);
    assert_eq!(moved(requests("SetIpnEndpoint", "200")), 1.0);
    assert_eq!(moved(requests("none", "404")), 1.0);
    assert_eq!(moved(requests("CreateCharge", "500")), 0.0);
    // Every request answered has its latency: three Create Charge requests.
    let durations = "amzpay_http_request_duration_seconds_count";
    let create = [("operation", "CreateCharge")];
    assert_eq!(after.value(durations, &create) - before.value(durations, &create), 3.0);
    let buckets = &after.histograms[&key("amzpay_http_request_duration_seconds", &create)];
    assert_eq!(
        buckets.last().map(|(le, count)| (le.is_infinite(), *count)),
        Some((true, after.value(durations, &create)))
    );
    // The scheduled transition ran, and none failed.
    assert_eq!(after.value("amzpay_jobs_run_total", &[]) - before.value("amzpay_jobs_run_total", &[]), 1.0);
    assert_eq!(after.value("amzpay_jobs_failed_total", &[]) - before.value("amzpay_jobs_failed_total", &[]), 0.0);
    // The writes went through group commit: batches were recorded, and the queue was read.
    let batches = "amzpay_store_write_batch_jobs_count";
    assert!(after.value(batches, &[]) > before.value(batches, &[]));
    assert!(after.samples.contains_key(&key("amzpay_store_write_queue_depth", &[])));
    assert!(after.histograms.contains_key(&key("amzpay_store_write_batch_duration_seconds", &[])));

    // Every notification the receiver got is counted delivered, with its latency, once its
    // outcome is recorded.
    let delivered = [("outcome", "delivered")];
    let mut received = receiver.take(1, DELIVERY_WITHIN).await.len();
    let deadline = tokio::time::Instant::now() + DELIVERY_WITHIN;
    loop {
        received += receiver.drain().len();
        let now = scrape(&app).await;
        let counted = now.value("amzpay_ipn_deliveries_total", &delivered)
            - before.value("amzpay_ipn_deliveries_total", &delivered);
        let timed = now.value("amzpay_ipn_delivery_duration_seconds_count", &delivered)
            - before.value("amzpay_ipn_delivery_duration_seconds_count", &delivered);
        if counted == received as f64 && timed == counted {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{received} received, {counted} counted, {timed} timed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let retrying = [("outcome", "retrying")];
    let failed = [("outcome", "failed")];
    let last = scrape(&app).await;
    for outcome in [&retrying, &failed] {
        assert_eq!(
            last.value("amzpay_ipn_deliveries_total", outcome),
            before.value("amzpay_ipn_deliveries_total", outcome)
        );
    }
}

#[tokio::test]
async fn with_an_admin_token_metrics_require_it_even_from_loopback() {
    let open = TestApp::spawn().await;
    let response = open.client.get(format!("{}/metrics", open.http)).send().await.unwrap();
    assert_eq!(response.status(), 200, "loopback needs no token when none is set");

    let app = TestApp::spawn_with_admin_token("operator-s3cret").await;
    let url = format!("{}/metrics", app.http);
    for (authorization, status) in [
        (None, 401),
        (Some("Bearer wrong-token"), 401),
        (Some("Basic b3BlcmF0b3ItczNjcmV0"), 401),
        (Some("operator-s3cret"), 401),
        (Some("Bearer operator-s3cret"), 200),
        // The token as a Basic password (any user name): what a browser sends.
        (Some("Basic cHJvbWV0aGV1czpvcGVyYXRvci1zM2NyZXQ="), 200),
    ] {
        let mut request = app.client.get(&url);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{authorization:?}");
        if status == 401 {
            let challenges = "Basic realm=\"amzpay operator\", Bearer realm=\"amzpay\"";
            assert_eq!(response.headers()["www-authenticate"], challenges);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"], "unauthorized", "{body}");
            assert!(!body.to_string().contains("s3cret"), "{body}");
        } else {
            parse(&response.text().await.unwrap());
        }
    }
    // Over HTTPS too; and the health checks stay open.
    let https = app.client.get(format!("{}/metrics", app.https)).send().await.unwrap();
    assert_eq!(https.status(), 401);
    let health = app.client.get(format!("{}/healthz", app.http)).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

/// This machine's address on its default route: not loopback. Found by connecting a UDP
/// socket (which sends nothing) towards a documentation address.
fn non_loopback_address() -> std::net::IpAddr {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    socket.connect("198.51.100.1:9").expect("this test needs a network interface besides loopback");
    let address = socket.local_addr().unwrap().ip();
    assert!(!address.is_loopback() && !address.is_unspecified(), "{address}");
    address
}

#[tokio::test]
async fn a_client_from_another_address_is_refused_without_a_token_and_let_in_with_it() {
    let address = non_loopback_address();
    let open = TestApp::spawn_on_every_interface(None).await;
    let port = open.http.rsplit(':').next().unwrap().to_owned();
    let from_outside = format!("http://{address}:{port}/metrics");
    let refused = open.client.get(&from_outside).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "forbidden", "{body}");
    // The same server answers the same path over loopback.
    let local = open.client.get(format!("http://127.0.0.1:{port}/metrics")).send().await.unwrap();
    assert_eq!(local.status(), 200);

    let guarded = TestApp::spawn_on_every_interface(Some("operator-s3cret")).await;
    let port = guarded.http.rsplit(':').next().unwrap().to_owned();
    let from_outside = format!("http://{address}:{port}/metrics");
    assert_eq!(guarded.client.get(&from_outside).send().await.unwrap().status(), 401);
    let allowed = guarded.client.get(&from_outside).bearer_auth("operator-s3cret").send().await.unwrap();
    assert_eq!(allowed.status(), 200);
    parse(&allowed.text().await.unwrap());
}
