//! What a run measured, kept pure: latencies into an HDR histogram, counts, the error
//! samples, the check of each answer, batch sizing, and the report (text or JSON).

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// The slowest latency the histogram holds, in microseconds (one minute); slower answers
/// are recorded as this.
pub const MAX_LATENCY_US: u64 = 60_000_000;
/// Significant decimal digits the histogram keeps (0.1% relative precision).
pub const HISTOGRAM_PRECISION: u8 = 3;
/// How many error answers a report quotes.
pub const MAX_ERROR_SAMPLES: usize = 5;
/// How much of an error body a sample keeps, in bytes.
pub const ERROR_SAMPLE_BYTES: usize = 300;

/// What an answer must be to count as a success: its status, and a JSON object with its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A Charge (`chargeId`).
    Charge(u16),
    /// A Charge Permission (`chargePermissionId`).
    ChargePermission(u16),
    /// A Refund (`refundId`).
    Refund(u16),
    /// `GET /healthz`: 200 `{"status": "ok"}`.
    Health,
}

impl Expect {
    /// Whether an answer is the one expected.
    pub fn accepts(self, status: u16, body: &[u8]) -> bool {
        let (want_status, key) = match self {
            Expect::Charge(status) => (status, "chargeId"),
            Expect::ChargePermission(status) => (status, "chargePermissionId"),
            Expect::Refund(status) => (status, "refundId"),
            Expect::Health => (200, "status"),
        };
        if status != want_status {
            return false;
        }
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(object)) => object.get(key).is_some_and(serde_json::Value::is_string),
            _ => false,
        }
    }
}

/// One error as reported: the status (none for a transport failure) and the start of the body.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ErrorSample {
    /// The HTTP status, absent when no answer arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The body (or the transport error), cut at `ERROR_SAMPLE_BYTES`.
    pub body: String,
}

/// Latencies, counts and error samples of some requests; merged across workers and rounds.
#[derive(Clone, Debug)]
pub struct Recorder {
    histogram: Histogram<u64>,
    /// Requests sent (answered or not).
    pub requests: u64,
    /// Requests whose answer was not the expected one, or that got no answer.
    pub errors: u64,
    /// The first errors.
    pub samples: Vec<ErrorSample>,
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder::new()
    }
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Recorder {
        let histogram = Histogram::new_with_bounds(1, MAX_LATENCY_US, HISTOGRAM_PRECISION)
            .expect("the histogram's bounds are valid");
        Recorder { histogram, requests: 0, errors: 0, samples: Vec::new() }
    }

    /// A request answered after `latency`, as expected or not.
    pub fn answered(&mut self, latency: Duration, ok: bool, status: u16, body: &[u8]) {
        self.requests += 1;
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).clamp(1, MAX_LATENCY_US);
        self.histogram.saturating_record(micros);
        if !ok {
            self.error(Some(status), &String::from_utf8_lossy(body));
        }
    }

    /// A request that got no answer (connection refused or closed).
    pub fn failed(&mut self, reason: &str) {
        self.requests += 1;
        self.error(None, reason);
    }

    fn error(&mut self, status: Option<u16>, body: &str) {
        self.errors += 1;
        if self.samples.len() < MAX_ERROR_SAMPLES {
            let mut end = body.len().min(ERROR_SAMPLE_BYTES);
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            self.samples.push(ErrorSample { status, body: body[..end].to_owned() });
        }
    }

    /// Adds another recorder's requests.
    pub fn merge(&mut self, other: &Recorder) {
        self.histogram.add(&other.histogram).expect("histograms of the same bounds add");
        self.requests += other.requests;
        self.errors += other.errors;
        let room = MAX_ERROR_SAMPLES.saturating_sub(self.samples.len());
        self.samples.extend(other.samples.iter().take(room).cloned());
    }

    /// The latency percentiles, in milliseconds.
    pub fn latency(&self) -> Latency {
        let at = |quantile: f64| self.histogram.value_at_quantile(quantile) as f64 / 1000.0;
        Latency { p50: at(0.50), p90: at(0.90), p99: at(0.99), max: self.histogram.max() as f64 / 1000.0 }
    }
}

/// Latency percentiles in milliseconds (microsecond resolution, 0.1% precision).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

