//! Amazon SNS message signatures, as Amazon Pay's IPNs carry them (spec §10): the string to
//! sign of a notification, and SignatureVersion 1 (SHA1withRSA, PKCS#1 v1.5) signatures.
//!
//! A server signs with its own key ([`sign_sns_v1`]); a receiver rebuilds the same string
//! ([`sns_string_to_sign`]) and checks it with the key of the certificate named by
//! `SigningCertURL`. This module never fetches a certificate and never decides whom to trust.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use openssl::hash::MessageDigest;
use openssl::sign::Signer;

use crate::PrivateKey;

/// The fields of an SNS `Notification` that its signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SnsSignedFields<'a> {
    /// `Message`: for Amazon Pay, a JSON document as a string.
    pub message: &'a str,
    /// `MessageId`.
    pub message_id: &'a str,
    /// `Subject`, when the message has one (Amazon Pay's have none).
    pub subject: Option<&'a str>,
    /// `Timestamp`, exactly as written in the envelope.
    pub timestamp: &'a str,
    /// `TopicArn`.
    pub topic_arn: &'a str,
    /// `Type`: `Notification`.
    pub kind: &'a str,
}

/// SNS's string to sign for a notification: `name\nvalue\n` for `Message`, `MessageId`,
/// `Subject` (only when present), `Timestamp`, `TopicArn` and `Type`, in that order. The
/// same for SignatureVersion 1 and 2; only the hash differs.
pub fn sns_string_to_sign(fields: &SnsSignedFields<'_>) -> String {
    let mut pairs = vec![("Message", fields.message), ("MessageId", fields.message_id)];
    if let Some(subject) = fields.subject {
        pairs.push(("Subject", subject));
    }
    pairs.extend([("Timestamp", fields.timestamp), ("TopicArn", fields.topic_arn), ("Type", fields.kind)]);
    pairs.iter().map(|(name, value)| format!("{name}\n{value}\n")).collect()
}

/// A SignatureVersion 1 signature (SHA1withRSA, PKCS#1 v1.5), base64. Deterministic: the
/// same string and key always give the same signature.
pub fn sign_sns_v1(key: &PrivateKey, string_to_sign: &str) -> String {
    // An RSA key's default padding is PKCS#1 v1.5; signing with a valid key cannot fail.
    let signature = Signer::new(MessageDigest::sha1(), key.inner())
        .and_then(|mut signer| signer.sign_oneshot_to_vec(string_to_sign.as_bytes()))
        .expect("SHA1withRSA signing with a valid key");
    BASE64.encode(signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::sign::Verifier;

    fn fields(message: &str) -> SnsSignedFields<'_> {
        SnsSignedFields {
            message,
            message_id: "m-1",
            subject: None,
            timestamp: "2026-11-25T17:00:00.000Z",
            topic_arn: "arn:aws:sns:us-east-1:000000000000:amzpay-A1",
            kind: "Notification",
        }
    }

    #[test]
    fn the_string_to_sign_names_each_field_in_snss_order_and_subject_only_when_present() {
        let text = sns_string_to_sign(&fields("{}"));
        assert_eq!(
            text,
            "Message\n{}\nMessageId\nm-1\nTimestamp\n2026-11-25T17:00:00.000Z\nTopicArn\n\
             arn:aws:sns:us-east-1:000000000000:amzpay-A1\nType\nNotification\n"
        );
        let with_subject = sns_string_to_sign(&SnsSignedFields { subject: Some("s"), ..fields("{}") });
        assert!(with_subject.contains("MessageId\nm-1\nSubject\ns\nTimestamp\n"), "{with_subject}");
    }

    #[test]
    fn a_v1_signature_verifies_with_sha1_and_only_over_the_same_text() {
        let key = crate::generate_private_key();
        let text = sns_string_to_sign(&fields("{\"a\":1}"));
        let signature = sign_sns_v1(&key, &text);
        assert_eq!(signature, sign_sns_v1(&key, &text), "PKCS#1 v1.5 is deterministic");
        let bytes = BASE64.decode(&signature).unwrap();
        let public = key.public_key();
        let verifies = |text: &str, digest: MessageDigest| {
            Verifier::new(digest, public.inner()).unwrap().verify_oneshot(&bytes, text.as_bytes()).unwrap()
        };
        assert!(verifies(&text, MessageDigest::sha1()));
        assert!(!verifies(&text, MessageDigest::sha256()), "SignatureVersion 1 is SHA-1");
        let tampered = sns_string_to_sign(&fields("{\"a\":2}"));
        assert!(!verifies(&tampered, MessageDigest::sha1()));
    }
}
