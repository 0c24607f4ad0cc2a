//! Retries against a local mock server: which calls and statuses are retried, with what
//! waits, that every attempt carries the same idempotency key, and the paths calls are
//! sent to.

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amzpay_sdk::*;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response as AxumResponse;
use support::RecordingSleeper;

/// A status and an optional `Retry-After`.
type Answer = (u16, Option<&'static str>);

/// What the mock answers, in order; the last answer repeats.
#[derive(Clone)]
struct Script {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    /// The idempotency key of each request received.
    seen: Arc<Mutex<Vec<Option<String>>>>,
    /// The method and the path, as received, of each request.
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

async fn answer(State(script): State<Script>, request: Request) -> AxumResponse {
    let key = request.headers().get(IDEMPOTENCY_KEY_HEADER).map(|v| v.to_str().unwrap().to_owned());
    script.seen.lock().unwrap().push(key);
    script.requests.lock().unwrap().push((request.method().to_string(), request.uri().path().to_owned()));
    let (status, retry_after) = {
        let mut answers = script.answers.lock().unwrap();
        if answers.len() > 1 { answers.pop_front().unwrap() } else { *answers.front().unwrap() }
    };
    let body = if status < 300 {
        r#"{"chargeId":"S01-1111111-1111111-C000001","chargePermissionId":"S01-1111111-1111111","chargeAmount":{"amount":"1.00","currencyCode":"USD"},"statusDetails":{"state":"Authorized"}}"#.to_owned()
    } else {
        format!(r#"{{"reasonCode":"Status{status}","message":"scripted"}}"#)
    };
    let mut response = AxumResponse::builder().status(status).header("x-amz-pay-request-id", "req-1");
    if let Some(after) = retry_after {
        response = response.header("retry-after", after);
    }
    response.body(Body::from(body)).unwrap()
}

struct Mock {
    script: Script,
    sleeper: Arc<RecordingSleeper>,
    client: Client,
}

fn key() -> amzpay_sdk::signing::PrivateKey {
    let pem =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec/vectors/test-key.pem"))
            .unwrap();
    config::private_key_from_pem(&pem).unwrap()
}

async fn start_mock(answers: &[(u16, Option<&'static str>)]) -> Mock {
    let script = Script {
        answers: Arc::new(Mutex::new(answers.iter().copied().collect())),
        seen: Arc::default(),
        requests: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(answer).with_state(script.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sleeper = Arc::new(RecordingSleeper::default());
    let config = Config::new(Region::Na, Environment::Sandbox, "SANDBOX-MOCK", key())
        .service_url(&format!("http://{address}"))
        .unwrap()
        .sleeper(sleeper.clone());
    Mock { script, sleeper, client: Client::new(config).unwrap() }
}

fn charge_request() -> CreateChargeRequest {
    CreateChargeRequest::new(permission_id(), Price::parse("1.00", Currency::Usd).unwrap())
}

fn permission_id() -> ChargePermissionId {
    ChargePermissionId::parse("S01-1111111-1111111").unwrap()
}

fn charge_id() -> ChargeId {
    ChargeId::parse("S01-1111111-1111111-C000001").unwrap()
}

#[tokio::test]
async fn retryable_statuses_are_retried_with_growing_waits_and_one_idempotency_key() {
    for status in [408u16, 425, 429, 500, 502, 503, 504] {
        let mock = start_mock(&[(status, None), (status, None), (201, None)]).await;
        let charge = mock.client.create_charge(&charge_request()).await.unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(charge.charge_id, charge_id());
        let seen = mock.script.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3, "{status}: two retries");
        assert!(seen[0].as_ref().is_some_and(|k| k.len() == 32), "a generated key: {seen:?}");
        assert!(seen.iter().all(|k| *k == seen[0]), "{status}: the same key on every attempt: {seen:?}");
        let waits = mock.sleeper.0.lock().unwrap().clone();
        assert_eq!(waits.len(), 2);
        // Default policy: 2 s then 4 s, each jittered within its upper half.
        assert!(waits[0] >= Duration::from_secs(1) && waits[0] <= Duration::from_secs(2), "{waits:?}");
        assert!(waits[1] >= Duration::from_secs(2) && waits[1] <= Duration::from_secs(4), "{waits:?}");
    }
}

#[tokio::test]
async fn other_statuses_are_not_retried_and_come_back_typed() {
    for status in [400u16, 401, 403, 404, 409, 422] {
        let mock = start_mock(&[(status, None), (201, None)]).await;
        let error = mock.client.create_charge(&charge_request()).await.unwrap_err();
        let api = error.api().unwrap_or_else(|| panic!("{status}: {error}"));
        assert_eq!(api.status, status);
        assert_eq!(api.reason_code, ReasonCode::Other(format!("Status{status}")));
        assert_eq!(api.request_id.as_deref(), Some("req-1"));
        assert_eq!(mock.script.seen.lock().unwrap().len(), 1, "{status} is not retried");
        assert!(mock.sleeper.0.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn retry_after_is_honored_up_to_the_cap() {
    let mock = start_mock(&[(429, Some("7")), (503, Some("600")), (201, None)]).await;
    mock.client.create_charge(&charge_request()).await.unwrap();
    let waits = mock.sleeper.0.lock().unwrap().clone();
    assert_eq!(waits, vec![Duration::from_secs(7), RetryPolicy::default().max_delay]);
}

#[tokio::test]
async fn the_retry_bound_holds() {
    let mock = start_mock(&[(503, None)]).await;
    let error = mock.client.get_charge(&charge_id()).await.unwrap_err();
    assert_eq!(error.api().unwrap().status, 503);
    assert_eq!(mock.script.seen.lock().unwrap().len(), 4, "one attempt and three retries");
    let seen = mock.script.seen.lock().unwrap().clone();
    assert!(seen.iter().all(Option::is_none), "GET carries no idempotency key");
    let waits = mock.sleeper.0.lock().unwrap().clone();
    assert_eq!(waits.len(), 3);
    assert!(waits[2] >= Duration::from_secs(4) && waits[2] <= Duration::from_secs(8), "{waits:?}");

    let bounded = start_mock(&[(503, None)]).await;
    let client = Client::new(bounded.client.config().clone().retry_policy(RetryPolicy::none())).unwrap();
    assert!(client.get_charge(&charge_id()).await.is_err());
    assert_eq!(bounded.script.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn transport_failures_are_retried_then_reported_apart() {
    // A port that was just free: nothing listens, connections are refused.
    let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let sleeper = Arc::new(RecordingSleeper::default());
    let config = Config::new(Region::Na, Environment::Sandbox, "SANDBOX-MOCK", key())
        .service_url(&format!("http://{address}"))
        .unwrap()
        .sleeper(sleeper.clone());
    let error = Client::new(config).unwrap().create_charge(&charge_request()).await.unwrap_err();
    let Error::Transport(transport) = &error else { panic!("{error}") };
    assert!(transport.is_connect(), "{transport:?}");
    assert!(!transport.is_timeout());
    assert!(std::error::Error::source(transport).is_some(), "the HTTP library's error is kept as the source");
    assert_eq!(sleeper.0.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_caller_chosen_idempotency_key_is_sent_as_given() {
    let mock = start_mock(&[(500, None), (201, None)]).await;
    mock.client.create_charge(&charge_request()).idempotency_key("order-42").await.unwrap();
    let seen = mock.script.seen.lock().unwrap().clone();
    assert_eq!(seen, vec![Some("order-42".to_owned()), Some("order-42".to_owned())]);
}

#[tokio::test]
async fn calls_without_an_idempotency_key_that_change_something_are_sent_once() {
    let update = UpdateChargePermissionRequest::default();
    let close = CloseChargePermissionRequest::new("done");
    let client = client_for_cases();
    let cases: Vec<(&str, Call<serde_json::Value>)> = vec![
        ("update (PATCH)", client.update_charge_permission(&permission_id(), &update).into_json()),
        ("close (DELETE)", client.close_charge_permission(&permission_id(), &close).into_json()),
        ("cancel (DELETE)", client.cancel_charge(&charge_id(), &CancelChargeRequest::new("x")).into_json()),
        ("buyer action (POST)", client.buyer_action(&permission_id(), &BuyerAction::Close).into_json()),
        ("amazon action (POST)", client.amazon_action(&charge_id(), AmazonAction::Cancel).into_json()),
        ("raw POST", client.raw(Method::Post, &["testHelpers", "checkoutSessions", "x", "confirm"], None)),
    ];
    for (label, call) in cases {
        assert!(!call.is_retried(), "{label}");
    }
    for status in [500u16, 503, 429] {
        let mock = start_mock(&[(status, None)]).await;
        let update = mock.client.update_charge_permission(&permission_id(), &update).await.unwrap_err();
        assert_eq!(update.api().unwrap().status, status);
        let cancel = mock.client.cancel_charge(&charge_id(), &CancelChargeRequest::new("x")).await.unwrap_err();
        assert_eq!(cancel.api().unwrap().status, status);
        let requests = mock.script.requests.lock().unwrap().clone();
        let methods: Vec<&str> = requests.iter().map(|(method, _)| method.as_str()).collect();
        assert_eq!(methods, ["PATCH", "DELETE"], "{status}: each sent once");
        assert!(mock.sleeper.0.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_call_that_changes_something_is_retried_once_it_carries_a_key() {
    let mock = start_mock(&[(503, None), (200, None)]).await;
    let update = UpdateChargePermissionRequest::default();
    let call = mock.client.update_charge_permission(&permission_id(), &update).idempotency_key("update-1");
    assert!(call.is_retried());
    call.into_json().await.unwrap();
    assert_eq!(mock.script.seen.lock().unwrap().clone(), vec![Some("update-1".to_owned()); 2]);
}

#[tokio::test]
async fn the_clock_helpers_are_never_retried_not_even_with_a_key() {
    let mock = start_mock(&[(503, None), (200, None)]).await;
    let advance = mock.client.advance_clock(&AdvanceClockRequest::new(60)).idempotency_key("advance-1");
    assert!(!advance.is_retried());
    assert_eq!(advance.await.unwrap_err().api().unwrap().status, 503);
    assert!(!mock.client.freeze_clock().is_retried());
    assert!(!mock.client.unfreeze_clock().is_retried());
    assert!(mock.client.get_clock().is_retried(), "reading the clock is a GET");
    let requests = mock.script.requests.lock().unwrap().clone();
    assert_eq!(requests, [("POST".to_owned(), "/v2/testHelpers/clock/advance".to_owned())], "sent once");
    assert!(mock.sleeper.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_transport_failure_of_a_call_without_a_key_is_not_retried() {
    let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let sleeper = Arc::new(RecordingSleeper::default());
    let config = Config::new(Region::Na, Environment::Sandbox, "SANDBOX-MOCK", key())
        .service_url(&format!("http://{address}"))
        .unwrap()
        .sleeper(sleeper.clone());
    let client = Client::new(config).unwrap();
    let error = client.cancel_charge(&charge_id(), &CancelChargeRequest::new("x")).await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error}");
    assert!(sleeper.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn ids_are_sent_percent_encoded_as_one_path_segment() {
    let mock = start_mock(&[(404, None)]).await;
    let id = CheckoutSessionId::new("a/b c?d#e%f");
    mock.client.get_checkout_session(&id).await.unwrap_err();
    mock.client.raw(Method::Post, &["checkoutSessions", id.as_str(), "complete"], None).await.unwrap_err();
    let requests = mock.script.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        [
            ("GET".to_owned(), "/v2/checkoutSessions/a%2Fb%20c%3Fd%23e%25f".to_owned()),
            ("POST".to_owned(), "/v2/checkoutSessions/a%2Fb%20c%3Fd%23e%25f/complete".to_owned()),
        ]
    );
    let call = mock.client.get_charge(&charge_id());
    assert_eq!(call.path(), "/v2/charges/S01-1111111-1111111-C000001");
}

/// A client for checking calls that are never sent.
fn client_for_cases() -> Client {
    Client::new(Config::new(Region::Na, Environment::Sandbox, "SANDBOX-MOCK", key())).unwrap()
}