/// The report of a run, as `--json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The scenario's name.
    pub scenario: &'static str,
    /// Concurrent workers (one connection each).
    pub concurrency: usize,
    /// Seconds under measurement (signing and setup excluded).
    pub duration_s: f64,
    /// Requests sent under measurement.
    pub requests: u64,
    /// Of which errors.
    pub errors: u64,
    /// Requests a second.
    pub throughput_rps: f64,
    /// Flows completed (authorize-capture: a charge authorized and then captured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flows: Option<u64>,
    /// Flows a second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flows_per_s: Option<f64>,
    /// Latency of each request.
    pub latency_ms: Latency,
    /// The server's resident memory after the run, when it runs on this machine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_rss_mb: Option<f64>,
    /// The first errors.
    pub error_samples: Vec<ErrorSample>,
}

impl Report {
    /// The report of what `recorder` holds, measured over `timed`.
    pub fn new(scenario: &'static str, concurrency: usize, timed: Duration, recorder: &Recorder) -> Report {
        let seconds = timed.as_secs_f64();
        Report {
            scenario,
            concurrency,
            duration_s: round3(seconds),
            requests: recorder.requests,
            errors: recorder.errors,
            throughput_rps: round3(per_second(recorder.requests, seconds)),
            flows: None,
            flows_per_s: None,
            latency_ms: recorder.latency(),
            server_rss_mb: None,
            error_samples: recorder.samples.clone(),
        }
    }

    /// With a count of flows.
    pub fn with_flows(mut self, flows: u64) -> Report {
        self.flows = Some(flows);
        self.flows_per_s = Some(round3(per_second(flows, self.duration_s)));
        self
    }

    /// The report for a person.
    pub fn text(&self) -> String {
        let mut out = format!(
            "scenario     {}\nconcurrency  {}\nduration     {:.2} s (signing and setup excluded)\nrequests     {} ({} errors)\nthroughput   {:.0} req/s\n",
            self.scenario, self.concurrency, self.duration_s, self.requests, self.errors, self.throughput_rps
        );
        if let (Some(flows), Some(rate)) = (self.flows, self.flows_per_s) {
            out += &format!("flows        {flows} ({rate:.0} flows/s)\n");
        }
        let l = self.latency_ms;
        out += &format!(
            "latency      p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  max {:.3} ms\n",
            l.p50, l.p90, l.p99, l.max
        );
        if let Some(rss) = self.server_rss_mb {
            out += &format!("server RSS   {rss:.1} MB\n");
        }
        for sample in &self.error_samples {
            let status = sample.status.map_or("no answer".to_owned(), |s| s.to_string());
            out += &format!("error        {status}: {}\n", sample.body);
        }
        out
    }
}

