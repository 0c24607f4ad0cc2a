//! What the server tells its operator: metrics for `GET /metrics` (Prometheus text format)
//! and, for the logs, each request's id and span.
//!
//! Metrics go through the `metrics` facade to one recorder per process,
//! `metrics-exporter-prometheus`'s, installed by [`install`] (from `Application::build`,
//! before the store opens, so the store's writer records into it too). The recorder is the
//! process's, so the numbers are too: two `Application`s in one process share them.
//!
//! The hot path is every request: it takes a handle from a table filled once per
//! (operation, status) and adds one to an atomic counter and one sample to a histogram. No
//! label string is allocated and no lock is taken per request (the statuses the server
//! answers with are labels known at compile time; another status, which no path answers
//! today, is looked up by name).
//!
//! Every request gets a [`RequestId`] as its handling starts (`listener::answer`), which
//! `x-amz-pay-request-id` carries back, and runs inside a `request` span with that id, so
//! every log line written while handling it carries the id. One line per request
//! (method, path, operation, status, latency) is logged at debug level under the target
//! [`REQUEST_LOG_TARGET`]: at info level, ten thousand requests a second would write ten
//! thousand lines a second to stderr (a write(2) each, 2 to 3 MB/s), a cost the benchmark
//! would feel (docs/performance.md, "Observing a request") and a volume no one reads; the
//! counters above carry the same totals.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::{HeaderValue, Response};
use metrics::{Counter, Histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;

use crate::routes::{OPERATIONS, Operation};

/// Counter: requests answered, by `operation` and `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "amzpay_http_requests_total";
/// Histogram: from a request's headers to its answer, by `operation`.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "amzpay_http_request_duration_seconds";
/// Counter: scheduled transitions run (committed), failed ones included.
pub const JOBS_RUN_TOTAL: &str = "amzpay_jobs_run_total";
/// Counter: scheduled transitions that failed (recorded failed, never retried).
pub const JOBS_FAILED_TOTAL: &str = "amzpay_jobs_failed_total";
/// Counter: IPN delivery attempts, by `outcome`.
pub const IPN_DELIVERIES_TOTAL: &str = "amzpay_ipn_deliveries_total";
/// Histogram: how long an IPN delivery attempt waited for the endpoint, by `outcome`.
pub const IPN_DELIVERY_DURATION_SECONDS: &str = "amzpay_ipn_delivery_duration_seconds";

/// The `operation` label of requests no operation was picked for: refused before routing
/// (an unknown path or version, an overloaded server) or not the API (`/healthz`, pages,
/// `/metrics`).
pub const NO_OPERATION: &str = "none";

/// The target of the one line logged per request, at debug level: turn it on alone with
/// `RUST_LOG=info,amzpay::request=debug`.
pub const REQUEST_LOG_TARGET: &str = "amzpay::request";

/// Request latency buckets, in seconds (ours): a read answers in well under a millisecond
/// and a write waits for its group commit's `fsync` (a few ms), so the buckets start at
/// 0.25 ms; they end at the 30 s body timeout, which bounds a request.
const REQUEST_DURATION_BUCKETS: [f64; 16] =
    [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// IPN attempt latency buckets, in seconds (ours): a local receiver answers in a
/// millisecond, a remote one in tens to hundreds; an attempt is cut off at 10 s
/// (`IPN_TIMEOUT_MS`).
const IPN_DURATION_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
/// Jobs per write batch: powers of two up to `MAX_GROUP_COMMIT_JOBS` (512).
const WRITE_BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
/// Write batch duration buckets, in seconds (ours): mostly one `fsync`, from a fraction of
/// a millisecond on an SSD to seconds on a struggling disk.
const WRITE_BATCH_DURATION_BUCKETS: [f64; 12] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];
/// How often samples recorded into histograms are folded into their buckets when no one
/// scrapes (ours, the exporter's own default): bounds the memory they hold between scrapes.
pub const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The statuses the server answers with, as labels that need no allocation: those of
/// Amazon's reason codes (`amzpay_api::error`), 2xx and the listeners' own.
const STATUS_LABELS: [(u16, &str); 17] = [
    (200, "200"),
    (201, "201"),
    (204, "204"),
    (302, "302"),
    (303, "303"),
    (400, "400"),
    (401, "401"),
    (403, "403"),
    (404, "404"),
    (405, "405"),
    (408, "408"),
    (409, "409"),
    (422, "422"),
    (429, "429"),
    (431, "431"),
    (500, "500"),
    (503, "503"),
];

/// What an IPN delivery attempt came to, as its `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpnOutcome {
    /// The endpoint answered 2xx.
    Delivered,
    /// No answer, or a 5xx: another attempt is scheduled.
    Retrying,
    /// A 3xx or 4xx, or the last retry failed: no more attempts.
    Failed,
    /// The merchant had no endpoint: nothing was sent.
    NoEndpoint,
}

