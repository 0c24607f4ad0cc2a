//! The listeners' limits (product.md, "Operating the server") against real sockets: slow
//! headers and slow bodies are cut off, idle connections close, large headers answer 431, a
//! stranger's body is never read, bodies and requests in flight are bounded, and so are
//! connections. Timeouts are shortened through `ConnectionLimits`.

mod support;

use std::time::Duration;

use amzpay_server::config::{ConnectionLimits, MAX_BODY_BYTES};
use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// How long a test waits for an answer that must come before it fails (a guard, not a
/// measure).
const PATIENCE: Duration = Duration::from_secs(10);

fn limits(change: impl FnOnce(&mut ConnectionLimits)) -> ConnectionLimits {
    let mut limits = ConnectionLimits::DEFAULT;
    change(&mut limits);
    limits
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(&app.host).await.unwrap()
}

/// An answer read off a socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: Value,
}

/// Reads one answer: the head, then `content-length` bytes of body.
async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let read = timeout(PATIENCE, stream.read(&mut chunk)).await.expect("an answer in time").unwrap();
        assert!(read > 0, "the connection closed before an answer: {:?}", String::from_utf8_lossy(&buffer));
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = timeout(PATIENCE, stream.read(&mut chunk)).await.expect("a body in time").unwrap();
        assert!(read > 0, "the connection closed within a body");
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = serde_json::from_slice(&buffer[head_end..head_end + length]).unwrap_or(Value::Null);
    Answer { status, head, body }
}

/// Waits until the server closes the connection; returns how long that took.
async fn closed(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut chunk = [0u8; 1024];
    loop {
        match timeout(PATIENCE, stream.read(&mut chunk)).await.expect("the server closes the connection") {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => {}
        }
    }
}

fn assert_error(answer: &Answer, status: u16, reason_code: &str) {
    assert_eq!((answer.status, answer.body["reasonCode"].as_str().unwrap_or("")), (status, reason_code), "{answer:?}");
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: amzpay\r\n\r\n";

#[tokio::test]
async fn request_headers_that_trickle_in_are_cut_off_at_the_header_timeout() {
    let header_read_timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with_limits(limits(|l| l.header_read_timeout = header_read_timeout)).await;
    let mut stream = connect(&app).await;
    let started = Instant::now();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nhost: amzpay\r\n").await.unwrap();
    // One header line every 200 ms for 10 s, unless the server closes first.
    let mut chunk = [0u8; 1024];
    let mut lines = 0;
    let closed_after = loop {
        assert!(lines < 50, "the server kept a connection whose headers never ended");
        if stream.write_all(format!("x-slow-{lines}: 1\r\n").as_bytes()).await.is_err() {
            break started.elapsed();
        }
        lines += 1;
        match timeout(Duration::from_millis(200), stream.read(&mut chunk)).await {
            Err(_) => {}
            Ok(Ok(0)) | Ok(Err(_)) => break started.elapsed(),
            Ok(Ok(read)) => panic!("no answer to a request not yet complete: {:?}", &chunk[..read]),
        }
    };
    assert!(closed_after >= header_read_timeout, "closed after {closed_after:?}, before the timeout");
    assert!(closed_after < header_read_timeout * 3, "closed after {closed_after:?}");
}

#[tokio::test]
async fn an_idle_connection_lasts_the_idle_timeout_not_the_header_timeout() {
    let idle_timeout = Duration::from_secs(3);
    let app = TestApp::spawn_with_limits(limits(|l| {
        l.header_read_timeout = Duration::from_secs(1);
        l.idle_timeout = idle_timeout;
    }))
    .await;
    let mut stream = connect(&app).await;
    stream.write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_answer(&mut stream).await.status, 200);
    let idle_for = closed(&mut stream).await;
    // A little slack below: the idle spell began when the answer was sent, a moment before
    // this side finished reading it.
    assert!(idle_for >= idle_timeout - Duration::from_millis(200), "closed after {idle_for:?}");
    assert!(idle_for < idle_timeout * 2, "closed after {idle_for:?}");
}