fn per_second(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 { count as f64 / seconds } else { 0.0 }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// The first batch of a run: enough to measure a rate without signing much ahead.
pub const FIRST_BATCH_PER_WORKER: usize = 20;
/// The most requests signed at once (memory: about 1 KB each).
pub const MAX_BATCH: usize = 100_000;
/// Headroom over the measured rate, so that a batch rarely runs out before its time.
pub const BATCH_HEADROOM: f64 = 1.15;

/// How many requests (or flows) to sign for the next batch: the measured rate times the time
/// left, with headroom, at least one per worker; the first batch, without a rate, is small.
pub fn next_batch(rate_per_s: Option<f64>, remaining: Duration, concurrency: usize) -> usize {
    let wanted = match rate_per_s {
        None => concurrency * FIRST_BATCH_PER_WORKER,
        Some(rate) => (rate * remaining.as_secs_f64() * BATCH_HEADROOM).ceil() as usize,
    };
    wanted.clamp(concurrency.max(1), MAX_BATCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        // 1 ms, 2 ms, ..., 1000 ms, one each, recorded in shuffled order by two workers.
        let mut a = Recorder::new();
        let mut b = Recorder::new();
        for i in 1..=1000u64 {
            let latency = Duration::from_millis((i * 617) % 1000 + 1);
            let worker = if i % 2 == 0 { &mut a } else { &mut b };
            worker.answered(latency, true, 200, b"");
        }
        a.merge(&b);
        assert_eq!(a.requests, 1000);
        assert_eq!(a.errors, 0);
        let l = a.latency();
        // Within the histogram's 0.1% precision.
        let near = |got: f64, want: f64| (got - want).abs() <= want * 0.001 + 0.001;
        assert!(near(l.p50, 500.0), "{l:?}");
        assert!(near(l.p90, 900.0), "{l:?}");
        assert!(near(l.p99, 990.0), "{l:?}");
        assert!(near(l.max, 1000.0), "{l:?}");
    }

    #[test]
    fn a_skewed_distribution_shows_its_tail_only_at_p99() {
        let mut r = Recorder::new();
        for _ in 0..985 {
            r.answered(Duration::from_micros(200), true, 200, b"");
        }
        for _ in 0..15 {
            r.answered(Duration::from_millis(50), true, 200, b"");
        }
        let l = r.latency();
        assert!((l.p50 - 0.2).abs() < 0.001 && (l.p90 - 0.2).abs() < 0.001, "{l:?}");
        assert!((l.p99 - 50.0).abs() < 0.05 && (l.max - 50.0).abs() < 0.05, "{l:?}");
    }

    #[test]
    fn errors_are_counted_and_the_first_ones_quoted() {
        let mut r = Recorder::new();
        r.answered(Duration::from_millis(1), true, 201, b"{}");
        for i in 0..7 {
            r.answered(Duration::from_millis(1), false, 503, format!("{{\"n\":{i}}}").as_bytes());
        }
        r.failed("connection refused");
        assert_eq!((r.requests, r.errors), (9, 8));
        assert_eq!(r.samples.len(), MAX_ERROR_SAMPLES);
        assert_eq!(r.samples[0], ErrorSample { status: Some(503), body: "{\"n\":0}".into() });
        let long = "é".repeat(ERROR_SAMPLE_BYTES);
        let mut r = Recorder::new();
        r.answered(Duration::from_millis(1), false, 500, long.as_bytes());
        assert!(r.samples[0].body.len() <= ERROR_SAMPLE_BYTES);
    }

    #[test]
    fn answers_are_checked_for_status_and_object() {
        let charge = br#"{"chargeId":"S01-1111111-1111111-C000001","statusDetails":{}}"#;
        assert!(Expect::Charge(201).accepts(201, charge));
        assert!(!Expect::Charge(201).accepts(200, charge));
        assert!(!Expect::Charge(200).accepts(200, b"{\"reasonCode\":\"x\"}"));
        assert!(!Expect::Charge(200).accepts(200, b"not json"));
        assert!(!Expect::Refund(201).accepts(201, charge));
        assert!(Expect::Health.accepts(200, br#"{"status":"ok"}"#));
        assert!(Expect::ChargePermission(200).accepts(200, br#"{"chargePermissionId":"S01-1"}"#));
    }

    #[test]
    fn the_json_report_has_the_documented_keys() {
        let mut r = Recorder::new();
        r.answered(Duration::from_millis(2), true, 200, b"");
        let report = Report::new("get-charge", 4, Duration::from_millis(500), &r);
        let json = serde_json::to_value(&report).unwrap();
        for key in ["scenario", "requests", "errors", "throughput_rps", "concurrency", "duration_s"] {
            assert!(json.get(key).is_some(), "{key}: {json}");
        }
        for key in ["p50", "p90", "p99", "max"] {
            assert!(json["latency_ms"][key].is_number(), "{key}: {json}");
        }
        assert_eq!(json["throughput_rps"], 2.0);
        assert!(json.get("flows").is_none() && json.get("server_rss_mb").is_none());
        let json = serde_json::to_value(report.with_flows(1)).unwrap();
        assert_eq!(json["flows_per_s"], 2.0);
    }

    #[test]
    fn batches_follow_the_measured_rate() {
        assert_eq!(next_batch(None, Duration::from_secs(10), 64), 64 * FIRST_BATCH_PER_WORKER);
        assert_eq!(next_batch(Some(1000.0), Duration::from_secs(2), 8), 2300);
        assert_eq!(next_batch(Some(1000.0), Duration::ZERO, 8), 8);
        assert_eq!(next_batch(Some(1e9), Duration::from_secs(10), 8), MAX_BATCH);
    }
}
