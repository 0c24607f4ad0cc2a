//! Client configuration, shaped like the official SDKs' (spec §13): region, environment,
//! key and algorithm, where requests go, timeouts, the retry policy and how to wait between
//! retries.
//!
//! The private key never shows in `Debug` output. Nothing here sends a request; the only IO
//! is reading a key file when asked to.

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use amzpay_signing::{Algorithm, PrivateKey};
pub use amzpay_types::{Environment, Region};

use crate::error::{Error, Result};

/// Where requests go when no service URL is set: `https://` + the region's host.
pub fn region_host(region: Region) -> &'static str {
    region.host()
}

/// Reads a region the way the official SDKs accept it: `na`/`us`, `eu`/`de`/`uk`, `jp`, in
/// any case.
pub fn parse_region(text: &str) -> Result<Region> {
    Region::from_alias(text)
        .ok_or_else(|| Error::Config(format!("unknown region '{text}'; use na, us, eu, de, uk or jp")))
}

/// Loads a private key from PEM text (PKCS#1 or PKCS#8).
pub fn private_key_from_pem(pem: &str) -> Result<PrivateKey> {
    amzpay_signing::parse_private_key_pem(pem).map_err(|e| Error::Config(e.to_string()))
}

/// Loads a private key from a PEM file (PKCS#1 or PKCS#8).
pub fn private_key_from_file(path: impl AsRef<Path>) -> Result<PrivateKey> {
    let path = path.as_ref();
    let pem = std::fs::read_to_string(path).map_err(|e| Error::Config(format!("reading {}: {e}", path.display())))?;
    private_key_from_pem(&pem)
}

/// A service URL override: `localhost:8443` (HTTPS, as the official SDKs' override), or a
/// full `http://127.0.0.1:8080` / `https://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUrl {
    scheme: &'static str,
    authority: String,
}

impl ServiceUrl {
    /// Parses an override.
    pub fn parse(text: &str) -> Result<ServiceUrl> {
        let text = text.trim().trim_end_matches('/');
        let (scheme, authority) = match text.split_once("://") {
            Some(("https", rest)) => ("https", rest),
            Some(("http", rest)) => ("http", rest),
            Some((other, _)) => return Err(Error::Config(format!("unsupported scheme '{other}' in the service URL"))),
            None => ("https", text),
        };
        if authority.is_empty() || authority.contains('/') {
            return Err(Error::Config(format!(
                "the service URL '{text}' must be a host, host:port or scheme://host:port"
            )));
        }
        Ok(ServiceUrl { scheme, authority: authority.to_owned() })
    }

    /// `host[:port]`, as sent in `x-amz-pay-host`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// `scheme://host[:port]`.
    pub fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }
}

/// How failed calls are retried: on 408, 425, 429, 5xx and transport failures, with
/// exponential backoff and jitter, honoring `Retry-After`, at most `max_retries` times.
/// Which calls are retried at all is the call's business: reads and calls with an
/// idempotency key (see [`crate::Call`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (the official SDKs: 3).
    pub max_retries: u32,
    /// The first backoff; each retry doubles it (the official SDKs: about 2, 4, 8 s).
    pub base_delay: Duration,
    /// No single wait is longer, whatever the backoff or `Retry-After` says.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy { max_retries: 0, base_delay: Duration::ZERO, max_delay: Duration::ZERO }
    }

    /// The wait before retry number `retry` (1-based): `base * 2^(retry-1)`, with jitter
    /// drawn from its upper half, capped at `max_delay`; a `Retry-After` longer than that
    /// is honored up to `max_delay`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let exponential = self.base_delay.saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)));
        let capped = exponential.min(self.max_delay);
        let jittered = capped.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        match retry_after {
            Some(after) => after.max(jittered).min(self.max_delay),
            None => jittered,
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy { max_retries: 3, base_delay: Duration::from_secs(2), max_delay: Duration::from_secs(30) }
    }
}

/// Waits between retries. The default uses tokio's timer; tests and other runtimes can
/// supply their own.
pub trait Sleeper: Send + Sync {
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// Sleeps with `tokio::time::sleep`.
#[derive(Debug, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Everything a [`crate::Client`] needs.
///
/// ```
/// use amzpay_sdk::{Algorithm, Config, Environment, Region};
/// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec/vectors/test-key.pem")).unwrap();
/// let key = amzpay_sdk::config::private_key_from_pem(&pem).unwrap();
/// let config = Config::new(Region::Na, Environment::Sandbox, "SANDBOX-AFVX7ULWSGBZ5535PCUQOY7B", key)
///     .algorithm(Algorithm::V2)
///     .service_url("localhost:8443").unwrap();
/// // Secrets never show in Debug output.
/// assert!(!format!("{config:?}").contains("PRIVATE"));
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) region: Region,
    pub(crate) environment: Environment,
    pub(crate) public_key_id: String,
    pub(crate) private_key: PrivateKey,
    pub(crate) algorithm: Algorithm,
    pub(crate) service_url: Option<ServiceUrl>,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) root_certificates: Vec<Vec<u8>>,
    pub(crate) accept_invalid_certs: bool,
    pub(crate) sleeper: Arc<dyn Sleeper>,
}

