//! amzpay's IPN test helpers against a local mock that checks every request's signature
//! the way the server does (over the path and query as received): the paths and bodies
//! the client sends, the typed answers it reads, and which of these calls are retried.

mod support;

use std::sync::{Arc, Mutex};

use amzpay_sdk::signing::{
    AuthorizationHeader, CanonicalRequestInput, PublicKey, canonical_query_from_wire, canonical_request,
    canonical_uri_from_wire, string_to_sign, verify,
};
use amzpay_sdk::*;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response as AxumResponse;
use support::RecordingSleeper;

const NOTIFICATION: &str = r#"{"notificationId":"2f1c7f5e-8d1a-4d7e-9d55-2f0b6f7d2a10","messageId":"6b0d3e36-3f4b-4c55-9a3e-0c2f1d8e7a61","objectType":"CHARGE","objectId":"S01-1111111-1111111-C000001","chargePermissionId":"S01-1111111-1111111","notificationType":"STATE_CHANGE","creationTimestamp":"20261125T170000Z","status":"Pending","nextAttemptTimestamp":"20261125T170010Z","attempts":[{"timestamp":"20261125T170000Z","url":"http://127.0.0.1:8090/","statusCode":null,"error":"connection refused","latencyMillis":1},{"timestamp":"20261125T170001Z","url":"http://127.0.0.1:8090/","statusCode":500,"error":null,"latencyMillis":12}]}"#;

/// One request as the mock received it.
#[derive(Debug, Clone, PartialEq)]
struct Received {
    method: String,
    path: String,
    query: String,
    body: String,
    signature_verifies: bool,
}

#[derive(Clone)]
struct Mock {
    public_key: PublicKey,
    /// The status to answer errors with; `None` answers each path's success.
    failing_status: Option<u16>,
    received: Arc<Mutex<Vec<Received>>>,
}

