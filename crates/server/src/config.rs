//! Server configuration, with the defaults of `product.md`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use amzpay_domain::Timestamp;
pub use amzpay_store::Database;

/// `x-amz-pay-date` may be at most this far in the future (product.md: 5 minutes).
pub const MAX_CLOCK_SKEW_FUTURE_SECONDS: i64 = 5 * 60;
/// ...and at most this far in the past (product.md: 15 minutes).
pub const MAX_REQUEST_AGE_SECONDS: i64 = 15 * 60;
/// Largest request body accepted. Amazon Pay bodies are a few kilobytes; the largest field,
/// `customInformation`, is 4,096 characters (ours).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// product.md ("Operating the server"): on SIGTERM the listeners stop accepting and what is in
/// flight has this long to finish; then every connection is closed, whatever clients do.
pub const SHUTDOWN_GRACE_SECONDS: u64 = 10;
/// product.md: a request's headers must arrive within 10 s of its first byte (of the
/// connection's start, for its first request), else the connection is closed.
pub const HEADER_READ_TIMEOUT_SECONDS: u64 = 10;
/// product.md: a request's body must arrive within 30 s of its headers, else it is answered
/// 408 `RequestTimeout` and the connection is closed.
pub const BODY_READ_TIMEOUT_SECONDS: u64 = 30;
/// product.md: a keep-alive connection with no request for 60 s is closed.
pub const IDLE_TIMEOUT_SECONDS: u64 = 60;
/// product.md: request headers (the request line included) over 16 KiB in all answer 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// product.md: at most 10,000 open connections per listener; beyond it the listener stops
/// accepting until one closes (the kernel's backlog holds the rest).
pub const MAX_CONNECTIONS_PER_LISTENER: usize = 10_000;
/// Requests being handled at once in the process, all listeners and tunnels together (ours):
/// beyond it a request is answered 503 `ServiceUnavailable` at once, before its body is
/// read. Far above what one machine's clients need; it bounds tasks and memory under a flood.
pub const MAX_IN_FLIGHT_REQUESTS: usize = 4_096;
/// The bytes of request bodies the API holds at once, read or being read, queued for the
/// writer or being written (ours): a body reserves its declared length (or
/// [`MAX_BODY_BYTES`] when it has none) before it is read and keeps it until its request is
/// answered; when the budget is spent the request is answered 503 `ServiceUnavailable`
/// without its body being read. 64 MiB is 256 bodies of the largest size, or some 60,000
/// of Amazon Pay's usual kilobyte.
pub const MAX_BODY_BYTES_IN_FLIGHT: usize = 64 * 1024 * 1024;
/// How long `/readyz` waits for the database's answer before saying it is not ready (ours).
pub const READINESS_TIMEOUT_MS: u64 = 2_000;

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
/// While the store fails, the worker's wait doubles from the poll interval up to this
/// (ours): a broken disk is not retried, and logged, twice a second for hours.
pub const WORKER_MAX_BACKOFF_MS: u64 = 30_000;
/// Transitions run in one transaction at most: bounds how long one batch holds the writer.
pub const MAX_JOBS_PER_TRANSACTION: u32 = 1_000;
/// The furthest one clock advance may move (100 years): a bound, not a use case.
pub const MAX_CLOCK_ADVANCE_SECONDS: i64 = 100 * 366 * 86_400;
/// The latest instant a sandbox clock may show, 9900-01-01T00:00:00Z (ours): an advance
/// past it answers `400 InvalidParameterValue` and leaves the clock where it was. Amazon's
/// timestamps (`YYYYMMDDTHHMMSSZ`) end with year 9999, and the longest time a rule adds to
/// the clock is 13 calendar months (a recurring permission's expiration; 180 days for a
/// one-time one, 30 days for an authorization, 24 hours of IPN retries): a century of
/// headroom keeps every instant they compute writable, even on a clock left running there.
pub const LATEST_SANDBOX_CLOCK: Timestamp = Timestamp::from_unix_seconds(250_246_627_200);

