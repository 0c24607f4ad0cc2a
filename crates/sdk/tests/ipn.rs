//! IPN verification: an SNS envelope signed like Amazon SNS (and amzpay) signs it, with a
//! certificate this test makes, served by local mock servers: one that serves it, one that
//! streams without end, one that never answers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use amzpay_sdk::ipn::*;
use base64::Engine as _;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Signer1 {
    key: PKey<Private>,
    certificate_pem: String,
}

fn signer() -> Signer1 {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let pkcs8 = String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let key_pair = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).unwrap();
    let certificate = rcgen::CertificateParams::new(vec!["sns.us-east-1.amazonaws.com".to_owned()])
        .unwrap()
        .self_signed(&key_pair)
        .unwrap();
    Signer1 { key, certificate_pem: certificate.pem() }
}

const MESSAGE: &str = r#"{"MerchantID":"A2XYZ","ObjectType":"CHARGE","ObjectId":"S01-1111111-1111111-C000001","ChargePermissionId":"S01-1111111-1111111","NotificationType":"STATE_CHANGE","NotificationId":"n-1","NotificationVersion":"V2"}"#;

fn envelope(signer: &Signer1, version: &str, subject: Option<&str>) -> SnsEnvelope {
    let mut envelope = SnsEnvelope::parse(
        &serde_json::json!({
            "Type": "Notification",
            "MessageId": "m-1",
            "TopicArn": "arn:aws:sns:us-east-1:291180941288:A2XYZ",
            "Message": MESSAGE,
            "Timestamp": "2024-01-01T12:00:00.000Z",
            "SignatureVersion": version,
            "Signature": "",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        })
        .to_string(),
    )
    .unwrap();
    envelope.subject = subject.map(str::to_owned);
    sign(signer, &mut envelope);
    envelope
}

/// Signs as SNS does: PKCS#1 v1.5 over the string to sign, SHA-1 for version 1 and
/// SHA-256 for version 2.
fn sign(signer: &Signer1, envelope: &mut SnsEnvelope) {
    let to_sign = envelope.string_to_sign();
    let digest = match envelope.signature_version.as_str() {
        "1" => MessageDigest::sha1(),
        _ => MessageDigest::sha256(),
    };
    let signature =
        openssl::sign::Signer::new(digest, &signer.key).unwrap().sign_oneshot_to_vec(to_sign.as_bytes()).unwrap();
    envelope.signature = base64::engine::general_purpose::STANDARD.encode(signature);
}

/// An envelope as amzpay sends it: version 1, signed, its certificate at `certificate_url`
/// (which the signature does not cover).
fn amzpay_envelope(signer: &Signer1, certificate_url: &str) -> SnsEnvelope {
    let mut envelope = envelope(signer, "1", None);
    envelope.signing_cert_url = certificate_url.to_owned();
    envelope
}

fn body(envelope: &SnsEnvelope) -> String {
    serde_json::to_string(envelope).unwrap()
}

#[test]
fn signed_envelopes_verify_and_their_messages_parse() {
    let signer = signer();
    for (version, subject) in [("1", None), ("1", Some("Amazon Pay")), ("2", None)] {
        let envelope = envelope(&signer, version, subject);
        let parsed = SnsEnvelope::parse(&body(&envelope)).unwrap();
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
        "https://sns.cn-north-1.amazonaws.com.cn/x.pem",
        "https://SNS.US-WEST-2.AMAZONAWS.COM/x.pem",
        "https://localhost:8443/ipn/cert.pem",
    ] {
        assert!(verifier.is_trusted(trusted), "{trusted}");
    }
    for untrusted in [
        "http://sns.us-east-1.amazonaws.com/x.pem",
        "https://evil.example/sns.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example/x.pem",
        "https://sns.evil.example.amazonaws.com/x.pem",
        "https://s3.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com/x.txt",
        "https://sns.us-east-1.amazonaws.com:8443/x.pem",
        "https://user@sns.us-east-1.amazonaws.com/x.pem",
        "https://localhost:84430/cert.pem",
        "https://localhost:8443@evil.example/cert.pem",
        "https://localhost.evil.example:8443/cert.pem",
        "http://localhost:8443/cert.pem",
        "not a url",
    ] {
        assert!(!verifier.is_trusted(untrusted), "{untrusted}");
    }
}