#[tokio::test]
async fn a_body_that_trickles_in_is_answered_408_at_the_body_timeout_and_changes_nothing() {
    let body_read_timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with_limits(limits(|l| l.body_read_timeout = body_read_timeout)).await;
    let permission = app.one_time("100").await;
    let charge = json!({"chargePermissionId": permission, "chargeAmount": {"amount": "5", "currencyCode": "USD"}});
    let (head, body) = app.dev("POST", "/v2/charges").key(&new_key()).json(&charge).raw();
    let mut stream = connect(&app).await;
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    // One byte every 100 ms: the whole body would take many seconds.
    let mut chunk = [0u8; 1];
    let mut sent = 0;
    loop {
        assert!(sent < body.len() - 1, "the server waited for the whole trickle");
        stream.write_all(&body[sent..sent + 1]).await.unwrap();
        sent += 1;
        match timeout(Duration::from_millis(100), stream.peek(&mut chunk)).await {
            Err(_) => {}
            Ok(_) => break,
        }
    }
    let answered_after = started.elapsed();
    let answer = read_answer(&mut stream).await;
    assert_error(&answer, 408, "RequestTimeout");
    assert!(answer.head.to_ascii_lowercase().contains("connection: close"), "{answer:?}");
    closed(&mut stream).await;
    assert!(answered_after >= body_read_timeout, "answered after {answered_after:?}");
    assert!(answered_after < body_read_timeout * 3, "answered after {answered_after:?}");
    let unchanged = app.get(&format!("/v2/chargePermissions/{permission}")).await;
    assert_eq!(unchanged["limits"]["amountBalance"]["amount"], "100.00");
}

#[tokio::test]
async fn request_headers_over_16_kib_in_all_answer_431_on_both_listeners() {
    let app = TestApp::spawn().await;
    for base in [&app.http, &app.https] {
        let get =
            |filler: usize| app.client.get(format!("{base}/healthz")).header("x-filler", "f".repeat(filler)).send();
        assert_eq!(get(15 * 1024).await.unwrap().status(), 200);
        assert_eq!(get(16 * 1024).await.unwrap().status(), 431);
    }
}

#[tokio::test]
async fn a_large_post_is_refused_before_its_body_is_sent_unless_its_headers_pass() {
    let app = TestApp::spawn().await;
    let permission = app.one_time("100").await;
    let declared = 200 * 1024;
    let mut stranger = app.dev.clone();
    stranger.public_key_id = "SANDBOX-NOSUCHKEY0000000000000000".into();
    let stale = amzpay_api::format::format_timestamp(amzpay_domain::Timestamp::from_unix_seconds(
        amzpay_server::system_now().unix_seconds() - 16 * 60,
    ));
    let heads = [
        (app.dev("POST", "/v2/charges").key(&new_key()).omit("x-amz-pay-date").raw().0, 400, "MissingHeader"),
        (app.call(&stranger, "POST", "/v2/charges").key(&new_key()).raw().0, 403, "InvalidAuthentication"),
        (app.dev("POST", "/v2/charges").key(&new_key()).date(&stale).raw().0, 400, "InvalidHeaderValue"),
        (
            app.dev("POST", "/v2/charges")
                .key(&new_key())
                .omit("x-amz-pay-host")
                .signed_header("x-amz-pay-host", "pay-api.amazon.com")
                .raw()
                .0,
            400,
            "InvalidHeaderValue",
        ),
        // No authorization at all.
        (
            format!(
                "POST /v2/charges HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n",
                app.host
            ),
            400,
            "MissingHeader",
        ),
        // Signed and known, but declaring more than any body may hold.
        (
            app.dev("POST", "/v2/charges")
                .key(&new_key())
                .raw()
                .0
                .replace("content-length: 0\r\n", &format!("content-length: {}\r\n", MAX_BODY_BYTES + 1)),
            400,
            "InvalidRequest",
        ),
    ];
    for (head, status, reason_code) in heads {
        let head = head.replace("content-length: 0\r\n", &format!("content-length: {declared}\r\n"));
        let mut stream = connect(&app).await;
        // The head alone: not one byte of the body is ever sent.
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = read_answer(&mut stream).await;
        assert_error(&answer, status, reason_code);
        closed(&mut stream).await;
    }
    let unchanged = app.get(&format!("/v2/chargePermissions/{permission}")).await;
    assert_eq!(unchanged["limits"]["amountBalance"]["amount"], "100.00");
}