/// The default request timeout: Amazon answers synchronous authorizations within 15 s
/// (30 s in Japan), so a little more than that.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(40);
/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Config {
    /// A configuration with the defaults: algorithm `AMZN-PAY-RSASSA-PSS-V2` (the one
    /// Amazon's current samples use; salt length equal to the SHA-256 output, the usual PSS
    /// choice), the region's Amazon host, [`DEFAULT_TIMEOUT`], [`RetryPolicy::default`].
    ///
    /// `environment` chooses the path segment for keys without a `SANDBOX-`/`LIVE-` prefix;
    /// prefixed keys choose their environment themselves.
    pub fn new(
        region: Region,
        environment: Environment,
        public_key_id: impl Into<String>,
        private_key: PrivateKey,
    ) -> Config {
        Config {
            region,
            environment,
            public_key_id: public_key_id.into(),
            private_key,
            algorithm: Algorithm::V2,
            service_url: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
            root_certificates: Vec::new(),
            accept_invalid_certs: false,
            sleeper: Arc::new(TokioSleeper),
        }
    }

    /// Signs with this algorithm.
    pub fn algorithm(mut self, algorithm: Algorithm) -> Config {
        self.algorithm = algorithm;
        self
    }

    /// Sends requests to this host instead of Amazon's (an amzpay server, a proxy).
    pub fn service_url(mut self, url: &str) -> Result<Config> {
        self.service_url = Some(ServiceUrl::parse(url)?);
        Ok(self)
    }

    /// Gives up on one attempt after this long.
    pub fn timeout(mut self, timeout: Duration) -> Config {
        self.timeout = timeout;
        self
    }

    /// Gives up connecting after this long.
    pub fn connect_timeout(mut self, timeout: Duration) -> Config {
        self.connect_timeout = timeout;
        self
    }

    /// Retries as this policy says.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Config {
        self.retry = retry;
        self
    }

    /// Trusts this PEM certificate too (e.g. amzpay's `tls-cert.pem`).
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Config {
        self.root_certificates.push(pem.into());
        self
    }

    /// Accepts any TLS certificate, as the official Node.js SDK does with an override.
    /// Only for local testing.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Config {
        self.accept_invalid_certs = accept;
        self
    }

    /// Waits between retries with this sleeper.
    pub fn sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Config {
        self.sleeper = sleeper;
        self
    }

    /// The environment requests go to: the key's prefix decides, else the configured one.
    pub fn effective_environment(&self) -> Environment {
        Environment::of_public_key_id(&self.public_key_id).unwrap_or(self.environment)
    }

    /// The public key id.
    pub fn public_key_id(&self) -> &str {
        &self.public_key_id
    }

    /// The region.
    pub fn region(&self) -> Region {
        self.region
    }

    /// `x-amz-pay-host` and the base URL.
    pub(crate) fn endpoint(&self) -> (String, String) {
        match &self.service_url {
            Some(url) => (url.authority().to_owned(), url.base()),
            None => (self.region.host().to_owned(), format!("https://{}", self.region.host())),
        }
    }

    /// The path of an API resource: `/v2/...` for prefixed keys, `/{env}/v2/...` otherwise.
    pub fn resource_path(&self, fragment: &str) -> String {
        match Environment::of_public_key_id(&self.public_key_id) {
            Some(_) => format!("/v2/{fragment}"),
            None => format!("/{}/v2/{fragment}", self.environment.path_segment()),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("region", &self.region)
            .field("environment", &self.environment)
            .field("public_key_id", &self.public_key_id)
            .field("private_key", &"<redacted>")
            .field("algorithm", &self.algorithm)
            .field("service_url", &self.service_url)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_urls_default_to_https() {
        assert_eq!(ServiceUrl::parse("localhost:8443").unwrap().base(), "https://localhost:8443");
        assert_eq!(ServiceUrl::parse("http://127.0.0.1:8080/").unwrap().base(), "http://127.0.0.1:8080");
        assert_eq!(ServiceUrl::parse("http://127.0.0.1:8080").unwrap().authority(), "127.0.0.1:8080");
        assert!(ServiceUrl::parse("ftp://x").is_err());
        assert!(ServiceUrl::parse("https://x/path").is_err());
    }

    #[test]
    fn backoff_doubles_is_capped_and_honors_retry_after() {
        let policy =
            RetryPolicy { max_retries: 5, base_delay: Duration::from_secs(2), max_delay: Duration::from_secs(10) };
        assert_eq!(policy.delay(1, None, 1.0), Duration::from_secs(2));
        assert_eq!(policy.delay(2, None, 1.0), Duration::from_secs(4));
        assert_eq!(policy.delay(3, None, 1.0), Duration::from_secs(8));
        assert_eq!(policy.delay(4, None, 1.0), Duration::from_secs(10));
        assert_eq!(policy.delay(2, None, 0.0), Duration::from_secs(2), "jitter takes at most half");
        assert_eq!(policy.delay(1, Some(Duration::from_secs(7)), 1.0), Duration::from_secs(7));
        assert_eq!(policy.delay(1, Some(Duration::from_secs(70)), 1.0), Duration::from_secs(10));
    }

    #[test]
    fn regions_and_key_prefixes() {
        assert_eq!(parse_region("US").unwrap(), Region::Na);
        assert_eq!(parse_region("uk").unwrap(), Region::Eu);
        assert!(parse_region("fe").is_err());
    }
}