#[test]
fn an_amzpay_server_is_trusted_under_its_sns_path_only() {
    let verifier = IpnVerifier::new().trust_amzpay_server("http://127.0.0.1:8080/");
    assert!(verifier.is_trusted("http://127.0.0.1:8080/sns/amzpay-sns.pem"));
    for untrusted in [
        "http://127.0.0.1:8080/amzpay-sns.pem",
        "http://127.0.0.1:8080/snsx/amzpay-sns.pem",
        "http://127.0.0.1:8080/sns/../v2/amzpay-sns.pem",
        "http://127.0.0.1:8080/sns/%2e%2e/v2/amzpay-sns.pem",
        "https://127.0.0.1:8080/sns/amzpay-sns.pem",
        "http://127.0.0.1:8081/sns/amzpay-sns.pem",
        "http://localhost:8080/sns/amzpay-sns.pem",
    ] {
        assert!(!verifier.is_trusted(untrusted), "{untrusted}");
    }
    // A prefix without a trailing slash ends at a segment boundary.
    let verifier = IpnVerifier::new().trust_certificate_url_prefix("http://127.0.0.1:8080/sns");
    assert!(verifier.is_trusted("http://127.0.0.1:8080/sns/amzpay-sns.pem"));
    assert!(!verifier.is_trusted("http://127.0.0.1:8080/snsx.pem"));
    // A prefix that is not an absolute web URL trusts nothing (not even what it spells).
    for prefix in ["localhost:8443/", "/sns/", "ftp://127.0.0.1/sns/"] {
        let verifier = IpnVerifier::new().trust_certificate_url_prefix(prefix);
        assert!(!verifier.is_trusted("https://localhost:8443/sns/amzpay-sns.pem"), "{prefix}");
        assert!(!verifier.is_trusted("ftp://127.0.0.1/sns/amzpay-sns.pem"), "{prefix}");
    }
}

#[tokio::test]
async fn an_untrusted_url_is_refused_before_any_fetch() {
    let signer = signer();
    let mut envelope = envelope(&signer, "1", None);
    envelope.signing_cert_url = "https://attacker.example/cert.pem".into();
    let error = IpnVerifier::new().verify(&body(&envelope)).await.unwrap_err();
    assert!(matches!(error, IpnError::UntrustedCertificateUrl(_)), "{error}");
}

#[test]
fn a_verifier_takes_an_extra_root_certificate_and_refuses_one_that_is_not_pem() {
    let signer = signer();
    assert!(IpnVerifier::new().root_certificate_pem(signer.certificate_pem.as_bytes()).is_ok());
    let refused = IpnVerifier::new().root_certificate_pem(b"not a certificate");
    assert!(matches!(refused, Err(IpnError::Certificate(_))));
}

/// A mock amzpay: serves the certificate at `/sns/amzpay-sns.pem` (and at
/// `/outside/cert.pem`), redirects `/sns/moved.pem` to `/outside/cert.pem`, and records
/// every path it is asked for.
struct CertificateServer {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn certificate_server(certificate_pem: &str) -> CertificateServer {
    use axum::extract::{Request, State};
    use axum::response::{IntoResponse, Response};
    type Shared = (String, Arc<Mutex<Vec<String>>>);
    async fn answer(State((pem, requests)): State<Shared>, request: Request) -> Response {
        let path = request.uri().path().to_owned();
        requests.lock().unwrap().push(path.clone());
        match path.as_str() {
            "/sns/amzpay-sns.pem" | "/outside/cert.pem" => {
                ([("content-type", "application/x-pem-file")], pem).into_response()
            }
            "/sns/moved.pem" => (axum::http::StatusCode::FOUND, [("location", "/outside/cert.pem")]).into_response(),
            _ => axum::http::StatusCode::NOT_FOUND.into_response(),
        }
    }
    let requests = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(answer).with_state((certificate_pem.to_owned(), requests.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    CertificateServer { base, requests }
}

#[tokio::test]
async fn an_amzpay_notification_verifies_with_the_served_certificate_and_any_change_is_refused() {
    let signer = signer();
    let server = certificate_server(&signer.certificate_pem).await;
    let verifier = IpnVerifier::new().trust_amzpay_server(&server.base);
    let genuine = amzpay_envelope(&signer, &format!("{}/sns/amzpay-sns.pem", server.base));

    let message = verifier.verify(&body(&genuine)).await.unwrap();
    assert_eq!(message.object_id, "S01-1111111-1111111-C000001");
    assert_eq!(message.notification_id, "n-1");

    let mut changed_message = genuine.clone();
    changed_message.message = changed_message.message.replace("STATE_CHANGE", "ATTRIBUTE_CHANGE");
    let mut changed_message_id = genuine.clone();
    changed_message_id.message_id = "m-2".into();
    let mut changed_timestamp = genuine.clone();
    changed_timestamp.timestamp = "2024-01-01T12:00:00.001Z".into();
    let mut changed_topic = genuine.clone();
    changed_topic.topic_arn.push('x');
    let mut changed_signature = genuine.clone();
    let mut signature = base64::engine::general_purpose::STANDARD.decode(&genuine.signature).unwrap();
    signature[100] ^= 1;
    changed_signature.signature = base64::engine::general_purpose::STANDARD.encode(signature);
    let mut garbled_signature = genuine.clone();
    garbled_signature.signature = "not base64!".into();
    let mut added_subject = genuine.clone();
    added_subject.subject = Some("Amazon Pay".into());
    for (label, tampered) in [
        ("Message", changed_message),
        ("MessageId", changed_message_id),
        ("Timestamp", changed_timestamp),
        ("TopicArn", changed_topic),
        ("Signature", changed_signature),
        ("Signature (not base64)", garbled_signature),
        ("Subject", added_subject),
    ] {
        let error = verifier.verify(&body(&tampered)).await.unwrap_err();
        assert!(matches!(error, IpnError::BadSignature), "{label}: {error}");
    }
    // The envelope signed by another key, with amzpay's certificate URL.
    let impostor = amzpay_envelope(&self::signer(), &genuine.signing_cert_url);
    assert!(matches!(verifier.verify(&body(&impostor)).await, Err(IpnError::BadSignature)));

    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests, ["/sns/amzpay-sns.pem"], "fetched once, then cached");
}

#[tokio::test]
async fn a_certificate_outside_the_trusted_prefix_is_never_fetched_not_even_by_a_redirect() {
    let signer = signer();
    let server = certificate_server(&signer.certificate_pem).await;
    let verifier = IpnVerifier::new().trust_amzpay_server(&server.base);
    for path in ["/outside/cert.pem", "/sns/../outside/cert.pem", "/sns/%2E%2E/outside/cert.pem"] {
        let envelope = amzpay_envelope(&signer, &format!("{}{path}", server.base));
        let error = verifier.verify(&body(&envelope)).await.unwrap_err();
        assert!(matches!(error, IpnError::UntrustedCertificateUrl(_)), "{path}: {error}");
    }
    assert!(server.requests.lock().unwrap().is_empty(), "nothing fetched");

    let moved = amzpay_envelope(&signer, &format!("{}/sns/moved.pem", server.base));
    let error = verifier.verify(&body(&moved)).await.unwrap_err();
    assert!(matches!(error, IpnError::Certificate(_)), "{error}");
    assert_eq!(server.requests.lock().unwrap().clone(), ["/sns/moved.pem"], "the redirect is not followed");
}

/// Reads a request's head (up to the blank line) from a raw connection.
async fn read_request_head(socket: &mut tokio::net::TcpStream) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = socket.read(&mut buffer).await.unwrap();
        assert!(read > 0, "the client closed before sending its request");
        head.extend_from_slice(&buffer[..read]);
    }
}