impl IpnOutcome {
    const ALL: [IpnOutcome; 4] =
        [IpnOutcome::Delivered, IpnOutcome::Retrying, IpnOutcome::Failed, IpnOutcome::NoEndpoint];

    fn label(self) -> &'static str {
        match self {
            IpnOutcome::Delivered => "delivered",
            IpnOutcome::Retrying => "retrying",
            IpnOutcome::Failed => "failed",
            IpnOutcome::NoEndpoint => "no_endpoint",
        }
    }
}

/// The process's metrics: the exporter's handle and the handles the hot paths use.
pub struct Telemetry {
    /// `None` when another recorder was installed before ours (a program embedding the
    /// server): it then receives the metrics, and `/metrics` has nothing to show.
    prometheus: Option<PrometheusHandle>,
    /// One row per entry of `OPERATIONS`, then one for [`NO_OPERATION`].
    operations: Box<[OperationMetrics]>,
    jobs_run: Counter,
    jobs_failed: Counter,
    /// By `IpnOutcome::ALL`'s order.
    ipn: [(Counter, Histogram); 4],
}

struct OperationMetrics {
    name: &'static str,
    /// By `STATUS_LABELS`' order, each made on first use so that only the statuses seen
    /// appear.
    answered: [OnceLock<Counter>; STATUS_LABELS.len()],
    duration: OnceLock<Histogram>,
}

static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();

/// Installs the process's recorder (once; later calls return the same) and starts its
/// upkeep. Call before opening the store, whose writer takes its handles as it starts.
pub fn install() -> &'static Telemetry {
    TELEMETRY.get_or_init(|| {
        let prometheus = match builder().install_recorder() {
            Ok(handle) => {
                let upkeep = handle.clone();
                let spawned = std::thread::Builder::new().name("amzpay-metrics-upkeep".into()).spawn(move || {
                    loop {
                        std::thread::sleep(METRICS_UPKEEP_INTERVAL);
                        upkeep.run_upkeep();
                    }
                });
                if let Err(error) = spawned {
                    tracing::warn!(%error, "metrics upkeep thread not started; histograms fold at each scrape only");
                }
                Some(handle)
            }
            Err(error) => {
                tracing::warn!(%error, "another metrics recorder is installed; GET /metrics has nothing to show");
                None
            }
        };
        describe();
        let operations = OPERATIONS
            .iter()
            .map(|operation| operation.name)
            .chain([NO_OPERATION])
            .map(|name| OperationMetrics {
                name,
                answered: std::array::from_fn(|_| OnceLock::new()),
                duration: OnceLock::new(),
            })
            .collect();
        Telemetry {
            prometheus,
            operations,
            jobs_run: metrics::counter!(JOBS_RUN_TOTAL),
            jobs_failed: metrics::counter!(JOBS_FAILED_TOTAL),
            ipn: IpnOutcome::ALL.map(|outcome| {
                (
                    metrics::counter!(IPN_DELIVERIES_TOTAL, "outcome" => outcome.label()),
                    metrics::histogram!(IPN_DELIVERY_DURATION_SECONDS, "outcome" => outcome.label()),
                )
            }),
        }
    })
}