async fn answer(State(mock): State<Mock>, request: Request) -> AxumResponse {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 64 * 1024).await.unwrap();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap().to_owned()))
        .collect();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let signature_verifies = parts
        .headers
        .get("authorization")
        .and_then(|value| AuthorizationHeader::parse(value.to_str().ok()?).ok())
        .is_some_and(|authorization| {
            let canonical = canonical_request(&CanonicalRequestInput {
                method: parts.method.as_str(),
                canonical_uri: &canonical_uri_from_wire(parts.uri.path()),
                canonical_query: &canonical_query_from_wire(&query),
                headers: &headers,
                signed_headers: &authorization.signed_headers,
                body: &body,
            });
            let to_sign = string_to_sign(authorization.algorithm, &canonical);
            verify(&mock.public_key, authorization.algorithm, &to_sign, &authorization.signature).is_ok()
        });
    let path = parts.uri.path().to_owned();
    mock.received.lock().unwrap().push(Received {
        method: parts.method.to_string(),
        path: path.clone(),
        query,
        body: String::from_utf8(body.to_vec()).unwrap(),
        signature_verifies,
    });
    if let Some(status) = mock.failing_status {
        let body = format!(r#"{{"reasonCode":"Status{status}","message":"scripted"}}"#);
        return AxumResponse::builder().status(status).body(Body::from(body)).unwrap();
    }
    let body = match (parts.method.as_str(), path.as_str()) {
        ("GET", "/v2/testHelpers/ipnEndpoint") => r#"{"url":"https://shop.example/ipn"}"#.to_owned(),
        // The endpoint as set: the body just received.
        ("PUT", "/v2/testHelpers/ipnEndpoint") => mock.received.lock().unwrap().last().unwrap().body.clone(),
        ("GET", "/v2/testHelpers/notifications") => format!(r#"{{"notifications":[{NOTIFICATION}]}}"#),
        ("POST", _) => NOTIFICATION.to_owned(),
        _ => return AxumResponse::builder().status(404).body(Body::empty()).unwrap(),
    };
    AxumResponse::builder().status(200).header("content-type", "application/json").body(Body::from(body)).unwrap()
}

struct Started {
    client: Client,
    received: Arc<Mutex<Vec<Received>>>,
    sleeper: Arc<RecordingSleeper>,
}

async fn start(failing_status: Option<u16>) -> Started {
    let pem =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec/vectors/test-key.pem"))
            .unwrap();
    let key = config::private_key_from_pem(&pem).unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let mock = Mock { public_key: key.public_key(), failing_status, received: received.clone() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(answer).with_state(mock);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sleeper = Arc::new(RecordingSleeper::default());
    let config = Config::new(Region::Na, Environment::Sandbox, "SANDBOX-MOCK", key)
        .service_url(&format!("http://{address}"))
        .unwrap()
        .sleeper(sleeper.clone());
    Started { client: Client::new(config).unwrap(), received, sleeper }
}

#[tokio::test]
async fn the_ipn_endpoint_is_read_set_and_cleared_with_signed_requests() {
    let mock = start(None).await;
    let endpoint = mock.client.get_ipn_endpoint().await.unwrap();
    assert_eq!(endpoint.url.as_deref(), Some("https://shop.example/ipn"));
    let set = mock.client.set_ipn_endpoint(&SetIpnEndpointRequest::new("http://127.0.0.1:8090/")).await.unwrap();
    assert_eq!(set.url.as_deref(), Some("http://127.0.0.1:8090/"));
    let cleared = mock.client.set_ipn_endpoint(&SetIpnEndpointRequest::clear()).await.unwrap();
    assert_eq!(cleared.url, None);

    let received = mock.received.lock().unwrap().clone();
    let sent: Vec<(&str, &str, &str)> =
        received.iter().map(|r| (r.method.as_str(), r.path.as_str(), r.body.as_str())).collect();
    assert_eq!(
        sent,
        [
            ("GET", "/v2/testHelpers/ipnEndpoint", ""),
            ("PUT", "/v2/testHelpers/ipnEndpoint", r#"{"url":"http://127.0.0.1:8090/"}"#),
            ("PUT", "/v2/testHelpers/ipnEndpoint", r#"{"url":null}"#),
        ]
    );
    assert!(received.iter().all(|r| r.signature_verifies), "{received:?}");
}

#[tokio::test]
async fn notifications_are_listed_with_a_signed_limit_and_read_typed() {
    let mock = start(None).await;
    let list = mock.client.list_notifications(Some(5)).await.unwrap();
    let all = mock.client.list_notifications(None).await.unwrap();
    assert_eq!(list, all);
    let [notification] = &list.notifications[..] else { panic!("{list:?}") };
    assert_eq!(notification.status, NotificationStatus::Pending);
    assert_eq!(notification.charge_permission_id, ChargePermissionId::parse("S01-1111111-1111111").unwrap());
    assert_eq!(notification.next_attempt_timestamp.as_deref(), Some("20261125T170010Z"));
    let [refused, failed] = &notification.attempts[..] else { panic!("{notification:?}") };
    assert_eq!((refused.status_code, refused.error.as_deref()), (None, Some("connection refused")));
    assert_eq!((failed.status_code, failed.latency_millis), (Some(500), 12));

    let received = mock.received.lock().unwrap().clone();
    let sent: Vec<(&str, &str)> = received.iter().map(|r| (r.path.as_str(), r.query.as_str())).collect();
    assert_eq!(sent, [("/v2/testHelpers/notifications", "limit=5"), ("/v2/testHelpers/notifications", "")]);
    assert!(received.iter().all(|r| r.signature_verifies), "the query is signed: {received:?}");
}

#[tokio::test]
async fn a_notification_is_redelivered_by_its_id_as_one_path_segment() {
    let mock = start(None).await;
    let notification = mock.client.redeliver_notification("2f1c7f5e-8d1a-4d7e-9d55-2f0b6f7d2a10").await.unwrap();
    assert_eq!(notification.notification_id, "2f1c7f5e-8d1a-4d7e-9d55-2f0b6f7d2a10");
    mock.client.redeliver_notification("a/b").await.unwrap();
    let received = mock.received.lock().unwrap().clone();
    let sent: Vec<(&str, &str)> = received.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
    assert_eq!(
        sent,
        [
            ("POST", "/v2/testHelpers/notifications/2f1c7f5e-8d1a-4d7e-9d55-2f0b6f7d2a10/redeliver"),
            ("POST", "/v2/testHelpers/notifications/a%2Fb/redeliver"),
        ]
    );
    assert!(received.iter().all(|r| r.signature_verifies), "{received:?}");
}

#[tokio::test]
async fn reads_are_retried_and_the_endpoint_change_and_redelivery_are_sent_once() {
    let mock = start(Some(503)).await;
    assert!(mock.client.list_notifications(Some(5)).is_retried());
    assert!(mock.client.get_ipn_endpoint().is_retried());
    let set = mock.client.set_ipn_endpoint(&SetIpnEndpointRequest::clear());
    assert!(!set.is_retried(), "PUT without a key");
    assert_eq!(set.await.unwrap_err().api().unwrap().status, 503);
    let redeliver = mock.client.redeliver_notification("n-1");
    assert!(!redeliver.is_retried(), "POST without a key");
    assert_eq!(redeliver.await.unwrap_err().api().unwrap().status, 503);
    assert!(mock.sleeper.0.lock().unwrap().is_empty(), "no waits: nothing was retried");

    assert_eq!(mock.client.list_notifications(Some(5)).await.unwrap_err().api().unwrap().status, 503);
    let received = mock.received.lock().unwrap().clone();
    let methods: Vec<&str> = received.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["PUT", "POST", "GET", "GET", "GET", "GET"], "the GET: one attempt and three retries");
    assert!(received[2..].iter().all(|r| r.query == "limit=5"), "every retry carries the query");
}
