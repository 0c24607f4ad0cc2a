//! Instant Payment Notifications (spec §10): Amazon posts an Amazon SNS envelope whose
//! `Message` names the object that changed. Verify the envelope's signature, then read
//! the message and GET the object it names.
//!
//! It never fetches a certificate from a URL it was not told to trust (Amazon SNS, or a
//! prefix the caller adds), never follows a redirect away from one, never reads more than
//! [`MAX_CERTIFICATE_BYTES`] of a certificate nor waits longer than its timeout for one,
//! and never returns a message whose signature did not verify.
//!
//! ```no_run
//! # async fn handle(body: &str) -> Result<(), amzpay_sdk::ipn::IpnError> {
//! use amzpay_sdk::ipn::IpnVerifier;
//! let verifier = IpnVerifier::new(); // trusts https://sns.*.amazonaws.com certificates
//! let message = verifier.verify(body).await?;
//! println!("{} {} changed", message.object_type, message.object_id);
//! # Ok(()) }
//! ```
//!
//! Against an amzpay server, trust the certificate it serves under `<base>/sns/` too:
//!
//! ```no_run
//! # async fn handle(body: &str) -> Result<(), amzpay_sdk::ipn::IpnError> {
//! use amzpay_sdk::ipn::IpnVerifier;
//! let verifier = IpnVerifier::new().trust_amzpay_server("http://127.0.0.1:8080");
//! let message = verifier.verify(body).await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use openssl::sign::Verifier;
use openssl::x509::X509;
use serde::{Deserialize, Serialize};

/// An RSA public key, as a signing certificate carries it.
type RsaPublicKey = PKey<Public>;

/// Why a notification was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IpnError {
    /// The body is not an SNS envelope.
    #[error("not an SNS envelope: {0}")]
    Envelope(String),
    /// The signing certificate URL is not one this verifier trusts.
    #[error("untrusted SigningCertURL '{0}'")]
    UntrustedCertificateUrl(String),
    /// The certificate could not be fetched or read.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The certificate is larger than [`MAX_CERTIFICATE_BYTES`]; the download stopped there.
    #[error("the certificate at '{url}' is larger than {limit_bytes} bytes")]
    CertificateTooLarge {
        /// The `SigningCertURL`.
        url: String,
        /// The bound it crossed.
        limit_bytes: usize,
    },
    /// The certificate did not arrive, whole, within the verifier's timeout.
    #[error("the certificate at '{url}' did not arrive within {timeout:?}")]
    CertificateTimeout {
        /// The `SigningCertURL`.
        url: String,
        /// The timeout it exceeded ([`IpnVerifier::certificate_timeout`]).
        timeout: Duration,
    },
    /// The signature does not verify.
    #[error("the SNS signature does not verify")]
    BadSignature,
    /// The message inside is not an Amazon Pay notification.
    #[error("not an Amazon Pay message: {0}")]
    Message(String),
}

/// The SNS envelope Amazon posts (`content-type: text/plain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SnsEnvelope {
    /// The SNS message type (`Notification`).
    #[serde(rename = "Type")]
    pub kind: String,
    /// The SNS message id.
    pub message_id: String,
    /// The SNS topic.
    pub topic_arn: String,
    /// The SNS subject, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The Amazon Pay message, as a JSON string.
    pub message: String,
    /// When SNS sent it.
    pub timestamp: String,
    /// `1` (SHA1withRSA) or `2` (SHA256withRSA).
    pub signature_version: String,
    /// The base64 signature.
    pub signature: String,
    /// Where the signing certificate is.
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: String,
    /// Where to unsubscribe.
    #[serde(rename = "UnsubscribeURL", default)]
    pub unsubscribe_url: Option<String>,
}

/// The Amazon Pay message inside the envelope. It carries no state: GET the object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct IpnMessage {
    /// Your merchant id.
    #[serde(rename = "MerchantID")]
    pub merchant_id: String,
    /// `CHARGE_PERMISSION`, `CHARGE`, `REFUND` or `CHARGEBACK`.
    pub object_type: String,
    /// The id of the object that changed.
    pub object_id: String,
    /// The Charge Permission id (`S01-5105180-3221187`).
    pub charge_permission_id: String,
    /// `STATE_CHANGE` or `ATTRIBUTE_CHANGE`.
    pub notification_type: String,
    /// The notification id (duplicates share it).
    pub notification_id: String,
    /// `V2`.
    pub notification_version: String,
}

