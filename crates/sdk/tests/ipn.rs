//! IPN verification: an SNS envelope signed like Amazon SNS signs it, with a certificate
//! this test makes.

use amzpay_sdk::ipn::*;
use base64::Engine as _;
use rsa::pkcs8::EncodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};

struct Signer1 {
    key: rsa::RsaPrivateKey,
    certificate_pem: String,
}

fn signer() -> Signer1 {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let pkcs8 = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let key_pair = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).unwrap();
    let certificate = rcgen::CertificateParams::new(vec!["sns.us-east-1.amazonaws.com".to_owned()])
        .unwrap()
        .self_signed(&key_pair)
        .unwrap();
    Signer1 { key, certificate_pem: certificate.pem() }
}

fn envelope(signer: &Signer1, version: &str, subject: Option<&str>) -> SnsEnvelope {
    let message = r#"{"MerchantID":"A2XYZ","ObjectType":"CHARGE","ObjectId":"S01-1111111-1111111-C000001","ChargePermissionId":"S01-1111111-1111111","NotificationType":"STATE_CHANGE","NotificationId":"n-1","NotificationVersion":"V2"}"#;
    let mut envelope = SnsEnvelope::parse(
        &serde_json::json!({
            "Type": "Notification",
            "MessageId": "m-1",
            "TopicArn": "arn:aws:sns:us-east-1:291180941288:A2XYZ",
            "Message": message,
            "Timestamp": "2024-01-01T12:00:00.000Z",
            "SignatureVersion": version,
            "Signature": "",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        })
        .to_string(),
    )
    .unwrap();
    envelope.subject = subject.map(str::to_owned);
    let to_sign = envelope.string_to_sign();
    let signature = match version {
        "1" => rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(signer.key.clone()).sign(to_sign.as_bytes()).to_vec(),
        _ => rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(signer.key.clone()).sign(to_sign.as_bytes()).to_vec(),
    };
    envelope.signature = base64::engine::general_purpose::STANDARD.encode(signature);
    envelope
}

#[test]
fn signed_envelopes_verify_and_their_messages_parse() {
    let signer = signer();
    for (version, subject) in [("1", None), ("1", Some("Amazon Pay")), ("2", None)] {
        let envelope = envelope(&signer, version, subject);
        let text = serde_json::to_string(&envelope).unwrap();
        let parsed = SnsEnvelope::parse(&text).unwrap();
        assert_eq!(parsed, envelope);
        parsed.verify_with_certificate(&signer.certificate_pem).unwrap();
        let message = parsed.message().unwrap();
        assert_eq!(message.object_type, "CHARGE");
        assert_eq!(message.charge_permission_id, "S01-1111111-1111111");
        assert_eq!(message.notification_version, "V2");
    }
    assert!(envelope(&signer, "1", None).string_to_sign().starts_with("Message\n{"));
}

#[test]
fn tampered_envelopes_and_other_certificates_are_refused() {
    let signer = signer();
    let mut tampered = envelope(&signer, "1", None);
    tampered.message = tampered.message.replace("C000001", "C000002");
    assert!(matches!(tampered.verify_with_certificate(&signer.certificate_pem), Err(IpnError::BadSignature)));
    let other = self::signer();
    let genuine = envelope(&signer, "1", None);
    assert!(matches!(genuine.verify_with_certificate(&other.certificate_pem), Err(IpnError::BadSignature)));
    let mut wrong_version = genuine.clone();
    wrong_version.signature_version = "3".into();
    assert!(wrong_version.verify_with_certificate(&signer.certificate_pem).is_err());
    assert!(SnsEnvelope::parse("{}").is_err());
}

#[test]
fn only_trusted_certificate_urls_are_fetched() {
    let verifier = IpnVerifier::new().trust_certificate_url_prefix("https://localhost:8443/");
    for trusted in [
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-1.amazonaws.com/x.pem",
        "https://localhost:8443/ipn/cert.pem",
    ] {
        assert!(verifier.is_trusted(trusted), "{trusted}");
    }
    for untrusted in [
        "http://sns.us-east-1.amazonaws.com/x.pem",
        "https://evil.example/sns.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example/x.pem",
        "https://s3.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com/x.txt",
    ] {
        assert!(!verifier.is_trusted(untrusted), "{untrusted}");
    }
}

#[tokio::test]
async fn an_untrusted_url_is_refused_before_any_fetch() {
    let signer = signer();
    let mut envelope = envelope(&signer, "1", None);
    envelope.signing_cert_url = "https://attacker.example/cert.pem".into();
    let body = serde_json::to_string(&envelope).unwrap();
    let error = IpnVerifier::new().verify(&body).await.unwrap_err();
    assert!(matches!(error, IpnError::UntrustedCertificateUrl(_)), "{error}");
}

#[test]
fn a_verifier_takes_an_extra_root_certificate_and_refuses_one_that_is_not_pem() {
    let signer = signer();
    assert!(IpnVerifier::new().root_certificate_pem(signer.certificate_pem.as_bytes()).is_ok());
    let refused = IpnVerifier::new().root_certificate_pem(b"not a certificate");
    assert!(matches!(refused, Err(IpnError::Certificate(_))));
}
