//! Server configuration, with the defaults of `product.md`.

use std::net::SocketAddr;
use std::path::PathBuf;

/// `x-amz-pay-date` may be at most this far in the future (product.md: 5 minutes).
pub const MAX_CLOCK_SKEW_FUTURE_SECONDS: i64 = 5 * 60;
/// ...and at most this far in the past (product.md: 15 minutes).
pub const MAX_REQUEST_AGE_SECONDS: i64 = 15 * 60;
/// Largest request body accepted. Amazon Pay bodies are a few kilobytes; the largest field,
/// `customInformation`, is 4,096 characters (ours).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// How long graceful shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE_SECONDS: u64 = 10;

pub const DEFAULT_DATA_DIR: &str = "./amzpay-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_TLS_LISTEN: &str = "127.0.0.1:8443";
pub const DATABASE_FILE: &str = "amzpay.db";

/// How long sandbox processing takes on the merchant's clock (product.md: 30 s each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxDelays {
    /// A pending authorization (`AuthorizationInitiated`) resolves after this.
    pub pending_authorization_seconds: i64,
    /// An asynchronous capture (`CaptureInitiated`) completes after this.
    pub async_capture_seconds: i64,
    /// A refund (`RefundInitiated`) settles after this.
    pub refund_seconds: i64,
}

/// product.md: "a pending authorization, an asynchronous capture and a refund resolve 30
/// seconds (sandbox clock) after they start".
pub const DEFAULT_SANDBOX_DELAY_SECONDS: i64 = 30;

impl SandboxDelays {
    pub const DEFAULT: SandboxDelays = SandboxDelays {
        pending_authorization_seconds: DEFAULT_SANDBOX_DELAY_SECONDS,
        async_capture_seconds: DEFAULT_SANDBOX_DELAY_SECONDS,
        refund_seconds: DEFAULT_SANDBOX_DELAY_SECONDS,
    };
}

/// How often the background worker looks for transitions that fell due in real time.
pub const WORKER_POLL_INTERVAL_MS: u64 = 500;
/// Transitions run in one transaction at most: bounds how long one batch holds the writer.
pub const MAX_JOBS_PER_TRANSACTION: u32 = 1_000;
/// The furthest one clock advance may move (100 years): a bound, not a use case.
pub const MAX_CLOCK_ADVANCE_SECONDS: i64 = 100 * 366 * 86_400;

/// product.md: an IPN attempt that has not been answered in 10 s is a timeout.
pub const IPN_TIMEOUT_MS: u64 = 10_000;
/// product.md: retries after 10 s, 30 s, 1 min, 5 min, 15 min, then hourly.
pub const IPN_RETRY_DELAYS_MS: [u64; 6] = [10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000];
/// product.md: retries stop 24 hours (real time) after the first attempt; then `Failed`.
pub const IPN_RETRY_FOR_MS: u64 = 24 * 3_600_000;
/// Each retry delay is moved by up to this share either way (product.md: "with jitter"), so
/// that the notifications of one outage do not all come back in the same instant.
pub const IPN_RETRY_JITTER_PERCENT: u64 = 10;
/// Deliveries in flight at once, per process: bounds sockets and memory whatever the
/// backlog (ours).
pub const IPN_MAX_IN_FLIGHT: usize = 64;
/// Deliveries in flight at once to one merchant's endpoint (ours): a slow or dead receiver
/// holds at most this many of the slots above, so the others keep flowing.
pub const IPN_MAX_IN_FLIGHT_PER_MERCHANT: u32 = 4;
/// A leased notification is another deliverer's until its attempt could have ended: the
/// timeout plus this margin (ours). A lease that outlives a crash expires after that.
pub const IPN_LEASE_MARGIN_MS: u64 = 5_000;
/// How often the delivery worker looks for retries that fell due, when nothing wakes it
/// sooner (a write wakes it at once).
pub const IPN_POLL_INTERVAL_MS: u64 = 250;
/// The worker looks at most this often however many writes wake it (ours): under heavy
/// traffic one look serves many writes, and a backlog is not rescanned per request.
pub const IPN_MIN_DISPATCH_INTERVAL_MS: u64 = 5;