impl SnsEnvelope {
    /// Reads an envelope.
    pub fn parse(body: &str) -> Result<SnsEnvelope, IpnError> {
        serde_json::from_str(body).map_err(|e| IpnError::Envelope(e.to_string()))
    }

    /// SNS signature version 1 and 2: `Key\nValue\n` for Message, MessageId, Subject (if
    /// present), Timestamp, TopicArn, Type.
    pub fn string_to_sign(&self) -> String {
        amzpay_signing::sns_string_to_sign(&amzpay_signing::SnsSignedFields {
            message: &self.message,
            message_id: &self.message_id,
            subject: self.subject.as_deref(),
            timestamp: &self.timestamp,
            topic_arn: &self.topic_arn,
            kind: &self.kind,
        })
    }

    /// Verifies the signature with the signing certificate (PEM): SHA1withRSA for version 1,
    /// SHA256withRSA for version 2.
    pub fn verify_with_certificate(&self, certificate_pem: &str) -> Result<(), IpnError> {
        self.verify_with_key(&public_key_of_certificate(certificate_pem)?)
    }

    fn verify_with_key(&self, key: &RsaPublicKey) -> Result<(), IpnError> {
        let signature = BASE64.decode(self.signature.trim()).map_err(|_| IpnError::BadSignature)?;
        let digest = match self.signature_version.as_str() {
            "1" => MessageDigest::sha1(),
            "2" => MessageDigest::sha256(),
            other => return Err(IpnError::Envelope(format!("unsupported SignatureVersion '{other}'"))),
        };
        // PKCS#1 v1.5, an RSA key's default padding. A signature of the wrong length is an
        // error rather than `false`: both are a bad signature.
        let verified = Verifier::new(digest, key)
            .and_then(|mut verifier| verifier.verify_oneshot(&signature, self.string_to_sign().as_bytes()));
        match verified {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(IpnError::BadSignature),
        }
    }

    /// The Amazon Pay message.
    pub fn message(&self) -> Result<IpnMessage, IpnError> {
        serde_json::from_str(&self.message).map_err(|e| IpnError::Message(e.to_string()))
    }
}

/// The RSA public key of a PEM X.509 certificate.
fn public_key_of_certificate(certificate_pem: &str) -> Result<RsaPublicKey, IpnError> {
    let certificate = X509::from_pem(certificate_pem.as_bytes()).map_err(|e| IpnError::Certificate(e.to_string()))?;
    let key = certificate.public_key().map_err(|e| IpnError::Certificate(e.to_string()))?;
    if key.rsa().is_err() {
        return Err(IpnError::Certificate(format!("not an RSA key: {:?}", key.id())));
    }
    Ok(key)
}

/// The largest signing certificate read, counted while it downloads: real ones are about
/// 2 KB, and a URL that streams more is not serving a certificate. Reading stops at the
/// first byte past it, so a hostile or broken server cannot make a receiver buffer
/// without end.
pub const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;

/// How long a certificate may take to arrive whole (connecting, headers and body) unless
/// [`IpnVerifier::certificate_timeout`] says otherwise. A receiver fetches it while the
/// sender waits for its answer, and amzpay counts a delivery as failed after 10 s: half
/// of that leaves time to verify and answer.
pub const DEFAULT_CERTIFICATE_TIMEOUT: Duration = Duration::from_secs(5);

/// Signing keys cached per certificate URL, bounded: Amazon rotates a handful, and a
/// receiver trusts few URLs. When full, the cache starts over rather than growing.
const CERTIFICATE_CACHE_CAPACITY: usize = 64;

/// Where amzpay serves its SNS signing certificate, under the server's base URL.
const AMZPAY_CERTIFICATE_PATH_PREFIX: &str = "/sns/";

/// Fetches and caches signing certificates, and verifies envelopes with them.
///
/// Which certificate URLs it fetches: Amazon SNS's
/// (`https://sns.<region>.amazonaws.com/....pem`), and those under a prefix it is told to
/// trust ([`IpnVerifier::trust_certificate_url_prefix`],
/// [`IpnVerifier::trust_amzpay_server`]). Each fetch is bounded in size
/// ([`MAX_CERTIFICATE_BYTES`]) and time ([`IpnVerifier::certificate_timeout`]), and
/// follows no redirect.
#[derive(Debug)]
pub struct IpnVerifier {
    http: reqwest::Client,
    root_certificates: Vec<reqwest::Certificate>,
    trusted_prefixes: Vec<reqwest::Url>,
    trust_amazon: bool,
    certificate_timeout: Duration,
    cache: Mutex<HashMap<String, RsaPublicKey>>,
}

