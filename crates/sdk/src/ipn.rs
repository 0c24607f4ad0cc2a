//! Instant Payment Notifications (spec §10): Amazon posts an Amazon SNS envelope whose
//! `Message` names the object that changed. Verify the envelope's signature, then read
//! the message and GET the object it names.
//!
//! It never fetches a certificate from a URL it was not told to trust (Amazon SNS, or a
//! prefix the caller adds), and never returns a message whose signature did not verify.
//!
//! ```no_run
//! # async fn handle(body: &str) -> Result<(), amzpay_sdk::ipn::IpnError> {
//! use amzpay_sdk::ipn::IpnVerifier;
//! let verifier = IpnVerifier::new(); // trusts https://sns.*.amazonaws.com certificates
//! let message = verifier.verify(body).await?;
//! println!("{} {} changed", message.object_type, message.object_id);
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier as _;
use serde::{Deserialize, Serialize};
use x509_cert::der::{DecodePem, Encode};

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
        let mut text = format!("Message\n{}\nMessageId\n{}\n", self.message, self.message_id);
        if let Some(subject) = &self.subject {
            text.push_str(&format!("Subject\n{subject}\n"));
        }
        text.push_str(&format!("Timestamp\n{}\nTopicArn\n{}\nType\n{}\n", self.timestamp, self.topic_arn, self.kind));
        text
    }

    /// Verifies the signature with the signing certificate (PEM): SHA1withRSA for version 1,
    /// SHA256withRSA for version 2.
    pub fn verify_with_certificate(&self, certificate_pem: &str) -> Result<(), IpnError> {
        let certificate =
            x509_cert::Certificate::from_pem(certificate_pem).map_err(|e| IpnError::Certificate(e.to_string()))?;
        let spki = certificate
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| IpnError::Certificate(e.to_string()))?;
        let key = RsaPublicKey::from_public_key_der(&spki)
            .map_err(|e| IpnError::Certificate(format!("not an RSA key: {e}")))?;
        let signature_bytes = BASE64.decode(self.signature.trim()).map_err(|_| IpnError::BadSignature)?;
        let signature =
            rsa::pkcs1v15::Signature::try_from(signature_bytes.as_slice()).map_err(|_| IpnError::BadSignature)?;
        let to_sign = self.string_to_sign();
        let verified = match self.signature_version.as_str() {
            "1" => rsa::pkcs1v15::VerifyingKey::<sha1::Sha1>::new(key).verify(to_sign.as_bytes(), &signature),
            "2" => rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(key).verify(to_sign.as_bytes(), &signature),
            other => return Err(IpnError::Envelope(format!("unsupported SignatureVersion '{other}'"))),
        };
        verified.map_err(|_| IpnError::BadSignature)
    }

    /// The Amazon Pay message.
    pub fn message(&self) -> Result<IpnMessage, IpnError> {
        serde_json::from_str(&self.message).map_err(|e| IpnError::Message(e.to_string()))
    }
}

/// Largest certificate accepted: real ones are about 2 KB.
const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;
/// Certificates cached per URL, bounded: Amazon rotates a handful.
const CERTIFICATE_CACHE_CAPACITY: usize = 64;

/// Fetches and caches signing certificates, and verifies envelopes with them.
pub struct IpnVerifier {
    http: reqwest::Client,
    root_certificates: Vec<reqwest::Certificate>,
    trusted_prefixes: Vec<String>,
    trust_amazon: bool,
    cache: Mutex<HashMap<String, String>>,
}

impl Default for IpnVerifier {
    fn default() -> Self {
        IpnVerifier::new()
    }
}

impl IpnVerifier {
    /// Trusts certificates served by Amazon SNS: `https://sns.<region>.amazonaws.com/...pem`.
    pub fn new() -> IpnVerifier {
        IpnVerifier {
            http: reqwest::Client::new(),
            root_certificates: Vec::new(),
            trusted_prefixes: Vec::new(),
            trust_amazon: true,
            cache: Mutex::default(),
        }
    }

    /// Also trusts certificates whose URL starts with this prefix (for an amzpay server,
    /// e.g. `https://localhost:8443/`).
    pub fn trust_certificate_url_prefix(mut self, prefix: &str) -> IpnVerifier {
        self.trusted_prefixes.push(prefix.to_owned());
        self
    }

    /// Also trusts this PEM certificate when fetching signing certificates over HTTPS (e.g.
    /// amzpay's `tls-cert.pem`, for a server with a self-signed certificate).
    pub fn root_certificate_pem(mut self, pem: &[u8]) -> Result<IpnVerifier, IpnError> {
        // The HTTP library reads PEM leniently; read it strictly first so a wrong file is
        // refused here rather than ignored.
        x509_cert::Certificate::from_pem(pem)
            .map_err(|e| IpnError::Certificate(format!("bad root certificate: {e}")))?;
        let certificate = reqwest::Certificate::from_pem(pem)
            .map_err(|e| IpnError::Certificate(format!("bad root certificate: {e}")))?;
        self.root_certificates.push(certificate);
        let mut builder = reqwest::Client::builder();
        for certificate in &self.root_certificates {
            builder = builder.add_root_certificate(certificate.clone());
        }
        self.http = builder.build().map_err(|e| IpnError::Certificate(e.to_string()))?;
        Ok(self)
    }

    /// Whether a `SigningCertURL` may be fetched.
    pub fn is_trusted(&self, url: &str) -> bool {
        if self.trusted_prefixes.iter().any(|prefix| url.starts_with(prefix.as_str())) {
            return true;
        }
        if !self.trust_amazon {
            return false;
        }
        let Some(rest) = url.strip_prefix("https://") else { return false };
        let host = rest.split('/').next().unwrap_or("");
        host.starts_with("sns.") && host.ends_with(".amazonaws.com") && !host.contains('@') && rest.ends_with(".pem")
    }

    async fn certificate(&self, url: &str) -> Result<String, IpnError> {
        if let Some(pem) = self.cache.lock().expect("certificate cache").get(url) {
            return Ok(pem.clone());
        }
        let response = self.http.get(url).send().await.map_err(|e| IpnError::Certificate(e.to_string()))?;
        if !response.status().is_success() {
            return Err(IpnError::Certificate(format!("{url} answered {}", response.status())));
        }
        let bytes = response.bytes().await.map_err(|e| IpnError::Certificate(e.to_string()))?;
        if bytes.len() > MAX_CERTIFICATE_BYTES {
            return Err(IpnError::Certificate(format!("{url} is larger than {MAX_CERTIFICATE_BYTES} bytes")));
        }
        let pem = String::from_utf8_lossy(&bytes).into_owned();
        let mut cache = self.cache.lock().expect("certificate cache");
        if cache.len() >= CERTIFICATE_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(url.to_owned(), pem.clone());
        Ok(pem)
    }

    /// Verifies a posted body and returns its Amazon Pay message.
    pub async fn verify(&self, body: &str) -> Result<IpnMessage, IpnError> {
        let envelope = SnsEnvelope::parse(body)?;
        if envelope.kind != "Notification" {
            return Err(IpnError::Envelope(format!("Type '{}' is not Notification", envelope.kind)));
        }
        if !self.is_trusted(&envelope.signing_cert_url) {
            return Err(IpnError::UntrustedCertificateUrl(envelope.signing_cert_url));
        }
        let pem = self.certificate(&envelope.signing_cert_url).await?;
        envelope.verify_with_certificate(&pem)?;
        envelope.message()
    }
}