fn builder() -> PrometheusBuilder {
    use amzpay_store::metric_names::{WRITE_BATCH_DURATION_SECONDS, WRITE_BATCH_JOBS};
    let buckets: [(&str, &[f64]); 4] = [
        (HTTP_REQUEST_DURATION_SECONDS, &REQUEST_DURATION_BUCKETS),
        (IPN_DELIVERY_DURATION_SECONDS, &IPN_DURATION_BUCKETS),
        (WRITE_BATCH_JOBS, &WRITE_BATCH_BUCKETS),
        (WRITE_BATCH_DURATION_SECONDS, &WRITE_BATCH_DURATION_BUCKETS),
    ];
    buckets.into_iter().fold(PrometheusBuilder::new(), |builder, (name, buckets)| {
        builder.set_buckets_for_metric(Matcher::Full(name.to_owned()), buckets).expect("the bucket lists are not empty")
    })
}

/// The `# HELP` lines.
fn describe() {
    use amzpay_store::metric_names::{WRITE_BATCH_DURATION_SECONDS, WRITE_BATCH_JOBS, WRITE_QUEUE_DEPTH};
    metrics::describe_counter!(HTTP_REQUESTS_TOTAL, "Requests answered, by API operation and HTTP status.");
    metrics::describe_histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        Unit::Seconds,
        "Time from a request's headers to its answer, by API operation."
    );
    metrics::describe_counter!(JOBS_RUN_TOTAL, "Scheduled transitions run, failed ones included.");
    metrics::describe_counter!(JOBS_FAILED_TOTAL, "Scheduled transitions that failed (recorded failed, not retried).");
    metrics::describe_counter!(IPN_DELIVERIES_TOTAL, "IPN delivery attempts, by outcome.");
    metrics::describe_histogram!(
        IPN_DELIVERY_DURATION_SECONDS,
        Unit::Seconds,
        "Time an IPN delivery attempt waited for the merchant's endpoint, by outcome."
    );
    metrics::describe_histogram!(WRITE_BATCH_JOBS, "Write jobs committed together in one transaction.");
    metrics::describe_histogram!(
        WRITE_BATCH_DURATION_SECONDS,
        Unit::Seconds,
        "Time one write batch took, to its durable commit."
    );
    metrics::describe_gauge!(WRITE_QUEUE_DEPTH, "Write jobs waiting for the writer when the last batch started.");
}

/// The process's metrics (installing the recorder if no one has yet).
pub fn metrics() -> &'static Telemetry {
    install()
}

impl Telemetry {
    /// Everything recorded, in Prometheus' text format; `None` when another recorder has
    /// the metrics.
    pub fn render(&self) -> Option<String> {
        self.prometheus.as_ref().map(PrometheusHandle::render)
    }

    /// Counts a batch of scheduled transitions once it committed.
    pub(crate) fn jobs_ran(&self, run: u64, failed: u64) {
        self.jobs_run.increment(run);
        self.jobs_failed.increment(failed);
    }

    /// Counts an IPN delivery attempt once its outcome is recorded; `waited` is how long
    /// the endpoint took (none when nothing was sent).
    pub(crate) fn ipn_attempted(&self, outcome: IpnOutcome, waited: Option<Duration>) {
        let index = IpnOutcome::ALL.iter().position(|o| *o == outcome).expect("every outcome is in ALL");
        let (counter, histogram) = &self.ipn[index];
        counter.increment(1);
        if let Some(waited) = waited {
            histogram.record(waited.as_secs_f64());
        }
    }

    fn request_answered(&self, operation: Option<OperationIndex>, status: u16, took: Duration) {
        let row = &self.operations[operation.map_or(OPERATIONS.len(), |o| o.0)];
        match STATUS_LABELS.iter().position(|(code, _)| *code == status) {
            Some(slot) => row.answered[slot]
                .get_or_init(|| {
                    metrics::counter!(HTTP_REQUESTS_TOTAL, "operation" => row.name, "status" => STATUS_LABELS[slot].1)
                })
                .increment(1),
            // A status no path answers today: looked up by name (an allocation, a lock).
            None => {
                metrics::counter!(HTTP_REQUESTS_TOTAL, "operation" => row.name, "status" => status.to_string())
                    .increment(1)
            }
        }
        row.duration
            .get_or_init(|| metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS, "operation" => row.name))
            .record(took.as_secs_f64());
    }
}