impl Default for IpnVerifier {
    fn default() -> Self {
        IpnVerifier::new()
    }
}

/// The HTTP client certificates are fetched with: no redirects, since a trusted URL that
/// redirects would lead the fetch to one that is not.
fn certificate_client(root_certificates: &[reqwest::Certificate]) -> Result<reqwest::Client, IpnError> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("amzpay-sdk-rust/", env!("CARGO_PKG_VERSION")));
    for certificate in root_certificates {
        builder = builder.add_root_certificate(certificate.clone());
    }
    builder.build().map_err(|e| IpnError::Certificate(e.to_string()))
}

impl IpnVerifier {
    /// Trusts certificates served by Amazon SNS: `https://sns.<region>.amazonaws.com/...pem`.
    pub fn new() -> IpnVerifier {
        IpnVerifier {
            // Building a client without extra roots fails only if the TLS backend cannot
            // start, where `reqwest::Client::new()` panics too.
            http: certificate_client(&[]).expect("an HTTP client without extra root certificates"),
            root_certificates: Vec::new(),
            trusted_prefixes: Vec::new(),
            trust_amazon: true,
            certificate_timeout: DEFAULT_CERTIFICATE_TIMEOUT,
            cache: Mutex::default(),
        }
    }

    /// Also trusts certificates whose URL lies under this prefix (for an amzpay server,
    /// e.g. `https://localhost:8443/sns/`): the same scheme, host and port, and a path
    /// that starts with the prefix's path at a segment boundary (`/sns` covers `/sns/x.pem`,
    /// not `/snsx.pem`). URLs are compared after normalization, so `/sns/../x.pem` is not
    /// under `/sns/`. A prefix that is not an absolute `http` or `https` URL trusts nothing.
    pub fn trust_certificate_url_prefix(mut self, prefix: &str) -> IpnVerifier {
        if let Ok(url) = reqwest::Url::parse(prefix.trim()) {
            let web = matches!(url.scheme(), "http" | "https");
            if web && url.host().is_some() && url.username().is_empty() && url.password().is_none() {
                self.trusted_prefixes.push(url);
            }
        }
        self
    }

    /// Also trusts the certificate an amzpay server serves: everything under
    /// `<base_url>/sns/` (its `SigningCertURL` is `<base_url>/sns/amzpay-sns.pem`).
    /// `base_url` is the server's public base URL (`http://127.0.0.1:8080`, or what it was
    /// started with as `--public-url`).
    pub fn trust_amzpay_server(self, base_url: &str) -> IpnVerifier {
        let prefix = format!("{}{AMZPAY_CERTIFICATE_PATH_PREFIX}", base_url.trim().trim_end_matches('/'));
        self.trust_certificate_url_prefix(&prefix)
    }

    /// Gives up on a certificate that has not arrived whole after this long (default
    /// [`DEFAULT_CERTIFICATE_TIMEOUT`]).
    pub fn certificate_timeout(mut self, timeout: Duration) -> IpnVerifier {
        self.certificate_timeout = timeout;
        self
    }

    /// Also trusts this PEM certificate when fetching signing certificates over HTTPS (e.g.
    /// amzpay's `tls-cert.pem`, for a server with a self-signed certificate).
    pub fn root_certificate_pem(mut self, pem: &[u8]) -> Result<IpnVerifier, IpnError> {
        // The HTTP library reads PEM leniently; read it strictly first so a wrong file is
        // refused here rather than ignored.
        X509::from_pem(pem).map_err(|e| IpnError::Certificate(format!("bad root certificate: {e}")))?;
        let certificate = reqwest::Certificate::from_pem(pem)
            .map_err(|e| IpnError::Certificate(format!("bad root certificate: {e}")))?;
        self.root_certificates.push(certificate);
        self.http = certificate_client(&self.root_certificates)?;
        Ok(self)
    }

    /// Whether a `SigningCertURL` may be fetched.
    pub fn is_trusted(&self, url: &str) -> bool {
        self.trusted_url(url).is_some()
    }