/// The longest a sandbox fault delays a request (product.md: at most 60,000 ms).
pub const MAX_FAULT_DELAY_MS: u32 = 60_000;
/// The most requests one fault applies to (ours): enough for any retry test, small enough
/// that a typo does not fail a merchant's sandbox for good.
pub const MAX_FAULT_COUNT: u32 = 1_000;
/// Active faults one merchant may have at once (ours): bounds the rows each of its requests
/// reads while it has any.
pub const MAX_ACTIVE_FAULTS_PER_MERCHANT: usize = 100;

/// How often an open dashboard page asks the server for what changed (ours): a developer
/// watching a checkout sees each change within a second; each poll is one read of the store.
pub const DASHBOARD_POLL_INTERVAL_MS: u32 = 1_000;
/// Rows of each object list on a merchant's dashboard page, newest first (ours): a page
/// a person reads; a search by id finds an older one.
pub const DASHBOARD_LIST_ROWS: u32 = 25;
/// The most rows of each object list a page shows when asked for more (ours): one read
/// of a bounded size, every second while the page is open.
pub const DASHBOARD_MAX_LIST_ROWS: u32 = 1_000;
/// Notifications shown on a merchant's dashboard page, newest first (ours).
pub const DASHBOARD_NOTIFICATIONS: u32 = 25;
/// Merchants listed on the dashboard's first page (ours).
pub const DASHBOARD_MERCHANTS: u32 = 500;
/// Timeline entries shown for one object (ours): far more changes than any object's life
/// in Amazon's state machines makes.
pub const DASHBOARD_TIMELINE_ENTRIES: u32 = 200;
/// The merchant's latest notifications searched for one object's (ours).
pub const DASHBOARD_OBJECT_NOTIFICATIONS_SCANNED: u32 = 1_000;
/// The longest search text and state name a dashboard filter takes (ours): ids and states
/// are far shorter.
pub const DASHBOARD_FILTER_MAX_CHARS: usize = 100;

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

/// What the listeners allow a client (product.md, "Operating the server"); tests shorten the
/// timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From a request's first byte to the end of its headers.
    pub header_read_timeout: Duration,
    /// From the end of a request's headers to the end of its body.
    pub body_read_timeout: Duration,
    /// From the end of a response to the next request's first byte.
    pub idle_timeout: Duration,
    /// The request line and headers, in bytes.
    pub max_header_bytes: usize,
    /// Open connections per listener.
    pub max_connections: usize,
    /// Requests being handled at once, in the process.
    pub max_in_flight_requests: usize,
    /// Bytes of API request bodies held at once, in the process.
    pub max_body_bytes_in_flight: usize,
    /// How long a stopping server lets what is in flight finish.
    pub shutdown_grace: Duration,
}