/// Which entry of `OPERATIONS` answered a request: put in the response's extensions by the
/// API's handler, read where the request is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationIndex(usize);

impl OperationIndex {
    pub fn of(operation: &'static Operation) -> Option<OperationIndex> {
        OPERATIONS.iter().position(|entry| std::ptr::eq(entry, operation)).map(OperationIndex)
    }
}

/// A request's id: `x-amz-pay-request-id` on its answer and `request_id` in its log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(uuid::Uuid);

impl RequestId {
    pub fn new() -> RequestId {
        RequestId(uuid::Uuid::new_v4())
    }

    pub fn header_value(&self) -> HeaderValue {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = self.0.hyphenated().encode_lower(&mut text);
        HeaderValue::from_str(text).expect("a uuid is a valid header value")
    }
}

impl Default for RequestId {
    fn default() -> Self {
        RequestId::new()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

tokio::task_local! {
    /// The id of the request the current task is handling.
    static CURRENT_REQUEST: RequestId;
}

/// The id of the request being handled, or a fresh one outside any (a router served by
/// something other than our listeners, as in unit tests).
pub fn current_request_id() -> RequestId {
    CURRENT_REQUEST.try_with(|id| *id).unwrap_or_default()
}

/// Handles `request` with `handling`: gives it an id and a span, then counts its answer,
/// logs it (method, path, operation, status, latency) and stamps `x-amz-pay-request-id` on
/// it if the handler did not.
pub async fn observe<B, F>(request: http::Request<B>, handling: impl FnOnce(http::Request<B>) -> F) -> Response<Body>
where
    F: Future<Output = Response<Body>>,
{
    let id = RequestId::new();
    let started = Instant::now();
    // ERROR, the highest level: a span's level only decides whether it is recorded, and
    // this one must be whenever any line inside it is (RUST_LOG=warn included).
    // The id alone: the span's fields are formatted as it is made, for every request, and
    // printed on every line inside it; the method and path are the request line's.
    let span = tracing::error_span!("request", request_id = %id);
    // Reference-counted clones, not copies, for the request line.
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let handling = handling(request);
    let answered = async move {
        let mut response = handling.await;
        let took = started.elapsed();
        let operation = response.extensions().get::<OperationIndex>().copied();
        let status = response.status().as_u16();
        metrics().request_answered(operation, status, took);
        tracing::debug!(
            target: REQUEST_LOG_TARGET,
            method = %method,
            path = uri.path(),
            operation = operation.map_or(NO_OPERATION, |o| OPERATIONS[o.0].name),
            status,
            latency_ms = took.as_secs_f64() * 1000.0,
            "answered"
        );
        let header = crate::http::REQUEST_ID_HEADER;
        if !response.headers().contains_key(header) {
            response.headers_mut().insert(header, id.header_value());
        }
        response
    };
    CURRENT_REQUEST.scope(id, answered.instrument(span)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_label_is_its_code_and_every_reason_code_status_has_one() {
        for (code, label) in STATUS_LABELS {
            assert_eq!(label, code.to_string());
        }
        let answered = amzpay_domain::ReasonCode::ALL.iter().map(|code| amzpay_api::error::http_status(*code));
        for status in answered.chain([200, 201]) {
            assert!(STATUS_LABELS.iter().any(|(code, _)| *code == status), "{status}");
        }
    }

    #[test]
    fn every_operation_has_its_row() {
        for operation in OPERATIONS {
            let index = OperationIndex::of(operation).expect("an entry of OPERATIONS");
            assert_eq!(OPERATIONS[index.0].name, operation.name);
        }
    }
}