    /// The URL to fetch, normalized, if it is trusted.
    fn trusted_url(&self, url: &str) -> Option<reqwest::Url> {
        let url = reqwest::Url::parse(url).ok()?;
        if !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        let trusted = self.trusted_prefixes.iter().any(|prefix| is_under(&url, prefix))
            || (self.trust_amazon && is_amazon_sns_certificate(&url));
        trusted.then_some(url)
    }

    /// The signing key of a trusted certificate URL, from the cache or fetched.
    async fn signing_key(&self, url: &reqwest::Url) -> Result<RsaPublicKey, IpnError> {
        if let Some(key) = self.cache.lock().expect("certificate cache").get(url.as_str()) {
            return Ok(key.clone());
        }
        let body = self.download_certificate(url).await?;
        let pem = std::str::from_utf8(&body)
            .map_err(|_| IpnError::Certificate(format!("{url} did not serve a PEM certificate")))?;
        let key = public_key_of_certificate(pem)?;
        let mut cache = self.cache.lock().expect("certificate cache");
        if cache.len() >= CERTIFICATE_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(url.as_str().to_owned(), key.clone());
        Ok(key)
    }

    /// Downloads a certificate, refusing it as soon as it grows past
    /// [`MAX_CERTIFICATE_BYTES`], and giving up after the timeout.
    async fn download_certificate(&self, url: &reqwest::Url) -> Result<Vec<u8>, IpnError> {
        let too_large = || IpnError::CertificateTooLarge { url: url.to_string(), limit_bytes: MAX_CERTIFICATE_BYTES };
        let fetch = async {
            let failed = |e: reqwest::Error| IpnError::Certificate(format!("fetching {url}: {e}"));
            let mut response = self.http.get(url.clone()).send().await.map_err(failed)?;
            if !response.status().is_success() {
                return Err(IpnError::Certificate(format!("{url} answered {}", response.status())));
            }
            let declared_too_large = response
                .content_length()
                .is_some_and(|length| usize::try_from(length).map_or(true, |n| n > MAX_CERTIFICATE_BYTES));
            if declared_too_large {
                return Err(too_large());
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(failed)? {
                if body.len() + chunk.len() > MAX_CERTIFICATE_BYTES {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        tokio::time::timeout(self.certificate_timeout, fetch)
            .await
            .map_err(|_| IpnError::CertificateTimeout { url: url.to_string(), timeout: self.certificate_timeout })?
    }

    /// Verifies a posted body and returns its Amazon Pay message. The certificate URL is
    /// checked before anything is fetched.
    pub async fn verify(&self, body: &str) -> Result<IpnMessage, IpnError> {
        let envelope = SnsEnvelope::parse(body)?;
        if envelope.kind != "Notification" {
            return Err(IpnError::Envelope(format!("Type '{}' is not Notification", envelope.kind)));
        }
        let Some(url) = self.trusted_url(&envelope.signing_cert_url) else {
            return Err(IpnError::UntrustedCertificateUrl(envelope.signing_cert_url));
        };
        let key = self.signing_key(&url).await?;
        envelope.verify_with_key(&key)?;
        envelope.message()
    }
}

/// Whether `url` lies under `prefix`: the same origin, and the prefix's path at a segment
/// boundary.
fn is_under(url: &reqwest::Url, prefix: &reqwest::Url) -> bool {
    let same_origin = url.scheme() == prefix.scheme()
        && url.host() == prefix.host()
        && url.port_or_known_default() == prefix.port_or_known_default();
    let (path, prefix_path) = (url.path(), prefix.path());
    let path_under = if prefix_path.ends_with('/') {
        path.starts_with(prefix_path)
    } else {
        path.strip_prefix(prefix_path).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    same_origin && path_under
}

/// Whether `url` is an Amazon SNS signing certificate: `https`, the default port, host
/// `sns.<region>.amazonaws.com` (or `.amazonaws.com.cn`), a `.pem` path. The host pattern
/// is the one AWS's own SNS message validators use.
fn is_amazon_sns_certificate(url: &reqwest::Url) -> bool {
    let region = url
        .host_str()
        .and_then(|host| host.strip_prefix("sns."))
        .and_then(|rest| rest.strip_suffix(".amazonaws.com").or_else(|| rest.strip_suffix(".amazonaws.com.cn")));
    let region_ok =
        region.is_some_and(|region| region.len() >= 3 && region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    url.scheme() == "https" && url.port().is_none() && region_ok && url.path().ends_with(".pem")
}