impl ConnectionLimits {
    pub const DEFAULT: ConnectionLimits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(HEADER_READ_TIMEOUT_SECONDS),
        body_read_timeout: Duration::from_secs(BODY_READ_TIMEOUT_SECONDS),
        idle_timeout: Duration::from_secs(IDLE_TIMEOUT_SECONDS),
        max_header_bytes: MAX_HEADER_BYTES,
        max_connections: MAX_CONNECTIONS_PER_LISTENER,
        max_in_flight_requests: MAX_IN_FLIGHT_REQUESTS,
        max_body_bytes_in_flight: MAX_BODY_BYTES_IN_FLIGHT,
        shutdown_grace: Duration::from_secs(SHUTDOWN_GRACE_SECONDS),
    };

    /// Refuses limits the server cannot honour.
    pub fn check(&self) -> Result<(), String> {
        // The listener takes all its connection permits at once (in a u32) when it drains.
        let most = u32::MAX as usize;
        if self.max_connections == 0 || self.max_connections > most {
            return Err(format!("the connection limit must be between 1 and {most}"));
        }
        if self.max_body_bytes_in_flight > tokio::sync::Semaphore::MAX_PERMITS {
            return Err(format!("the body budget must be at most {} bytes", tokio::sync::Semaphore::MAX_PERMITS));
        }
        if self.max_in_flight_requests == 0 {
            return Err("the in-flight request limit must be at least 1".to_owned());
        }
        if self.max_body_bytes_in_flight < MAX_BODY_BYTES {
            return Err(format!("the body budget must hold at least one body of {MAX_BODY_BYTES} bytes"));
        }
        if self.max_header_bytes < 1024 {
            return Err("the header limit must be at least 1 KiB".to_owned());
        }
        let timeouts = [self.header_read_timeout, self.body_read_timeout, self.idle_timeout];
        if timeouts.iter().any(Duration::is_zero) {
            return Err("timeouts must be longer than zero".to_owned());
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// HTTP listener; `None` disables it.
    pub listen: Option<SocketAddr>,
    /// HTTPS listener; `None` disables it.
    pub tls_listen: Option<SocketAddr>,
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`; defaults to `amzpay.db`
    /// in the data directory.
    pub database: Option<String>,
    pub delays: SandboxDelays,
    /// The base URL buyers reach the server at (hosted pages, `amazonPayRedirectUrl`);
    /// defaults to the HTTP listener. IPNs' `SigningCertURL` points here too.
    pub public_url: Option<String>,
    /// What operator endpoints (`/metrics`) require as `Authorization: Bearer`; `None`: they
    /// answer loopback clients only (`admin`).
    pub admin_token: Option<crate::admin::AdminToken>,
    pub ipn: IpnDelivery,
    pub limits: ConnectionLimits,
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
            admin_token: None,
            ipn: IpnDelivery::default(),
            limits: ConnectionLimits::DEFAULT,
            retention: Retention::DEFAULT,
        }
    }

    /// Which database: `sqlite://PATH`, `postgres://...` (or `postgresql://...`), or by
    /// default `amzpay.db` in the data directory.
    pub fn database_location(&self) -> Result<Database, String> {
        match &self.database {
            None => Ok(Database::Sqlite(self.data_dir.join(DATABASE_FILE))),
            Some(url) => match url.strip_prefix("sqlite://") {
                Some(path) if !path.is_empty() => Ok(Database::Sqlite(PathBuf::from(path))),
                _ if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                    amzpay_store::postgres::parse_url(url).map_err(|error| error.to_string())?;
                    Ok(Database::Postgres(url.clone()))
                }
                // The URL may hold a password: name only its scheme.
                _ => Err(format!(
                    "unsupported --database '{}://...'; use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB",
                    url.split("://").next().unwrap_or_default()
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use amzpay_api::format::format_timestamp;
    use amzpay_domain::limits;

    use super::*;

    /// Every instant a rule computes from a clock at its bound is one Amazon's format writes.
    #[test]
    fn the_sandbox_clock_bound_leaves_room_for_every_duration_the_rules_add() {
        assert_eq!(format_timestamp(LATEST_SANDBOX_CLOCK), "99000101T000000Z");
        let bound = LATEST_SANDBOX_CLOCK;
        let latest = [
            bound.plus_months(limits::EXTENDED_LIFETIME_MONTHS),
            bound.checked_plus_seconds(limits::ONE_TIME_PERMISSION_LIFETIME_SECONDS),
            bound.checked_plus_seconds(limits::AUTHORIZATION_LIFETIME_SECONDS),
            bound.checked_plus_seconds(limits::CHECKOUT_SESSION_LIFETIME_SECONDS),
            bound.checked_plus_seconds((IPN_RETRY_FOR_MS / 1_000) as i64),
        ];
        for (n, instant) in latest.into_iter().enumerate() {
            let instant = instant.unwrap_or_else(|| panic!("duration {n} passes year 9999"));
            assert!(format_timestamp(instant).starts_with("990"), "{n}: {}", format_timestamp(instant));
        }
    }

    #[test]
    fn the_default_limits_hold_and_impossible_ones_are_refused() {
        assert_eq!(ConnectionLimits::DEFAULT.check(), Ok(()));
        let impossible: [fn(&mut ConnectionLimits); 5] = [
            |l| l.max_connections = 0,
            |l| l.max_in_flight_requests = 0,
            |l| l.max_body_bytes_in_flight = MAX_BODY_BYTES - 1,
            |l| l.header_read_timeout = Duration::ZERO,
            |l| l.max_header_bytes = 100,
        ];
        for change in impossible {
            let mut limits = ConnectionLimits::DEFAULT;
            change(&mut limits);
            assert!(limits.check().is_err(), "{limits:?}");
        }
    }
}