#[tokio::test]
async fn bodies_beyond_the_body_budget_are_refused_with_503_unread() {
    let app = TestApp::spawn_with_limits(limits(|l| {
        l.max_body_bytes_in_flight = MAX_BODY_BYTES;
        l.body_read_timeout = Duration::from_secs(2);
    }))
    .await;
    let permission = app.one_time("100").await;
    let big = json!({"chargePermissionId": permission, "chargeAmount": {"amount": "1", "currencyCode": "USD"},
        "platformId": "p".repeat(200 * 1024)});
    let (head, body) = app.dev("POST", "/v2/charges").key(&new_key()).json(&big).raw();
    // 200 KiB reserved by a body that stalls after its first bytes.
    let mut holder = connect(&app).await;
    holder.write_all(head.as_bytes()).await.unwrap();
    holder.write_all(&body[..16]).await.unwrap();

    let charge = json!({"chargePermissionId": permission, "chargeAmount": {"amount": "1", "currencyCode": "USD"},
        "platformId": "p".repeat(100 * 1024)});
    let mut attempts = 0;
    let refused = loop {
        attempts += 1;
        assert!(attempts <= 3, "the holder's share never counted");
        let (head, _) = app.dev("POST", "/v2/charges").key(&new_key()).json(&charge).raw();
        let mut stream = connect(&app).await;
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = read_answer(&mut stream).await;
        // 408: the holder had not reserved its share yet, and this body never came.
        if answer.status != 408 {
            break answer;
        }
    };
    assert_error(&refused, 503, "ServiceUnavailable");

    // The holder gone, its share returns.
    drop(holder);
    let small = json!({"chargePermissionId": permission, "chargeAmount": {"amount": "1", "currencyCode": "USD"}});
    let started = Instant::now();
    loop {
        let response = app.dev("POST", "/v2/charges").key(&new_key()).json(&small).send().await;
        if response.status != 503 {
            response.assert_status(201);
            break;
        }
        assert!(started.elapsed() < PATIENCE, "the budget never came back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn requests_beyond_the_in_flight_limit_are_answered_503() {
    let app = TestApp::spawn_with_limits(limits(|l| l.max_in_flight_requests = 1)).await;
    // A form post whose body stalls holds the one slot.
    let mut holder = connect(&app).await;
    holder
        .write_all(b"POST /checkout/button HTTP/1.1\r\nhost: amzpay\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\npayload")
        .await
        .unwrap();
    let started = Instant::now();
    let refused = loop {
        let response = app.client.get(format!("{}/healthz", app.http)).send().await.unwrap();
        if response.status() == 503 {
            break response;
        }
        assert!(started.elapsed() < PATIENCE, "the held request never counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["reasonCode"], "ServiceUnavailable");
    drop(holder);
    let started = Instant::now();
    while app.client.get(format!("{}/healthz", app.http)).send().await.unwrap().status() != 200 {
        assert!(started.elapsed() < PATIENCE, "the slot never came back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_listener_serves_at_most_its_connection_limit_and_accepts_again_when_one_closes() {
    let app = TestApp::spawn_with_limits(limits(|l| l.max_connections = 2)).await;
    let mut first = connect(&app).await;
    let mut second = connect(&app).await;
    for stream in [&mut first, &mut second] {
        stream.write_all(HEALTHZ).await.unwrap();
        assert_eq!(read_answer(stream).await.status, 200);
    }
    // The kernel completes the third connection, but the listener does not take it.
    let mut third = connect(&app).await;
    third.write_all(HEALTHZ).await.unwrap();
    let (answered, mut third_answer) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _ = answered.send(read_answer(&mut third).await.status);
    });
    // Both open connections keep being served meanwhile.
    for stream in [&mut first, &mut second] {
        stream.write_all(HEALTHZ).await.unwrap();
        assert_eq!(read_answer(stream).await.status, 200);
    }
    // Nothing signals "not accepted": give a listener that ignored its limit a moment to
    // show it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(third_answer.try_recv().is_err(), "a third connection was served beyond the limit of two");
    drop(first);
    let status = timeout(PATIENCE, third_answer).await.expect("the third connection is served once one closes");
    assert_eq!(status.unwrap(), 200);
}

#[tokio::test]
async fn healthz_and_readyz_answer_unsigned_on_both_listeners() {
    let app = TestApp::spawn().await;
    for base in [&app.http, &app.https] {
        for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
            let response = app.client.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(response.status(), 200, "{base}{path}");
            assert_eq!(response.headers()["content-type"], "application/json");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body, json!({ "status": status }), "{base}{path}");
        }
    }
}