#[tokio::test]
async fn an_oversized_certificate_is_refused_without_downloading_it_whole() {
    // 64 MiB streamed in 16 KiB chunks, without a content-length: only counting while
    // reading can refuse it. The server counts what it manages to hand to the kernel, which
    // buffers a few MiB on each side of a loopback connection (4 MiB here with Linux's
    // defaults); 64 MiB is far beyond that, so a client that reads it all is told apart.
    const TOTAL_BYTES: usize = 64 * 1024 * 1024;
    const CHUNK_BYTES: usize = 16 * 1024;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(AtomicUsize::new(0));
    let (finished_tx, finished) = tokio::sync::oneshot::channel();
    let counter = sent.clone();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        read_request_head(&mut socket).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/x-pem-file\r\ntransfer-encoding: chunked\r\n\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
        let chunk = format!("{CHUNK_BYTES:x}\r\n{}\r\n", "A".repeat(CHUNK_BYTES));
        while counter.load(Ordering::SeqCst) < TOTAL_BYTES {
            // The client hanging up makes a write fail (once the kernel's buffers are full).
            if socket.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
            counter.fetch_add(CHUNK_BYTES, Ordering::SeqCst);
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
        let _ = finished_tx.send(());
    });

    let signer = signer();
    let verifier = IpnVerifier::new().trust_amzpay_server(&base);
    let envelope = amzpay_envelope(&signer, &format!("{base}/sns/amzpay-sns.pem"));
    let error = verifier.verify(&body(&envelope)).await.unwrap_err();
    assert!(matches!(error, IpnError::CertificateTooLarge { limit_bytes: MAX_CERTIFICATE_BYTES, .. }), "{error}");
    drop(verifier);
    tokio::time::timeout(Duration::from_secs(30), finished).await.expect("the server stops sending").unwrap();
    let sent = sent.load(Ordering::SeqCst);
    assert!(sent < TOTAL_BYTES, "the client stopped reading: the server could send only {sent} bytes");
}

#[tokio::test]
async fn a_certificate_server_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (request_seen_tx, request_seen) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        read_request_head(&mut socket).await;
        let _ = request_seen_tx.send(());
        // Hold the connection open and answer nothing, until the client hangs up.
        let _ = socket.read(&mut [0u8; 1]).await;
    });

    let signer = signer();
    let timeout = Duration::from_millis(300);
    let verifier = IpnVerifier::new().trust_amzpay_server(&base).certificate_timeout(timeout);
    let envelope = amzpay_envelope(&signer, &format!("{base}/sns/amzpay-sns.pem"));
    let started = Instant::now();
    // The outer bound only keeps a broken verifier from hanging the test.
    let outcome = tokio::time::timeout(Duration::from_secs(30), verifier.verify(&body(&envelope)))
        .await
        .expect("the verifier gives up by itself");
    let elapsed = started.elapsed();
    let error = outcome.unwrap_err();
    assert!(matches!(error, IpnError::CertificateTimeout { timeout: t, .. } if t == timeout), "{error}");
    assert!(elapsed >= timeout, "gave up after {elapsed:?}, before the timeout");
    request_seen.await.expect("the request reached the server before the timeout");
}