/// Delivered IPNs (and their attempts) are deleted this long after delivery (ours): long
/// enough to read a week of the delivery log; pending, failed and unsent ones are kept.
pub const DELIVERED_IPN_RETENTION_SECONDS: i64 = 7 * 86_400;
/// Jobs (scheduled transitions) that ran are deleted this long after they ran (ours): they
/// only serve diagnostics once run; jobs not yet run are kept.
pub const FINISHED_JOB_RETENTION_SECONDS: i64 = 7 * 86_400;
/// Idempotency records are kept forever by default: Amazon keeps idempotency keys
/// indefinitely (spec §8), so a retry however late replays. `None` is forever.
pub const IDEMPOTENCY_RETENTION_SECONDS: Option<i64> = None;
/// How often the retention task looks for what to delete (ours).
pub const RETENTION_INTERVAL_MS: u64 = 60_000;
/// Rows one retention write job deletes at most (ours): a batch is one ordinary write job of
/// a few milliseconds, so the requests queued beside it wait no longer than for any write.
pub const RETENTION_BATCH_ROWS: u32 = 500;
/// Batches of one kind one pass runs at most (ours): a pass ends, and the next interval
/// takes up the rest, so a huge backlog is worked off steadily rather than in one burst.
pub const RETENTION_MAX_BATCHES_PER_PASS: u32 = 100;

/// How long what is done is kept (`docs/defaults.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Idempotency records, from when they were written; `None`: forever.
    pub idempotency_seconds: Option<i64>,
    /// Delivered notifications, from their delivery.
    pub delivered_notifications_seconds: i64,
    /// Jobs that ran, from when they ran.
    pub finished_jobs_seconds: i64,
}

impl Retention {
    pub const DEFAULT: Retention = Retention {
        idempotency_seconds: IDEMPOTENCY_RETENTION_SECONDS,
        delivered_notifications_seconds: DELIVERED_IPN_RETENTION_SECONDS,
        finished_jobs_seconds: FINISHED_JOB_RETENTION_SECONDS,
    };
}

/// How IPNs are delivered (product.md); tests shorten the delays.
#[derive(Debug, Clone)]
pub struct IpnDelivery {
    /// How long one attempt may take.
    pub timeout_ms: u64,
    /// The delay before each retry; the last repeats.
    pub retry_delays_ms: Vec<u64>,
    /// How long after the first attempt retries stop.
    pub retry_for_ms: u64,
    /// PEM certificates trusted for HTTPS endpoints besides the public roots (a receiver
    /// with a self-signed certificate).
    pub extra_root_certificates: Vec<Vec<u8>>,
}

impl Default for IpnDelivery {
    fn default() -> Self {
        IpnDelivery {
            timeout_ms: IPN_TIMEOUT_MS,
            retry_delays_ms: IPN_RETRY_DELAYS_MS.to_vec(),
            retry_for_ms: IPN_RETRY_FOR_MS,
            extra_root_certificates: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// HTTP listener; `None` disables it.
    pub listen: Option<SocketAddr>,
    /// HTTPS listener; `None` disables it.
    pub tls_listen: Option<SocketAddr>,
    /// `sqlite://PATH`; defaults to `amzpay.db` in the data directory.
    pub database: Option<String>,
    pub delays: SandboxDelays,
    /// The base URL buyers reach the server at (hosted pages, `amazonPayRedirectUrl`);
    /// defaults to the HTTP listener. IPNs' `SigningCertURL` points here too.
    pub public_url: Option<String>,
    pub ipn: IpnDelivery,
    pub retention: Retention,
}

impl Config {
    /// The zero-configuration defaults of `amzpay serve`.
    pub fn with_defaults() -> Config {
        Config {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            listen: Some(DEFAULT_LISTEN.parse().expect("valid default address")),
            tls_listen: Some(DEFAULT_TLS_LISTEN.parse().expect("valid default address")),
            database: None,
            delays: SandboxDelays::DEFAULT,
            public_url: None,
            ipn: IpnDelivery::default(),
            retention: Retention::DEFAULT,
        }
    }

    /// Where the SQLite file is.
    pub fn sqlite_path(&self) -> Result<PathBuf, String> {
        match &self.database {
            None => Ok(self.data_dir.join(DATABASE_FILE)),
            Some(url) => match url.strip_prefix("sqlite://") {
                Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
                _ if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                    Err("PostgreSQL is not supported yet; use sqlite://PATH".to_owned())
                }
                _ => Err(format!("unsupported --database '{url}'; use sqlite://PATH")),
            },
        }
    }
}
