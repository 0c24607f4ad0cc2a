//! The key amzpay signs IPNs with, and its certificate: made on first use, kept in the
//! database so that every process sharing it signs alike, served at `/sns/amzpay-sns.pem`
//! for receivers to verify against (product.md).
//!
//! The private key never leaves this module except into the store; it is never logged.

use amzpay_api::ipn::{
    IpnMessage, NOTIFICATION_VERSION, SIGNATURE_VERSION, SNS_NOTIFICATION, SnsEnvelope, format_sns_timestamp,
};
use amzpay_domain::{Region, Timestamp};
use amzpay_signing::{
    PrivateKey, SnsSignedFields, generate_private_key, parse_private_key_pem, private_key_to_pem, sign_sns_v1,
    sns_string_to_sign,
};
use amzpay_store::{Event, SnsSigningKey, Store, StoreError};

/// Where the certificate is served, under the server's public URL.
pub const CERTIFICATE_PATH: &str = "/sns/amzpay-sns.pem";
/// Where `UnsubscribeURL` points, under the server's public URL.
pub const UNSUBSCRIBE_PATH: &str = "/sns/unsubscribe";
/// The AWS account in amzpay's topic ARNs: a placeholder, as no AWS account is involved.
const TOPIC_ACCOUNT: &str = "000000000000";
/// The certificate's subject.
const CERTIFICATE_COMMON_NAME: &str = "amzpay SNS signing";

/// Signs SNS envelopes.
pub struct Signer {
    key: PrivateKey,
    certificate_pem: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(<redacted>)")
    }
}

/// A fresh RSA-2048 key and a self-signed certificate for it.
fn make(now: Timestamp) -> Result<SnsSigningKey, StoreError> {
    let key = generate_private_key();
    let private_key_pem = private_key_to_pem(&key);
    let key_pair = rcgen::KeyPair::from_pem(&private_key_pem).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut params =
        rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    params.distinguished_name.push(rcgen::DnType::CommonName, CERTIFICATE_COMMON_NAME);
    let certificate = params.self_signed(&key_pair).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(SnsSigningKey { private_key_pem, certificate_pem: certificate.pem(), created_at: now })
}

impl Signer {
    /// The database's signer, made and stored first if there is none. Two processes may
    /// both make one: the first stored wins, and both read it back.
    pub async fn load_or_create(store: &dyn Store, now: Timestamp) -> Result<Signer, StoreError> {
        if let Some(stored) = store.read(|tx| tx.sns_signing_key()).await? {
            return Signer::from_stored(&stored);
        }
        let made = tokio::task::spawn_blocking(move || make(now))
            .await
            .map_err(|e| StoreError::Corrupt(format!("key generation: {e}")))??;
        store.write(move |tx| tx.insert_sns_signing_key(&made)).await?;
        let stored = store
            .read(|tx| tx.sns_signing_key())
            .await?
            .ok_or_else(|| StoreError::Corrupt("the SNS signing key was not kept".into()))?;
        Signer::from_stored(&stored)
    }

    fn from_stored(stored: &SnsSigningKey) -> Result<Signer, StoreError> {
        let key = parse_private_key_pem(&stored.private_key_pem)
            .map_err(|e| StoreError::Corrupt(format!("SNS signing key: {e}")))?;
        Ok(Signer { key, certificate_pem: stored.certificate_pem.clone() })
    }

    /// The certificate, PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The signed envelope of a notification published at `published_ms` (real time), as
    /// posted. Deterministic: a retry or a redelivery posts the same bytes.
    pub fn envelope(&self, event: &Event, published_ms: i64, region: Region, base_url: &str) -> SnsEnvelope {
        let message = IpnMessage {
            merchant_id: &event.merchant_id,
            object_type: event.object_type.as_str(),
            object_id: &event.object_id,
            charge_permission_id: &event.charge_permission_id,
            notification_type: event.notification_type.as_str(),
            notification_id: &event.notification_id,
            notification_version: NOTIFICATION_VERSION,
        }
        .to_json();
        let topic_arn = topic_arn(region, &event.merchant_id);
        let timestamp = format_sns_timestamp(published_ms);
        let fields = SnsSignedFields {
            message: &message,
            message_id: &event.message_id,
            subject: None,
            timestamp: &timestamp,
            topic_arn: &topic_arn,
            kind: SNS_NOTIFICATION,
        };
        let signature = sign_sns_v1(&self.key, &sns_string_to_sign(&fields));
        let unsubscribe_url = format!("{base_url}{UNSUBSCRIBE_PATH}?SubscriptionArn={}", subscription_arn(&topic_arn));
        SnsEnvelope {
            kind: SNS_NOTIFICATION,
            message_id: event.message_id.clone(),
            topic_arn,
            message,
            timestamp,
            signature_version: SIGNATURE_VERSION,
            signature,
            signing_cert_url: format!("{base_url}{CERTIFICATE_PATH}"),
            unsubscribe_url,
        }
    }
}

/// The AWS region of a merchant's topic: where Amazon Pay runs for that region.
fn aws_region(region: Region) -> &'static str {
    match region {
        Region::Na => "us-east-1",
        Region::Eu => "eu-west-1",
        Region::Jp => "us-west-2",
    }
}

/// `arn:aws:sns:<aws region>:000000000000:amzpay-<merchant id>`.
pub fn topic_arn(region: Region, merchant_id: &str) -> String {
    format!("arn:aws:sns:{}:{TOPIC_ACCOUNT}:amzpay-{merchant_id}", aws_region(region))
}

/// The subscription of a topic's one endpoint (SNS sends it in `x-amz-sns-subscription-arn`).
pub fn subscription_arn(topic_arn: &str) -> String {
    format!("{topic_arn}:amzpay")
}
